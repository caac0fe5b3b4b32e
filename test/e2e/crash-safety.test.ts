// Crash safety (issue 4 "Crash and power-loss safety", OCPP 1.6 §4.10 / §3.16 offline queue): the
// compiled agent as a child process killed with SIGKILL at random instants of sessions and of queue
// replay, the simulator in its own process (the EV and its register outlive the agent like hardware),
// the DevCsms here. Checks resume/Reboot-stop, exactly-once delivery in order, PRAGMA integrity_check.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DevCsms, type DevCsmsOptions, type ReceivedCall } from '../../src/devtools/dev-csms.js';
import { DiagClient } from '../../src/diagnostics/client.js';
import { waitFor } from '../helpers/wait.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/src/cli.js');
const SIM_CLI = join(ROOT, 'dist/hal/sim/sim-cli.js');
/** Random kills of scenario d; the default keeps the file well under 90 s on a busy 2-core machine. */
const ITERATIONS = Number(process.env['CRASH_ITERATIONS'] ?? 10);
/** Reproduce a run with the seed it printed. */
const SEED = Number(process.env['CRASH_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const LONG = 30_000;

beforeAll(() => {
  if (!existsSync(CLI) || !existsSync(SIM_CLI)) throw new Error('run `npx tsc` (or npm test) first: dist/ is missing');
  console.info(`crash-safety: CRASH_SEED=${SEED} CRASH_ITERATIONS=${ITERATIONS}`);
});

/** mulberry32: small seeded PRNG so a failing run can be replayed. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

/** Stops a child politely, SIGKILL after a grace period. */
async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = exitOf(child);
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

// --- the simulator process: the hardware that outlives the agent ------------------------------

interface ConnectorView {
  pilot: string;
  enabled: boolean;
  /** The controller's watchdog limited the connector (no frame from the agent for WATCHDOG_MS). */
  fallback: boolean;
  energyWh: number;
}

class SimProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly agentPath: string,
    /** Everything sim-cli printed, line by line. */
    private readonly lines: string[],
  ) {}

  static async start(): Promise<SimProcess> {
    // Energy 20x faster so registers move visibly within a short session; the watchdog
    // (2 s, the agent pings every second) fires soon after the agent dies.
    const args = [SIM_CLI, '--quiet', '--time-scale', '20', '--watchdog-ms', '2000'];
    const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let partial = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (s: string) => {
      const parts = (partial + s).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts);
    });
    let err = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => (err += s));
    let path: string | undefined;
    await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`sim-cli exited: ${err}`);
        path = lines.map((l) => /^agent side: (.+)$/.exec(l)?.[1]).find((p) => p !== undefined);
        return path !== undefined;
      },
      15_000,
      'the simulator pty',
    );
    return new SimProcess(child, path!, lines);
  }

  send(command: string): void {
    this.child.stdin!.write(`${command}\n`);
  }

  /** Connector 1 as the simulator sees it (`state` command). */
  async connector(): Promise<ConnectorView> {
    const isState = (l: string): boolean => l.startsWith('connector 1: pilot ');
    const before = this.lines.filter(isState).length;
    this.send('state');
    await waitFor(() => this.lines.filter(isState).length > before, 10_000, 'simulator state');
    const line = this.lines.filter(isState).at(-1)!;
    const m = /pilot (\w), .*?(enabled|disabled).*, (\d+) Wh/.exec(line);
    if (!m) throw new Error(`unexpected simulator state line: ${line}`);
    return { pilot: m[1]!, enabled: m[2] === 'enabled', fallback: line.includes('(fallback)'), energyWh: Number(m[3]) };
  }

  async stop(): Promise<void> {
    // Ending stdin makes sim-cli close its pty relay itself (a SIGKILL would orphan socat).
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exitOf(this.child);
    clearTimeout(timer);
  }
}

// --- the rig: CSMS, simulator, agent process, connection segments ----------------------------

/** One WebSocket connection of the agent as the CSMS saw it: received[from, to). */
interface Segment {
  from: number;
  to: number | null;
}

const TX_ACTIONS = new Set(['StartTransaction', 'MeterValues', 'StopTransaction']);

class Rig {
  readonly segments: Segment[] = [];
  readonly cpId = `CP-CRASH-${process.pid}`;
  readonly dataDir: string;
  readonly dbPath: string;
  agent: ChildProcess | null = null;
  kills = 0;
  /** CSMS outages: like a kill, one may cut a message between its reception and its answer. */
  outages = 0;
  private agentLog: string[] = [];
  private readonly configFile: string;
  private readonly diagSocket: string;
  private readonly root: string;

  private constructor(
    readonly csms: DevCsms,
    readonly sim: SimProcess,
  ) {
    this.root = mkdtempSync(join(tmpdir(), 'ca-crash-'));
    this.dataDir = join(this.root, 'data');
    this.dbPath = join(this.dataDir, 'charger-agent.db');
    this.configFile = join(this.root, 'config.json');
    this.diagSocket = join(this.root, 'diag.sock');
    writeFileSync(
      this.configFile,
      JSON.stringify({
        chargePointId: this.cpId,
        csms: { url: csms.url, securityProfile: 0, basicAuthPassword: null },
        controller: { port: sim.agentPath, baudRate: 115200 },
        dataDir: this.dataDir,
        diagnosticsSocket: this.diagSocket,
        identity: { vendor: 'Acme', model: 'AC22', serialNumber: 'SN0042' },
        logLevel: 'info',
      }),
    );
    csms.on('connect', (id) => {
      if (id === this.cpId) this.segments.push({ from: csms.received.length, to: null });
    });
    csms.on('disconnect', (id) => {
      const s = this.segments.at(-1);
      if (id === this.cpId && s && s.to === null) s.to = csms.received.length;
    });
  }

  static async start(csmsOptions: DevCsmsOptions = {}): Promise<Rig> {
    const csms = new DevCsms({ sameIdForRetransmittedStart: true, ...csmsOptions });
    await csms.start();
    const sim = await SimProcess.start().catch(async (err: unknown) => {
      await csms.stop();
      throw err;
    });
    return new Rig(csms, sim);
  }

  private csmsRunning = true;

  /** Spawns the agent; waits for the controller link and, with the CSMS up, for Boot and a connector status. */
  async startAgent(): Promise<void> {
    const segmentsBefore = this.segments.length;
    const child = spawn(process.execPath, [CLI, 'run', '--config', this.configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.agent = child;
    const log: string[] = [];
    this.agentLog = log;
    let partial = '';
    const collect = (s: string): void => {
      const parts = (partial + s).split('\n');
      partial = parts.pop() ?? '';
      log.push(...parts);
      if (log.length > 400) log.splice(0, log.length - 400);
    };
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', collect);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', collect);
    const alive = (): void => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`agent exited:\n${log.slice(-30).join('\n')}`);
    };
    // `agent running`: started, its diagnostics socket included (it opens after the CSMS connection).
    await waitFor(() => (alive(), log.some((l) => l.includes('"agent running"'))), LONG, 'agent running');
    if (!this.csmsRunning) return;
    await waitFor(
      () => {
        alive();
        const seg = this.segments[segmentsBefore];
        if (!seg) return false;
        const calls = this.csms.received.slice(seg.from, seg.to ?? undefined);
        return calls.some((c) => c.action === 'StatusNotification' && c.params.connectorId === 1);
      },
      LONG,
      'BootNotification and connector status',
    ).catch((err: unknown) => {
      const calls = this.csms.received.slice(-6).map((c) => `${c.action} ${JSON.stringify(c.params).slice(0, 160)}`);
      throw new Error(`${String(err)}\nconnections ${JSON.stringify(this.segments.slice(-3))} (${segmentsBefore} before)\nCSMS got:\n${calls.join('\n')}\nagent:\n${this.tail()}`);
    });
  }

  /** SIGKILL, then the database (a copy, so the agent itself recovers the real one) passes integrity_check. */
  async kill(): Promise<void> {
    const child = this.agent;
    if (!child) return;
    child.kill('SIGKILL');
    await exitOf(child);
    this.agent = null;
    this.kills++;
    if (this.csmsRunning) await waitFor(() => !this.csms.isConnected(this.cpId), LONG, 'the CSMS sees the socket close');
    expect(integrityOfCopy(this.dbPath), `integrity_check after kill ${this.kills} (CRASH_SEED=${SEED})`).toBe('ok');
  }

  /** SIGKILL as soon as the CSMS has received `count` more transaction messages, `delayMs` later (0: before it answers). */
  armKill(count: number, delayMs: number): { fired: () => boolean; disarm: () => void } {
    let seen = 0;
    let fired = false;
    const target = this.agent;
    const onCall = (c: ReceivedCall): void => {
      if (c.identity !== this.cpId || !TX_ACTIONS.has(c.action) || ++seen < count) return;
      this.csms.off('call', onCall);
      fired = true;
      // Synchronously here: the CSMS has the message but has not answered yet.
      if (delayMs === 0) target?.kill('SIGKILL');
      else setTimeout(() => target?.kill('SIGKILL'), delayMs);
    };
    this.csms.on('call', onCall);
    return { fired: () => fired, disarm: () => this.csms.off('call', onCall) };
  }

  async stopCsms(): Promise<void> {
    this.csmsRunning = false;
    this.outages++;
    await this.csms.stop();
    await waitFor(() => !this.csms.isConnected(this.cpId), LONG, 'CSMS down');
  }

  async startCsms(): Promise<void> {
    await this.csms.start();
    this.csmsRunning = true;
  }

  async configure(): Promise<void> {
    const keys: Array<[string, string]> = [
      ['AllowOfflineTxForUnknownId', 'true'], // LocalAuthorizeOffline is true by default
      ['MeterValueSampleInterval', '1'],
      ['MeterValuesSampledData', 'Energy.Active.Import.Register'],
      ['StopTxnSampledData', 'Energy.Active.Import.Register'],
    ];
    for (const [key, value] of keys) {
      expect(await this.csms.call(this.cpId, 'ChangeConfiguration', { key, value })).toEqual({ status: 'Accepted' });
    }
  }

  /** One diagnostics request to the running agent. */
  private async ask(command: string): Promise<unknown> {
    const { client } = await DiagClient.connect(this.diagSocket);
    try {
      return await client.request(command);
    } finally {
      client.close();
    }
  }

  private async waitDiag(cond: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + LONG;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\nagent:\n${this.tail()}`);
      await sleep(50);
    }
  }

  /** Transaction messages waiting in the agent's outbox, stored or in memory. */
  async queueDepth(): Promise<number> {
    return ((await this.ask('status')) as { queueDepth: number }).queueDepth;
  }

  /** Waits until the agent's outbox holds at least `depth` messages (offline, it only grows). */
  async waitQueueDepth(depth: number): Promise<void> {
    await this.waitDiag(async () => (await this.queueDepth()) >= depth, `${depth} queued transaction messages`);
  }

  /** Waits until the agent's store holds `count` stopped transactions (asked over its diagnostics socket). */
  async waitStoredStops(count: number): Promise<void> {
    const stored = async (): Promise<number> => {
      const answer = (await this.ask('transactions')) as { transactions: Array<{ stoppedAt: string | null }> };
      return answer.transactions.filter((t) => t.stoppedAt !== null).length;
    };
    await this.waitDiag(async () => (await stored()) >= count, `${count} stopped transactions on disk`);
  }

  /** The agent's last log lines, without the reconnect attempts that fill it while the CSMS is down. */
  tail(): string {
    const noise = /"msg":"(connecting|connection closed, reconnecting|CSMS connection problem)"/;
    return this.agentLog.filter((l) => !noise.test(l)).slice(-40).join('\n');
  }

  async close(): Promise<void> {
    if (this.agent) await stopChild(this.agent, 'SIGKILL');
    this.agent = null;
    await this.sim.stop();
    await this.csms.stop();
    rmSync(this.root, { recursive: true, force: true });
  }
}

function integrityOfCopy(dbPath: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ca-crash-check-'));
  try {
    const copy = join(dir, 'copy.db');
    copyFileSync(dbPath, copy);
    if (existsSync(`${dbPath}-wal`)) copyFileSync(`${dbPath}-wal`, `${copy}-wal`);
    const db = new Database(copy);
    try {
      return String(db.pragma('integrity_check', { simple: true }));
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Opens the real database after the agent is gone: what is still queued or unreported. */
function leftovers(dbPath: string): { integrity: string; outbox: number; unreported: number } {
  const db = new Database(dbPath);
  try {
    return {
      integrity: String(db.pragma('integrity_check', { simple: true })),
      // Transaction messages only: the StartupOfTheDevice of the last start may still wait behind them when the agent is stopped.
      outbox: (db.prepare("SELECT COUNT(*) AS n FROM outbox WHERE kind != 'SecurityEventNotification'").get() as { n: number }).n,
      unreported: (db.prepare('SELECT COUNT(*) AS n FROM transactions WHERE reported = 0').get() as { n: number }).n,
    };
  } finally {
    db.close();
  }
}

// --- what the CSMS received -------------------------------------------------------------------

interface TxRecord {
  id: number;
  start: ReceivedCall;
  startAt: number;
  meters: ReceivedCall[];
  stop: ReceivedCall | null;
  stopAt: number;
}

interface DeliveryReport {
  transactions: TxRecord[];
  /** Identical retransmissions of the message in flight when a connection died. */
  retransmissions: number;
}

function registerOf(mv: unknown): number | null {
  const sv = (mv as { sampledValue?: Array<{ value: string; measurand?: string }> }).sampledValue ?? [];
  const e = sv.find((v) => (v.measurand ?? 'Energy.Active.Import.Register') === 'Energy.Active.Import.Register');
  return e ? Number(e.value) : null;
}

/**
 * Exactly-once and order over everything the CSMS received from the agent. A message received
 * twice must be an identical retransmission: the first transaction message of a connection,
 * equal to the last transaction message of the connection before (the one in flight when that
 * connection died, OCPP 1.6 has no idempotency key). Then, over first receptions only: each
 * transaction is Start, its MeterValues, Stop, with one connector one transaction after the other;
 * registers never go down; every periodic sample in a Stop's transactionData was sent as MeterValues.
 */
function checkDelivery(rig: Rig): DeliveryReport {
  const { csms, cpId, segments } = rig;
  const seen = new Set<string>();
  const firsts: Array<{ call: ReceivedCall; at: number }> = [];
  let lastKey: string | null = null;
  let retransmissions = 0;
  segments.forEach((seg, si) => {
    let firstInSegment = true;
    for (let i = seg.from; i < (seg.to ?? csms.received.length); i++) {
      const call = csms.received[i]!;
      if (call.identity !== cpId || !TX_ACTIONS.has(call.action)) continue;
      const key = `${call.action} ${JSON.stringify(call.params)}`;
      if (seen.has(key)) {
        expect(firstInSegment && key === lastKey, `${key} received again (#${i}, connection ${si}) but it is not the retransmission of the message in flight when the previous connection died`).toBe(true);
        retransmissions++;
      } else {
        seen.add(key);
        firsts.push({ call, at: i });
      }
      lastKey = key;
      firstInSegment = false;
    }
  });

  const txs = new Map<number, TxRecord>();
  let current: TxRecord | null = null;
  for (const { call, at } of firsts) {
    if (call.action === 'StartTransaction') {
      if (current) expect(current.stop, `StartTransaction #${at} while transaction ${current.id} has no Stop yet (one connector)`).not.toBeNull();
      const id = call.transactionId!;
      expect(txs.has(id), `transactionId ${id} answered to two different StartTransactions`).toBe(false);
      if (current) expect(id).toBeGreaterThan(current.id);
      current = { id, start: call, startAt: at, meters: [], stop: null, stopAt: -1 };
      txs.set(id, current);
      continue;
    }
    const id = call.params.transactionId as number;
    const tx = txs.get(id);
    expect(tx, `${call.action} #${at} for transaction ${id} before its StartTransaction`).toBeDefined();
    expect(tx!.stop, `${call.action} #${at} after the StopTransaction of ${id}`).toBeNull();
    if (call.action === 'MeterValues') tx!.meters.push(call);
    else {
      tx!.stop = call;
      tx!.stopAt = at;
    }
  }

  for (const tx of txs.values()) {
    expect(tx.stop, `transaction ${tx.id} never got its StopTransaction`).not.toBeNull();
    const meterStart = tx.start.params.meterStart as number;
    const meterStop = tx.stop!.params.meterStop as number;
    let last = meterStart;
    for (const mv of tx.meters.flatMap((m) => m.params.meterValue as unknown[])) {
      const r = registerOf(mv);
      if (r === null) continue;
      expect(r, `register of transaction ${tx.id} went down`).toBeGreaterThanOrEqual(last);
      last = r;
    }
    expect(meterStop, `meterStop of transaction ${tx.id} below its last sampled register`).toBeGreaterThanOrEqual(last);
    const sent = new Set(tx.meters.flatMap((m) => (m.params.meterValue as Array<{ timestamp: string }>).map((v) => v.timestamp)));
    const periodic = ((tx.stop!.params.transactionData ?? []) as Array<{ timestamp: string; sampledValue: Array<{ context?: string }> }>).filter(
      (v) => v.sampledValue.some((s) => s.context === 'Sample.Periodic'),
    );
    for (const v of periodic) expect(sent.has(v.timestamp), `sample ${v.timestamp} of transaction ${tx.id} never sent as MeterValues`).toBe(true);
  }
  return { transactions: [...txs.values()], retransmissions };
}

function txCalls(rig: Rig, action: string): ReceivedCall[] {
  return rig.csms.received.filter((c) => c.identity === rig.cpId && c.action === action);
}

/** Transactions the CSMS got a StopTransaction for (a retransmitted Stop counts once). */
function stoppedIds(rig: Rig): Set<number> {
  return new Set(txCalls(rig, 'StopTransaction').map((c) => c.params.transactionId as number));
}

// --- scenarios --------------------------------------------------------------------------------

describe('crash safety: kill -9 of the agent process', () => {
  let rig: Rig | null = null;
  afterEach(async () => {
    await rig?.close();
    rig = null;
  });

  it('a. killed mid-session, EV still plugged in: the same transaction goes on after each restart', async () => {
    rig = await Rig.start();
    await rig.startAgent();
    await rig.configure();
    rig.sim.send('plug 1');
    rig.sim.send('card A1B2C3D4');
    rig.sim.send('charge 1');
    await waitFor(() => txCalls(rig!, 'MeterValues').length >= 2, LONG, 'two MeterValues');
    const id = txCalls(rig, 'StartTransaction')[0]!.transactionId!;
    const registers = (): number[] => txCalls(rig!, 'MeterValues').flatMap((c) => (c.params.meterValue as unknown[]).map((v) => registerOf(v) ?? 0));

    // Restarted at once: the contactor never opened.
    await rig.kill();
    const mark = rig.csms.received.length;
    await rig.startAgent();
    await waitFor(() => rig!.csms.received.slice(mark).filter((c) => c.action === 'MeterValues').length >= 2, LONG, 'MeterValues after the restart');

    // Down long enough for the controller's watchdog to cut the current: the restart must enable it again.
    await rig.kill();
    await pollSim(rig, (v) => v.fallback, 'the controller watchdog');
    const cut = (await rig.sim.connector()).energyWh;
    await rig.startAgent();
    await waitFor(() => registers().some((r) => r > cut), LONG, 'energy flowing again after the restart');
    const lastSeen = Math.max(...registers());
    rig.sim.send('unplug 1');
    await waitFor(() => txCalls(rig!, 'StopTransaction').length >= 1, LONG, 'StopTransaction');

    expect(txCalls(rig, 'StartTransaction')).toHaveLength(1);
    for (const mv of txCalls(rig, 'MeterValues')) expect(mv.params.transactionId).toBe(id);
    const stop = txCalls(rig, 'StopTransaction')[0]!.params;
    expect(stop).toMatchObject({ transactionId: id, reason: 'EVDisconnected' });
    expect(stop.meterStop as number).toBeGreaterThanOrEqual(lastSeen);
    checkDelivery(rig);
    expect(rig.csms.strictFailures).toEqual([]);
  }, 90_000);

  it('b. killed mid-session, EV unplugged while the agent is down: stopped with Reboot and the register at restart', async () => {
    rig = await Rig.start();
    await rig.startAgent();
    await rig.configure();
    rig.sim.send('plug 1');
    rig.sim.send('card B1B2C3D4');
    rig.sim.send('charge 1');
    await waitFor(() => txCalls(rig!, 'MeterValues').length >= 1, LONG, 'MeterValues');
    const id = txCalls(rig, 'StartTransaction')[0]!.transactionId!;
    const killedAt = Date.now();

    await rig.kill();
    rig.sim.send('unplug 1');
    const view = await rig.sim.connector();
    expect(view.pilot).toBe('A');
    await rig.startAgent();
    await waitFor(() => txCalls(rig!, 'StopTransaction').length >= 1, LONG, 'StopTransaction');

    expect(txCalls(rig, 'StartTransaction')).toHaveLength(1);
    const stop = txCalls(rig, 'StopTransaction')[0]!.params;
    // Same kernel boot: the agent restarted, the power did not go.
    expect(stop).toMatchObject({ transactionId: id, reason: 'Reboot', meterStop: view.energyWh });
    expect(Date.parse(stop.timestamp as string)).toBeGreaterThanOrEqual(killedAt - 1_000);
    checkDelivery(rig);
  }, 90_000);

  it('b2. as b, but after another kernel boot (power loss): stopped with PowerLoss at the last known instant', async () => {
    rig = await Rig.start();
    await rig.startAgent();
    await rig.configure();
    rig.sim.send('plug 1');
    rig.sim.send('card B2B2C3D4');
    rig.sim.send('charge 1');
    await waitFor(() => txCalls(rig!, 'MeterValues').length >= 1, LONG, 'MeterValues');
    const start = txCalls(rig, 'StartTransaction')[0]!;
    const killedAt = Date.now();

    await rig.kill();
    rig.sim.send('unplug 1');
    const view = await rig.sim.connector();
    // A power cut is a new kernel boot: the transaction was recorded under another boot_id.
    const db = new Database(rig.dbPath);
    try {
      expect(db.prepare("UPDATE transactions SET boot_id = 'boot-before-the-power-cut' WHERE stopped_at IS NULL").run().changes).toBe(1);
    } finally {
      db.close();
    }
    await rig.startAgent();
    await waitFor(() => txCalls(rig!, 'StopTransaction').length >= 1, LONG, 'StopTransaction');

    const stop = txCalls(rig, 'StopTransaction')[0]!.params;
    expect(stop).toMatchObject({ transactionId: start.transactionId, reason: 'PowerLoss', meterStop: view.energyWh });
    // Nothing after the start was written (MeterValues were acknowledged from memory): the start is the best known time.
    const stoppedAt = Date.parse(stop.timestamp as string);
    expect(stoppedAt).toBeGreaterThanOrEqual(Date.parse(start.params.timestamp as string));
    expect(stoppedAt).toBeLessThanOrEqual(killedAt);
    checkDelivery(rig);
  }, 90_000);

  it('c. sessions while the CSMS is down, kill -9 at random instants of the replay: every transaction arrives once, in order', async () => {
    const random = seededRandom(SEED);
    rig = await Rig.start();
    await rig.startAgent();
    await rig.configure();
    await rig.stopCsms();

    const SESSIONS = 3;
    for (let s = 0; s < SESSIONS; s++) {
      const depth = await rig.queueDepth();
      rig.sim.send('plug 1');
      rig.sim.send(`card C0C0C0${s.toString(16).padStart(2, '0')}`);
      rig.sim.send('charge 1');
      // ENABLE follows the durable Start: the offline transaction is on disk once the simulator is enabled.
      await pollSim(rig, (v) => v.enabled, 'offline transaction started');
      // The Start and two periodic samples (1 s apart) queued: however slow the machine, the session has samples.
      await rig.waitQueueDepth(depth + 3);
      rig.sim.send('unplug 1');
      await pollSim(rig, (v) => !v.enabled, 'offline transaction disabled');
      // The Stop is on disk once the register read after the contactor opened is in, just after the DISABLE.
      await rig.waitStoredStops(s + 1);
    }
    // Killed while offline too; the restarted agent connects at once instead of waiting out its backoff.
    await rig.kill();
    await rig.startCsms();
    await rig.startAgent();

    let replayKills = 0;
    for (let round = 0; round < 12; round++) {
      const done = (): boolean => stoppedIds(rig!).size >= SESSIONS;
      if (done()) break;
      const trap = rig.armKill(1 + Math.floor(random() * 4), random() < 0.4 ? 0 : Math.floor(random() * 6));
      await waitFor(() => trap.fired() || done(), LONG, 'replay progress');
      trap.disarm();
      if (!trap.fired()) break;
      await rig.kill();
      replayKills++;
      await rig.startAgent();
    }
    await waitFor(() => stoppedIds(rig!).size >= SESSIONS, LONG, 'every StopTransaction');

    const report = checkDelivery(rig);
    expect(report.transactions).toHaveLength(SESSIONS);
    for (const tx of report.transactions) {
      expect(tx.stop!.params.reason).toBe('EVDisconnected');
      // Offline, nothing was lost to the write-behind: every sample of the session reached the CSMS.
      const periodic = ((tx.stop!.params.transactionData ?? []) as Array<{ sampledValue: Array<{ context?: string }> }>).filter((v) =>
        v.sampledValue.some((x) => x.context === 'Sample.Periodic'),
      );
      expect(tx.meters.length).toBeGreaterThanOrEqual(1);
      expect(tx.meters.flatMap((m) => m.params.meterValue as unknown[]).length).toBe(periodic.length);
    }
    expect(report.retransmissions).toBeLessThanOrEqual(replayKills + 1);
    console.info(`c: ${replayKills} kills during the replay, ${report.retransmissions} retransmission(s)`);

    await stopChild(rig.agent!);
    rig.agent = null;
    expect(leftovers(rig.dbPath)).toEqual({ integrity: 'ok', outbox: 0, unreported: 0 });
    expect(rig.csms.strictFailures).toEqual([]);
  }, 150_000);

  it('e. SIGTERM in the instant the CSMS takes a StopTransaction it answers a moment later: the answer is committed before the socket closes, nothing is sent again after the restart', async () => {
    // A CSMS that confirms after its own work: the answer leaves after the agent began shutting down.
    rig = await Rig.start({ stopTransactionAnswerDelayMs: 300 });
    await rig.startAgent();
    await rig.configure();
    rig.sim.send('plug 1');
    rig.sim.send('card E1E2E3E4');
    rig.sim.send('charge 1');
    await waitFor(() => txCalls(rig!, 'MeterValues').length >= 1, LONG, 'MeterValues');
    const agent = rig.agent!;
    const exitCode = new Promise<number | null>((r) => agent.once('exit', (code) => r(code)));
    const onCall = (c: ReceivedCall): void => {
      if (c.identity !== rig!.cpId || c.action !== 'StopTransaction') return;
      rig!.csms.off('call', onCall);
      agent.kill('SIGTERM'); // the CSMS has the Stop and will confirm it; the agent is told to stop
    };
    rig.csms.on('call', onCall);
    rig.sim.send('unplug 1');
    expect(await exitCode).toBe(0);
    rig.agent = null;
    expect(leftovers(rig.dbPath)).toEqual({ integrity: 'ok', outbox: 0, unreported: 0 });

    const mark = rig.csms.received.length;
    await rig.startAgent();
    // The CSMS's own call queues behind anything the restarted agent had to send first.
    expect(await rig.csms.call(rig.cpId, 'TriggerMessage', { requestedMessage: 'Heartbeat' })).toEqual({ status: 'Accepted' });
    await waitFor(() => rig!.csms.received.slice(mark).some((c) => c.action === 'Heartbeat'), LONG, 'triggered Heartbeat');
    expect(rig.csms.received.slice(mark).filter((c) => TX_ACTIONS.has(c.action))).toEqual([]);
    expect(txCalls(rig, 'StopTransaction')).toHaveLength(1);
    checkDelivery(rig);
  }, 90_000);

  it(`d. ${ITERATIONS} kills at random instants of sessions and replays: integrity_check after each, exactly once in the end`, async () => {
    const random = seededRandom(SEED ^ 0x5eed);
    const pick = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
    rig = await Rig.start();
    await rig.startAgent();
    await rig.configure();
    let plugged = false;
    let cards = 0;
    /** Sessions whose Start is known durable (the simulator was enabled after the card). */
    let confirmed = 0;
    const beginSession = async (): Promise<void> => {
      if (!plugged) rig!.sim.send('plug 1');
      plugged = true;
      rig!.sim.send(`card D${(++cards).toString(16).padStart(7, '0')}`);
      rig!.sim.send('charge 1');
    };
    const confirmStart = async (): Promise<void> => {
      await pollSim(rig!, (v) => v.enabled, 'transaction started');
      confirmed++;
    };

    for (let i = 0; i < ITERATIONS; i++) {
      if (!rig.agent) await rig.startAgent();
      const view = await rig.sim.connector();
      const inSession = view.enabled;
      if (random() < 0.65) {
        // A kill somewhere in a session: before or after the Start, while charging, around the Stop.
        if (!inSession) {
          await beginSession();
          if (random() < 0.7) await confirmStart();
        }
        await sleep(pick(0, 2_000));
        if (random() < 0.3) {
          rig.sim.send('unplug 1');
          plugged = false;
          await sleep(pick(0, 200));
        }
        await rig.kill();
        if (plugged && random() < 0.5) {
          rig.sim.send('unplug 1');
          plugged = false;
        }
      } else {
        // An outage: one session offline, then a kill at a random instant of the replay.
        await rig.stopCsms();
        if (!inSession) {
          await beginSession();
          await confirmStart();
        }
        await sleep(pick(1_000, 2_000));
        rig.sim.send('unplug 1');
        plugged = false;
        await pollSim(rig, (v) => !v.enabled, 'offline transaction stopped');
        await rig.kill();
        await rig.startCsms();
        await rig.startAgent();
        const trap = rig.armKill(pick(1, 4), random() < 0.4 ? 0 : pick(0, 5));
        await waitFor(() => trap.fired() || isDrained(rig!, confirmed), LONG, 'replay progress');
        trap.disarm();
        if (trap.fired()) await rig.kill();
      }
    }

    // Finally: EV out, agent up, one clean session; strict order means all before it was delivered.
    if (!rig.agent) await rig.startAgent();
    if (plugged) rig.sim.send('unplug 1');
    plugged = false;
    await pollSim(rig, (v) => !v.enabled, 'last transaction stopped');
    await beginSession();
    await confirmStart();
    await waitFor(() => txCalls(rig!, 'MeterValues').length > 0, LONG);
    rig.sim.send('unplug 1');
    await waitFor(() => isDrained(rig!, confirmed), LONG, 'every transaction delivered');

    const report = checkDelivery(rig);
    expect(report.transactions.length).toBeGreaterThanOrEqual(confirmed);
    expect(report.transactions.length).toBeLessThanOrEqual(cards);
    expect(report.retransmissions).toBeLessThanOrEqual(rig.kills + rig.outages);
    console.info(
      `d: ${rig.kills} kills, ${rig.outages} outages, ${cards} cards, ${report.transactions.length} transactions (${confirmed} known durable), ${report.retransmissions} retransmission(s)`,
    );
    await stopChild(rig.agent!);
    rig.agent = null;
    expect(leftovers(rig.dbPath)).toEqual({ integrity: 'ok', outbox: 0, unreported: 0 });
    expect(rig.csms.strictFailures).toEqual([]);
  }, 300_000);
});

async function pollSim(rig: Rig, cond: (v: ConnectorView) => boolean, what: string): Promise<void> {
  const deadline = Date.now() + LONG;
  for (;;) {
    if (cond(await rig.sim.connector())) return;
    if (Date.now() > deadline) {
      const calls = rig.csms.received.slice(-8).map((c) => `${c.action} ${JSON.stringify(c.params).slice(0, 160)}`);
      throw new Error(`timed out waiting for ${what}\nsimulator: ${JSON.stringify(await rig.sim.connector())}\nCSMS got:\n${calls.join('\n')}\nagent:\n${rig.tail()}`);
    }
    await sleep(50);
  }
}

/** Every StartTransaction the CSMS got has its Stop, and at least `confirmed` transactions arrived. */
function isDrained(rig: Rig, confirmed: number): boolean {
  const starts = new Set(txCalls(rig, 'StartTransaction').map((c) => c.transactionId));
  const stops = stoppedIds(rig);
  return starts.size >= confirmed && [...starts].every((id) => stops.has(id!));
}
