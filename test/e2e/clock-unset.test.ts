// Time before the clock is set (OCPP 1.6 §4.2 BootNotification.conf currentTime): the compiled agent
// as a child process under libfaketime, its system clock at 1970 (a dead RTC cell) or in 2040, the
// CSMS down. An offline session must reach the CSMS, once it is back, with real timestamps in order;
// after the sync, a jump of the system clock must not move the timestamps sent. The kernel's
// monotonic clock stays real (FAKETIME_DONT_FAKE_MONOTONIC), as on a board with a wrong RTC.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DevCsms, type ReceivedCall } from '../../src/devtools/dev-csms.js';
import { AgentDatabase } from '../../src/store/database.js';
import { SqliteConfigurationRepo } from '../../src/store/configuration-repo.js';
import { spawnInGroup, stopGroup } from '../helpers/process-group.js';
import { waitFor } from '../helpers/wait.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/src/cli.js');
const SIM_CLI = join(ROOT, 'dist/hal/sim/sim-cli.js');
const LONG = 60_000;
/** Real time may pass between the test's reading and the agent's stamp; the wrong clocks are decades off. */
const SLACK_MS = 5_000;

beforeAll(() => {
  if (!existsSync(CLI) || !existsSync(SIM_CLI)) throw new Error('run `npx tsc` (or npm test) first: dist/ is missing');
  try {
    execFileSync('sh', ['-c', 'command -v faketime'], { stdio: 'ignore' });
  } catch {
    throw new Error('this test needs libfaketime: install the `faketime` package (.ci/run does)');
  }
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

/** A child process whose output is kept line by line. */
function spawnLogged(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, group = false): { child: ChildProcess; lines: string[] } {
  const child = (group ? spawnInGroup : spawn)(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
  const lines: string[] = [];
  let partial = '';
  const collect = (s: string): void => {
    const parts = (partial + s).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  };
  for (const s of [child.stdout!, child.stderr!]) {
    s.setEncoding('utf8');
    s.on('data', collect);
  }
  return { child, lines };
}

/** The system clock `offsetS` seconds off (libfaketime reads the file again on each call, so it can jump). */
function writeOffset(file: string, systemTime: number): void {
  const offsetS = Math.round((systemTime - Date.now()) / 1000);
  writeFileSync(file, `${offsetS >= 0 ? '+' : ''}${offsetS}\n`);
}

class Rig {
  readonly root = mkdtempSync(join(tmpdir(), 'ca-clock-'));
  readonly cpId = `CP-CLOCK-${process.pid}`;
  readonly timeFile = join(this.root, 'faketime');
  readonly csms = new DevCsms();
  sim: { child: ChildProcess; lines: string[] } | null = null;
  agent: { child: ChildProcess; lines: string[] } | null = null;

  /** CSMS started once (for its port) and stopped: the agent starts offline. */
  async prepare(): Promise<void> {
    await this.csms.start();
    await this.csms.stop();
    const dataDir = join(this.root, 'data');
    mkdirSync(dataDir, { mode: 0o700 });
    // Offline with an unknown card: the session is allowed; sampled every second into the queue.
    const db = new AgentDatabase(join(dataDir, 'charger-agent.db'));
    const repo = new SqliteConfigurationRepo(db);
    for (const [k, v] of [
      ['AllowOfflineTxForUnknownId', 'true'],
      ['MeterValueSampleInterval', '1'],
      ['MeterValuesSampledData', 'Energy.Active.Import.Register'],
      ['StopTxnSampledData', 'Energy.Active.Import.Register'],
    ] as const) {
      repo.save(k, v);
    }
    db.close();
    this.sim = spawnLogged(process.execPath, [SIM_CLI, '--quiet', '--time-scale', '20']);
    await waitFor(() => this.simPath() !== undefined, 15_000, 'the simulator pty');
    writeFileSync(
      join(this.root, 'config.json'),
      JSON.stringify({
        chargePointId: this.cpId,
        csms: { url: this.csms.url, securityProfile: 0, basicAuthPassword: null },
        controller: { port: this.simPath(), baudRate: 115200 },
        dataDir,
        diagnosticsSocket: join(this.root, 'diag.sock'),
        identity: { vendor: 'Acme', model: 'AC22', serialNumber: 'SN0042' },
        logLevel: 'info',
      }),
    );
  }

  private simPath(): string | undefined {
    return this.sim?.lines.map((l) => /^agent side: (.+)$/.exec(l)?.[1]).find((p) => p !== undefined);
  }

  /** The agent under libfaketime: the wrapper preloads the library, the file (not FAKETIME) sets the offset. */
  async startAgent(systemTime: number): Promise<void> {
    writeOffset(this.timeFile, systemTime);
    const env = { ...process.env, FAKETIME_TIMESTAMP_FILE: this.timeFile, FAKETIME_NO_CACHE: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' };
    const args = ['-m', '-f', '+0', 'env', '-u', 'FAKETIME', process.execPath, CLI, 'run', '--config', join(this.root, 'config.json')];
    // In its own process group: faketime forks, so only a signal to the group reaches the agent.
    this.agent = spawnLogged('faketime', args, env, true);
    await waitFor(() => this.alive() && this.agent!.lines.some((l) => l.includes('"controller link up"')), LONG, 'controller link up');
  }

  alive(): boolean {
    const a = this.agent!;
    if (a.child.exitCode !== null || a.child.signalCode !== null) throw new Error(`agent exited:\n${this.tail()}`);
    return true;
  }

  tail(): string {
    return (this.agent?.lines ?? []).slice(-30).join('\n');
  }

  /** Log lines of the agent with this message (JSON lines). */
  logged(msg: string): Array<Record<string, unknown>> {
    return (this.agent?.lines ?? []).flatMap((l) => {
      try {
        const o = JSON.parse(l) as Record<string, unknown>;
        return o['msg'] === msg ? [o] : [];
      } catch {
        return [];
      }
    });
  }

  send(command: string): void {
    this.sim!.child.stdin!.write(`${command}\n`);
  }

  calls(action: string, from = 0): ReceivedCall[] {
    return this.csms.received.slice(from).filter((c) => c.identity === this.cpId && c.action === action);
  }

  /** Waits until the simulator's connector 1 `state` line matches (the controller acts on the agent's commands). */
  async simState(re: RegExp, what: string): Promise<void> {
    const sim = this.sim!;
    await waitFor(
      () => {
        this.alive();
        const line = sim.lines.filter((l) => l.startsWith('connector 1: ')).at(-1);
        if (line !== undefined && re.test(line)) return true;
        this.send('state');
        return false;
      },
      LONG,
      what,
    );
  }

  /** Plug, card, charge: waits until the contactor closes. Returns the real time before it. */
  async beginSession(card: string): Promise<number> {
    const from = Date.now();
    this.send('plug 1');
    this.send(`card ${card}`);
    this.send('charge 1');
    await this.simState(/contactor closed/, 'charging (the transaction started)');
    return from;
  }

  /** Unplug: waits until the cable is gone. Returns the real time after it. */
  async endSession(): Promise<number> {
    this.send('unplug 1');
    await this.simState(/pilot A.*contactor open/, 'the cable gone');
    await sleep(500); // the agent sees the cable go and makes the Stop durable
    return Date.now();
  }

  /** One charging session of `chargeMs` (MeterValueSampleInterval is 1 s: a few samples). */
  async session(card: string, chargeMs: number): Promise<{ from: number; to: number }> {
    const from = await this.beginSession(card);
    await sleep(chargeMs);
    return { from, to: await this.endSession() };
  }

  async close(): Promise<void> {
    if (this.agent) await stopGroup(this.agent.child);
    const sim = this.sim;
    if (sim) {
      sim.child.stdin!.end();
      const timer = setTimeout(() => sim.child.kill('SIGKILL'), 5_000);
      await exitOf(sim.child);
      clearTimeout(timer);
    }
    await this.csms.stop().catch(() => undefined);
    rmSync(this.root, { recursive: true, force: true });
  }
}

const ms = (iso: unknown): number => Date.parse(String(iso));

function expectWithin(iso: unknown, range: { from: number; to: number }, what: string): void {
  const t = ms(iso);
  expect(t, `${what} ${String(iso)} within ${new Date(range.from).toISOString()}..${new Date(range.to).toISOString()}`).toBeGreaterThanOrEqual(range.from - SLACK_MS);
  expect(t, `${what} ${String(iso)} within ${new Date(range.from).toISOString()}..${new Date(range.to).toISOString()}`).toBeLessThanOrEqual(range.to + SLACK_MS);
}

/** Every timestamp of one transaction as the CSMS got it, checked real and in order. */
function expectRealAndOrdered(rig: Rig, from: number, range: { from: number; to: number }, nth: number): void {
  const start = rig.calls('StartTransaction', from)[nth]!;
  const stop = rig.calls('StopTransaction', from).find((c) => c.params['transactionId'] === start.transactionId)!;
  const meters = rig.calls('MeterValues', from).filter((c) => c.params['transactionId'] === start.transactionId);
  expectWithin(start.params['timestamp'], range, 'StartTransaction.timestamp');
  expectWithin(stop.params['timestamp'], range, 'StopTransaction.timestamp');
  const sampled = meters.flatMap((m) => (m.params['meterValue'] as Array<{ timestamp: string }>).map((v) => v.timestamp));
  expect(sampled.length, 'MeterValues sampled during the session').toBeGreaterThan(0);
  const data = ((stop.params['transactionData'] ?? []) as Array<{ timestamp: string }>).map((v) => v.timestamp);
  expect(data.length, 'StopTransaction.transactionData').toBeGreaterThan(0);
  for (const t of [...sampled, ...data]) expectWithin(t, range, 'meter value timestamp');
  const order = [start.params['timestamp'], ...sampled, stop.params['timestamp']].map(ms);
  expect(order, 'Start, MeterValues, Stop in time order').toEqual([...order].sort((a, b) => a - b));
  expect(ms(data[0]), 'transactionData begins at the Start').toBe(ms(start.params['timestamp']));
}

describe.each([
  { name: '1970 (a dead RTC cell)', system: Date.UTC(1970, 0, 1, 0, 5, 0), jumpTo: Date.UTC(2040, 0, 1) },
  { name: '2040 (an RTC years ahead)', system: Date.UTC(2040, 0, 1), jumpTo: Date.UTC(1970, 0, 1, 0, 5, 0) },
])('system clock at $name, CSMS down at start', ({ system, jumpTo }) => {
  let rig: Rig | null = null;
  afterEach(async () => {
    await rig?.close();
    rig = null;
  });

  it('offline sessions reach the CSMS with real timestamps once it is back; a later clock jump moves nothing', async () => {
    rig = new Rig();
    await rig.prepare();
    await rig.startAgent(system);
    const offline = await rig.session('A1B2C3D4', 3_000);
    // A second session starts offline and ends after the sync: its Begin value was stamped before it.
    const spanning = { from: await rig.beginSession('A2B2C3D4'), to: 0 };
    await sleep(2_000);

    await rig.csms.start(); // the CSMS is back: BootNotification.conf sets the clock
    await waitFor(() => rig!.alive() && rig!.calls('StartTransaction').length === 2, LONG, 'both queued StartTransactions').catch((err: unknown) => {
      throw new Error(`${String(err)}\nagent:\n${rig!.tail()}`);
    });
    // The log pipe and the WebSocket are two channels: wait for the line, then count it.
    await waitFor(() => rig!.logged('clock synced: provisional timestamps corrected').length > 0, LONG, 'the clock-synced log line');
    expect(rig.logged('clock synced: provisional timestamps corrected')).toHaveLength(1);
    await sleep(1_500);
    spanning.to = await rig.endSession();
    await waitFor(() => rig!.alive() && rig!.calls('StopTransaction').length === 2, LONG, 'both StopTransactions');
    expectRealAndOrdered(rig, 0, offline, 0);
    expectRealAndOrdered(rig, 0, spanning, 1);

    // After the sync, the board's clock jumps decades: what the agent sends does not move.
    const mark = rig.csms.received.length;
    writeOffset(rig.timeFile, jumpTo);
    const online = await rig.session('B1B2C3D4', 2_000);
    await waitFor(() => rig!.alive() && rig!.calls('StopTransaction', mark).length > 0, LONG, 'the StopTransaction after the jump');
    expectRealAndOrdered(rig, mark, online, 0);
  }, 180_000);
});
