// What the agent writes to stdout, from the compiled CLI as a real child process: JSON for
// journald when stdout is not a terminal, each key once and a module on every line; one
// warning per failed CSMS connection attempt; readable lines with --log-format pretty; and
// the demo's output holds no raw JSON log line among its narration.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DevCsms } from '../../src/devtools/dev-csms.js';
import { waitFor } from '../helpers/wait.js';
import { parseStrictJson } from '../platform/strict-json.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/src/cli.js');

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('run `npm run build` first (npm test does)');
});

interface Running {
  out: () => string;
  lines: () => string[];
  stop: () => Promise<number | null>;
}

/** `charger-agent run` on the simulated controller against `url`, stdout a pipe. */
function runAgent(url: string, extraArgs: string[] = []): Running {
  const dir = mkdtempSync(join(tmpdir(), 'ca-logging-'));
  const config = join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      chargePointId: 'CP-LOG',
      csms: { url, securityProfile: 0, basicAuthPassword: 'log-password-0123456789' },
      controller: { simulated: true },
      identity: { vendor: 'Acme', model: 'AC22' },
      dataDir: join(dir, 'data'),
      diagnosticsSocket: join(dir, 'run', 'diag.sock'),
      logLevel: 'debug',
    }),
  );
  const child = spawn(process.execPath, [CLI, 'run', '--config', config, ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return {
    out: () => out,
    lines: () => out.split('\n').filter((l) => l !== ''),
    stop: async () => {
      // Logged once the SIGTERM handler is in place.
      await waitFor(() => out.includes('agent running'), 15_000, 'agent running');
      child.kill('SIGTERM');
      const code = await exited;
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}

describe('charger-agent run: the log', { timeout: 60_000 }, () => {
  it('without a terminal: JSON lines, each key once, module and chargePointId on every one, secrets never', async () => {
    const csms = new DevCsms();
    await csms.start();
    const agent = runAgent(csms.url);
    try {
      await waitFor(() => csms.callsOf('StatusNotification').length >= 1, 15_000, 'boot');
      await waitFor(() => agent.out().includes('"module":"controller"'), 15_000, 'controller lines');
    } finally {
      expect(await agent.stop()).toBe(0);
      await csms.stop();
    }
    const parsed = agent.lines().map((l) => ({ line: l, ...parseStrictJson(l) }));
    expect(parsed.length).toBeGreaterThan(10);
    expect(parsed.filter((p) => p.duplicates.length > 0).map((p) => p.line)).toEqual([]);
    const records = parsed.map((p) => p.value as Record<string, unknown>);
    expect(records.filter((r) => typeof r['module'] !== 'string')).toEqual([]);
    expect(records.every((r) => r['chargePointId'] === 'CP-LOG')).toBe(true);
    // The modules a start-up touches, so the check above covered them.
    for (const m of ['agent', 'controller', 'ocpp', 'store', 'diagnostics']) expect(records.some((r) => r['module'] === m)).toBe(true);
    expect(agent.out()).not.toContain('log-password-0123456789');
  });

  it('one warning per failed connection attempt to the CSMS', async () => {
    // A port nobody listens on: every attempt fails with ECONNREFUSED.
    const probe = new DevCsms();
    await probe.start();
    const url = probe.url;
    await probe.stop();
    const agent = runAgent(url);
    const attempts = (): number => agent.lines().filter((l) => l.includes('"msg":"connecting"')).length;
    try {
      // The third attempt has started, so the first two have failed and been reported.
      await waitFor(() => attempts() >= 3, 30_000, 'three connection attempts');
    } finally {
      await agent.stop();
    }
    const records = agent.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    const firstThree: Array<Record<string, unknown>> = [];
    let seen = 0;
    for (const r of records) {
      if (r['msg'] === 'connecting') seen++;
      if (seen >= 3) break;
      firstThree.push(r);
    }
    const warnings = firstThree.filter((r) => r['level'] === 40);
    expect(warnings.map((w) => w['msg'])).toEqual(['CSMS connection problem', 'CSMS connection problem']);
    expect(warnings[0]).toMatchObject({ module: 'ocpp', kind: 'network', err: expect.stringContaining('ECONNREFUSED') });
  });

  it('with a terminal as stdout: readable lines without asking; --log-format json still forces JSON', async () => {
    const onTty = async (extra: string[]): Promise<{ code: number | null; lines: string[] }> => {
      const dir = mkdtempSync(join(tmpdir(), 'ca-tty-'));
      const config = join(dir, 'config.json');
      writeFileSync(
        config,
        JSON.stringify({
          chargePointId: 'CP-TTY',
          csms: { url: 'ws://127.0.0.1:9/ocpp', securityProfile: 0 },
          controller: { simulated: true },
          identity: { vendor: 'Acme', model: 'AC22' },
          dataDir: join(dir, 'data'),
          diagnosticsSocket: join(dir, 'run', 'diag.sock'),
        }),
      );
      const child = spawn('python3', [join(ROOT, 'test/e2e/run-on-tty.py'), process.execPath, CLI, 'run', '--config', config, ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      rmSync(dir, { recursive: true, force: true });
      // The terminal turns each \n into \r\n.
      return { code, lines: out.split(/\r?\n/).filter((l) => l !== '') };
    };
    const pretty = await onTty([]);
    expect(pretty.code).toBe(0);
    expect(pretty.lines.some((l) => / INFO  \[agent\] agent running version=/.test(l))).toBe(true);
    expect(pretty.lines.filter((l) => l.startsWith('{'))).toEqual([]);
    const json = await onTty(['--log-format', 'json']);
    expect(json.code).toBe(0);
    expect(json.lines.length).toBeGreaterThan(3);
    expect(json.lines.map((l) => JSON.parse(l) as Record<string, unknown>).some((r) => r['msg'] === 'agent running')).toBe(true);
  });

  it('--log-format pretty: readable lines (not JSON) with module and message', async () => {
    const csms = new DevCsms();
    await csms.start();
    const agent = runAgent(csms.url, ['--log-format', 'pretty']);
    try {
      await waitFor(() => csms.callsOf('StatusNotification').length >= 1, 15_000, 'boot');
      await waitFor(() => agent.out().includes('[controller]'), 15_000, 'controller lines');
    } finally {
      expect(await agent.stop()).toBe(0);
      await csms.stop();
    }
    const lines = agent.lines();
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) {
      expect(() => JSON.parse(line)).toThrow();
      expect(line).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) \[[a-z.-]+\] \S/);
    }
    expect(lines.some((l) => / INFO  \[agent\] agent running version=/.test(l))).toBe(true);
    expect(agent.out()).not.toContain('log-password-0123456789');
  });

  it('refuses an unknown --log-format with exit 2', async () => {
    const child = spawn(process.execPath, [CLI, 'run', '--config', '/nonexistent.json', '--log-format', 'xml'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(2);
    expect(err).toMatch(/--log-format must be json or pretty/);
  });
});

describe('charger-agent demo', { timeout: 120_000 }, () => {
  it('prints no raw JSON log line, on stdout or stderr, among its narration', async () => {
    const child = spawn(process.execPath, [CLI, 'demo', '--fast'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(0);
    expect(out).toMatch(/session complete/);
    expect(out.split('\n').filter((l) => l.startsWith('{'))).toEqual([]);
    // A warning the agent logs (such as a refused first connection attempt) comes as a readable line too.
    expect(err.split('\n').filter((l) => l.startsWith('{'))).toEqual([]);
    // The whole demo runs (as in demo.test.ts): ~7-10 s on a loaded 2-core machine, past 20 s when
    // two suites share it. The bound is a safety net for the child's exit, not a timing.
  }, 60_000);
});
