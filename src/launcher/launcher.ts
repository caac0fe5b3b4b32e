// The launcher: belongs to no release (installed in <root>/bin/), starts
// <root>/current/dist/src/cli.js with the given arguments, passes signals through, and guards
// the trial of a newly installed release (see trial.ts). Under systemd it exits with the
// agent's code and lets Restart=always start it again; in the foreground (--foreground, or
// not under systemd) it restarts the agent itself after a small back-off.
// Under systemd with no trial running (every start but the first ones after an update), the
// agent runs in the launcher's own process: a second Node process would cost its start-up
// (about 0.5 s on a Cortex-A7-class board) and its memory for nothing to supervise.
import { spawn } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readState, releaseDir } from './state.js';
import { fallbackPlan, planStart, rollBack, stillOnTrial, type StartPlan } from './trial.js';

const USAGE = `usage: launcher.js [options] [--] <agent arguments...>
  Starts <root>/current/dist/src/cli.js <agent arguments> (e.g. run --config FILE).
  --root DIR             install root (default: the directory above this file's bin/)
  --foreground           restart the agent after it exits (default when not under systemd)
  --trial-timeout SEC    a release on trial must mark itself healthy within this (default 600)
  --restart-delay MS     first back-off before a restart in the foreground (default 1000)`;

interface Options {
  root: string;
  foreground: boolean;
  trialTimeoutMs: number;
  restartDelayMs: number;
  agentArgs: string[];
}

function say(message: string): void {
  process.stderr.write(`launcher: ${message}\n`);
}

function parseArgs(argv: string[]): Options | string {
  const here = dirname(fileURLToPath(import.meta.url));
  const opts: Options = {
    root: resolve(here, '..'),
    // systemd sets INVOCATION_ID for every service it starts.
    foreground: !process.env['INVOCATION_ID'],
    trialTimeoutMs: 600_000,
    restartDelayMs: 1000,
    agentArgs: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string | null => (i + 1 < argv.length ? argv[++i]! : null);
    if (a === '--') {
      opts.agentArgs.push(...argv.slice(i + 1));
      break;
    } else if (a === '--root') {
      const v = value();
      if (v === null) return '--root needs a directory';
      opts.root = resolve(v);
    } else if (a === '--foreground') opts.foreground = true;
    else if (a === '--trial-timeout' || a === '--restart-delay') {
      const v = Number(value());
      if (!Number.isFinite(v) || v <= 0) return `${a} needs a positive number`;
      if (a === '--trial-timeout') opts.trialTimeoutMs = v * 1000;
      else opts.restartDelayMs = v;
    } else if (a === '--help' || a === '-h') return '';
    else {
      opts.agentArgs.push(...argv.slice(i));
      break;
    }
  }
  return opts;
}

const SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'];
const SIGNUM: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGUSR1: 10, SIGUSR2: 12, SIGTERM: 15 };

interface RunResult {
  code: number;
  /** The trial ran out of time (the agent was stopped for it). */
  timedOut: boolean;
}

/**
 * The module a release runs in the launcher's process, from its package.json
 * (`"launcher": { "inProcess": "dist/src/cli.js" }`: that module exports `main(argv)` and does
 * nothing on import). Null for a release that does not say so: it is started as a child.
 */
function inProcessEntry(releaseRoot: string): string | null {
  try {
    const pkg = JSON.parse(readFileSync(join(releaseRoot, 'package.json'), 'utf8')) as { launcher?: { inProcess?: unknown } };
    const entry = pkg.launcher?.inProcess;
    if (typeof entry !== 'string' || !/^[\w./-]+\.js$/.test(entry) || entry.split('/').includes('..')) return null;
    return join(releaseRoot, entry);
  } catch {
    return null;
  }
}

type AgentMain = (argv: string[]) => Promise<number>;

/**
 * The release's `main(argv)`, loaded into this process; null when the release cannot run so
 * (it is started as a child then), an exit code when its entry fails to load.
 */
async function loadInProcess(opts: Options, plan: StartPlan): Promise<AgentMain | number | null> {
  const entry = inProcessEntry(releaseDir(opts.root, plan.version));
  if (entry === null) return null;
  let agent: { main?: unknown };
  try {
    agent = (await import(pathToFileURL(entry).href)) as { main?: unknown };
  } catch (err) {
    say(`cannot load ${entry}: ${(err as Error).stack ?? String(err)}`);
    return 1;
  }
  if (typeof agent.main !== 'function') {
    say(`${entry} exports no main(argv): starting it as a child`);
    return null;
  }
  say(`starting ${plan.version} in this process`);
  process.env['CHARGER_AGENT_INSTALL_ROOT'] = opts.root;
  process.env['CHARGER_AGENT_RELEASE'] = plan.version;
  // WATCHDOG_PID names this process, which is now the agent's: it stays.
  return agent.main as AgentMain;
}

/** One run of the agent; resolves with its exit code (128+signal when killed). */
function runOnce(opts: Options, plan: StartPlan, stopping: { signal: NodeJS.Signals | null }): Promise<RunResult> {
  const { version, trial } = plan;
  // The release planned, not whatever `current` says now (a fallback may not have swapped it).
  const cli = join(releaseDir(opts.root, version), 'dist/src/cli.js');
  const env: NodeJS.ProcessEnv = { ...process.env, CHARGER_AGENT_INSTALL_ROOT: opts.root, CHARGER_AGENT_RELEASE: version };
  // systemd names the launcher in WATCHDOG_PID; the agent, which feeds the watchdog, checks it is meant.
  delete env['WATCHDOG_PID'];
  const child = spawn(process.execPath, [cli, ...opts.agentArgs], { stdio: 'inherit', env });
  let timedOut = false;
  const forward = (sig: NodeJS.Signals): void => {
    stopping.signal = sig === 'SIGTERM' || sig === 'SIGINT' ? sig : stopping.signal;
    child.kill(sig);
  };
  for (const sig of SIGNALS) process.on(sig, forward);
  const timers: NodeJS.Timeout[] = [];
  if (trial) {
    const poll = setInterval(() => {
      if (!stillOnTrial(opts.root, version)) {
        clearInterval(poll);
        clearTimeout(deadline);
        say(`release ${version} marked itself healthy`);
      }
    }, 500);
    const deadline = setTimeout(() => {
      clearInterval(poll);
      if (!stillOnTrial(opts.root, version)) return;
      say(`release ${version} did not mark itself healthy within ${opts.trialTimeoutMs / 1000} s: stopping it`);
      timedOut = true;
      child.kill('SIGTERM');
      timers.push(setTimeout(() => child.kill('SIGKILL'), 10_000));
    }, opts.trialTimeoutMs);
    timers.push(poll, deadline);
  }
  return new Promise((resolveRun) => {
    const done = (code: number): void => {
      for (const sig of SIGNALS) process.off(sig, forward);
      for (const t of timers) clearTimeout(t);
      resolveRun({ code, timedOut });
    };
    child.on('error', (err) => {
      say(`cannot start ${cli}: ${err.message}`);
      done(1);
    });
    child.on('exit', (code, signal) => done(code ?? 128 + (SIGNUM[signal ?? ''] ?? 1)));
  });
}

async function main(argv: string[]): Promise<number> {
  const opts = parseArgs(argv);
  if (typeof opts === 'string') {
    if (opts === '') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    say(opts);
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const stopping: { signal: NodeJS.Signals | null } = { signal: null };
  let wake: (() => void) | null = null;
  // Between runs a stop request ends the launcher at once (a back-off wait included); the other
  // signals are for the agent only.
  const early = (sig: NodeJS.Signals): void => {
    if (sig !== 'SIGTERM' && sig !== 'SIGINT') return;
    stopping.signal = sig;
    wake?.();
  };
  for (const sig of SIGNALS) process.on(sig, early);
  const backOff = (ms: number): Promise<void> =>
    new Promise((resolveWait) => {
      const timer = setTimeout(() => {
        wake = null;
        resolveWait();
      }, ms);
      wake = () => {
        clearTimeout(timer);
        wake = null;
        resolveWait();
      };
    });
  let delay = opts.restartDelayMs;
  for (;;) {
    let plan: StartPlan | null;
    try {
      plan = planStart(opts.root, say);
    } catch (err) {
      plan = fallbackPlan(opts.root);
      say(`${plan ? 'update state not handled' : 'cannot start'}: ${(err as Error).message}${plan ? `; starting ${plan.version} as it is` : ''}`);
    }
    if (plan === null) {
      if (!opts.foreground || stopping.signal !== null) return 1;
      await backOff(delay);
      delay = Math.min(delay * 2, 30_000);
      if (stopping.signal !== null) return 1;
      continue;
    }
    if (stopping.signal !== null) return 0;
    if (!opts.foreground && !plan.trial) {
      const agentMain = await loadInProcess(opts, plan);
      if (typeof agentMain === 'number') return agentMain;
      if (agentMain !== null) {
        // A stop asked for while the release loaded: it is not started.
        if (stopping.signal !== null) return 0;
        // The stop handlers stay: with none, a SIGTERM arriving before the agent's own handlers
        // are in place would kill the process outright. Signals reach JavaScript only between
        // tasks, and main() installs the agent's handlers before its first await, so any stop
        // from here on is seen by the agent. The other signals are the agent's alone.
        for (const sig of SIGNALS) if (sig !== 'SIGTERM' && sig !== 'SIGINT') process.off(sig, early);
        return agentMain(opts.agentArgs);
      }
    }
    const started = Date.now();
    const { code, timedOut } = await runOnce(opts, plan, stopping);
    if (timedOut) {
      try {
        const trial = readState(opts.root).trial;
        if (trial !== null && trial.version === plan.version) rollBack(opts.root, trial, `not marked healthy within ${opts.trialTimeoutMs / 1000} s`, say);
      } catch (err) {
        // The next start counts the trial again and rolls back once its starts are used up.
        say(`could not roll back: ${(err as Error).message}`);
      }
    }
    if (stopping.signal !== null) return code;
    if (!opts.foreground && !timedOut) return code;
    if (!opts.foreground) return 1;
    // A run that lasted a while resets the back-off; a crash loop slows down to 30 s.
    if (Date.now() - started > 60_000) delay = opts.restartDelayMs;
    say(`agent exited with code ${code}; restarting in ${delay} ms`);
    await backOff(delay);
    delay = Math.min(delay * 2, 30_000);
    if (stopping.signal !== null) return code;
  }
}

const isMain = process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
if (isMain) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      say(`failed: ${(err as Error).stack ?? String(err)}`);
      process.exit(1);
    },
  );
}
