// `--help` on every command of the compiled CLI, as a real child process: the usage on stdout,
// exit 0, and nothing else happens (no agent, no demo, no CSMS, no socket).
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/src/cli.js');

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('run `npm run build` first (npm test does)');
});

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 15_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('charger-agent --help', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--help'], /^usage: charger-agent <command>\n/],
    [['-h'], /^usage: charger-agent <command>\n/],
    [['help'], /^usage: charger-agent <command>\n/],
    [['run', '--help'], /^usage: charger-agent run --config FILE\n/],
    [['run', '--config', '/nonexistent.json', '--help'], /^usage: charger-agent run --config FILE\n/],
    [['demo', '--help'], /^usage: charger-agent demo /],
    [['demo', '--fast', '-h'], /^usage: charger-agent demo /],
    [['version', '--help'], /^usage: charger-agent version\n/],
    [['dev-csms', '--help'], /^usage: charger-agent dev-csms /],
    [['diag', '--help'], /^usage: charger-agent diag <command>/],
    [['diag', 'help'], /^usage: charger-agent diag <command>/],
    [['diag', 'status', '--help'], /^usage: charger-agent diag <command>/],
    [['diag', 'config', 'set', '--help'], /^usage: charger-agent diag <command>/],
    [['diag', 'logs', '--follow', '--help'], /^usage: charger-agent diag <command>/],
    [['diag', 'controller', 'ENABLE', '1', '16', '--force', '--help'], /^usage: charger-agent diag <command>/],
  ];
  /** What `<command> --help` prints: every other way of asking prints exactly the same. */
  const reference = (args: string[]): string => cli(args[0] === 'diag' || args[0] === 'run' || args[0] === 'demo' || args[0] === 'version' || args[0] === 'dev-csms' ? [args[0], '--help'] : ['--help']).stdout;
  for (const [args, usage] of cases) {
    it(`${args.join(' ')}: usage, exit 0, nothing started`, () => {
      // A socket nobody listens on: were diag to act instead of helping, it would exit 3.
      const r = cli([...args, ...(args[0] === 'diag' ? ['--socket', '/nonexistent/diag.sock'] : [])]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(usage);
      // Nothing ran: the output is the usage alone (no log line, no demo narration, no CSMS URL).
      expect(r.stdout).toBe(reference(args));
    });
  }

  it('the top-level usage names every command and how to get help on one', () => {
    const { stdout } = cli(['--help']);
    for (const command of ['run', 'demo', 'diag', 'dev-csms', 'version']) expect(stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    expect(stdout).toMatch(/charger-agent <command> --help/);
  });

  it('version without --help still prints the version', () => {
    const r = cli(['version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
