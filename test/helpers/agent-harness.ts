// Test harness for OCPP 1.6 Core tests: the REAL agent (startAgent, simulated controller on a
// pty) against the DevCsms (ocpp-rpc strict mode), with a temp dataDir, the agent's frames and
// log lines recorded, typed CSMS calls and a teardown. Optionally a FakeClock for timed keys.
import { statusOf } from '../../src/ocpp/v16/mappers.js';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { childLogger, createLogger } from '../../src/platform/logger.js';
import { ocppFrameLogger } from '../../src/diagnostics/ocpp-frame-log.js';
import type { AgentConfig } from '../../src/config/agent-config.js';
import { simulatedAgentConfig } from '../../src/devtools/dev-config.js';
import { DevCsms, type DevCsmsOptions, type ReceivedCall } from '../../src/devtools/dev-csms.js';
import { startAgent, type RunningAgent } from '../../src/main.js';
import type { CsmsAction, RequestOf, ResponseOf } from '../../src/ocpp/v16/actions/types.js';
import type { VendorDataHandler } from '../../src/ocpp/v16/actions/context.js';
import { SimulatedController, type SimulatedControllerOptions } from '../../hal/sim/simulated-controller.js';
import { SerialController } from '../../hal/controller/serial-controller.js';
import { openPtyPair } from '../../hal/sim/pty-pair.js';
import { ChargingStation, type StationOptions, type StationSettings } from '../../src/domain/station/charging-station.js';
import type { Authorizer, ChargeControllerPort } from '../../src/domain/ports.js';
import type { Clock } from '../../src/platform/clock.js';
import type { AuthorizationResult } from '../../src/domain/model/authorization.js';
import { transactionPoints16 } from '../../src/ocpp/v16/mappers.js';
import { SystemClock } from '../../src/platform/clock.js';
import type { FakeClock } from './fake-clock.js';
import { waitFor } from './wait.js';

export interface HarnessOptions {
  csms?: DevCsmsOptions;
  clock?: FakeClock;
  chargePointId?: string;
  /** OCPP configuration values set (as ChangeConfiguration would) once ready. */
  ocppConfig?: Record<string, string>;
  /** Wait for Accepted, controller link and connector 1 Available reported (default true). */
  waitReady?: boolean;
  onResetRequested?: (type: 'Soft' | 'Hard') => void;
  vendorHandlers?: ReadonlyMap<string, VendorDataHandler>;
  /** A database file the agent finds in its dataDir at start (an upgrade over an older release's data). */
  seedDatabase?: string;
  /** The agent's own logger (createLogger: redaction and the recent-lines ring) instead of a bare pino. */
  agentLogger?: boolean;
  /** Agent log level (default info); the secret-leak tests read debug lines too. */
  logLevel?: 'info' | 'debug';
  /** csms.securitySwitchTimeoutS of the agent's config. */
  securitySwitchTimeoutS?: number;
  /** Changes to the agent's config file settings (applied to the parsed config). */
  agentConfig?: (cfg: AgentConfig) => AgentConfig;
}

export interface FrameRecord {
  direction: 'in' | 'out';
  text: string;
}

export interface LogRecord {
  level: number;
  msg?: string;
  module?: string;
  [key: string]: unknown;
}

export interface Harness {
  readonly csms: DevCsms;
  readonly agent: RunningAgent;
  readonly sim: SimulatedController;
  readonly cpId: string;
  readonly dataDir: string;
  /** OCPP frames as the agent saw them ('out' = sent by the agent). */
  readonly frames: FrameRecord[];
  readonly logs: LogRecord[];
  /** A CALL from the CSMS, schema-checked by ocpp-rpc on the way out and on the answer. */
  call<A extends CsmsAction>(action: A, payload: RequestOf<A>): Promise<ResponseOf<A>>;
  /** Stops the agent and starts a new one on the same dataDir and CSMS (a reboot); waits for Accepted. */
  restart(): Promise<void>;
  /** Index into csms.received, to look only at what came after it. */
  mark(): number;
  callsSince(mark: number, action: string): ReceivedCall[];
  /** Statuses the CSMS received for a connector since a mark, in order. */
  statusesSince(mark: number, connector: number): string[];
  /** Waits until the CSMS's last StatusNotification for `connector` says `status`. */
  waitStatus(connector: number, status: string, what?: string): Promise<void>;
  /** Waits until the CSMS has received `count` calls of `action` since `mark`. */
  waitCalls(mark: number, action: string, count?: number): Promise<ReceivedCall[]>;
  stop(): Promise<void>;
}

let seq = 0;

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const csms = new DevCsms(opts.csms ?? {});
  await csms.start();
  const dataDir = mkdtempSync(join(tmpdir(), 'ca-ocpp-'));
  if (opts.seedDatabase) copyFileSync(opts.seedDatabase, join(dataDir, 'charger-agent.db'));
  const cpId = opts.chargePointId ?? `CP-T${process.pid}-${++seq}`;
  const frames: FrameRecord[] = [];
  const logs: LogRecord[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as LogRecord);
      done();
    },
  });
  const baseConfig = simulatedAgentConfig({
    chargePointId: cpId,
    csmsUrl: csms.url,
    dataDir,
    logLevel: opts.logLevel ?? 'info',
    ...(opts.securitySwitchTimeoutS !== undefined ? { securitySwitchTimeoutS: opts.securitySwitchTimeoutS } : {}),
  });
  const cfg = opts.agentConfig ? opts.agentConfig(baseConfig) : baseConfig;
  // With a level asked for: the agent's own logger and frame log as the CLI wires them (the secret-leak tests).
  const ownLogger = opts.logLevel !== undefined || opts.agentLogger === true;
  const logger = ownLogger ? createLogger({ level: opts.logLevel ?? 'info', destination: sink }) : pino({ level: 'info' }, sink);
  const frameLog = opts.logLevel !== undefined ? ocppFrameLogger(childLogger(logger, 'ocpp')) : undefined;
  const launch = (): Promise<RunningAgent> =>
    startAgent(cfg, {
      logger,
      ...(opts.clock ? { clock: opts.clock } : {}),
      onOcppFrame: (direction, text) => {
        frames.push({ direction, text });
        frameLog?.(direction, text);
      },
      ...(opts.onResetRequested ? { onResetRequested: opts.onResetRequested } : {}),
      ...(opts.vendorHandlers ? { vendorHandlers: opts.vendorHandlers } : {}),
    });
  let agent: RunningAgent;
  try {
    agent = await launch();
  } catch (err) {
    await csms.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  let stopped = false;

  const statusesSince = (mark: number, connector: number): string[] =>
    csms.received
      .slice(mark)
      .filter((c) => c.action === 'StatusNotification' && c.params.connectorId === connector)
      .map((c) => String(c.params.status));
  const registered = async (): Promise<void> => {
    await waitFor(() => agent.session.registrationStatus === 'Accepted' && agent.controller.isLinkUp, 10_000, 'boot and controller link');
    // The start-up security events (StartupOfTheDevice, SettingSystemTime) delivered: no CALL of theirs outstanding.
    await waitFor(() => agent.messenger.queueDepth === 0, 10_000, 'start-up messages delivered');
  };

  const h: Harness = {
    csms,
    get agent() {
      return agent;
    },
    get sim() {
      return agent.simulator!;
    },
    cpId,
    dataDir,
    frames,
    logs,
    call: async <A extends CsmsAction>(action: A, payload: RequestOf<A>) => (await csms.call(cpId, action, payload)) as ResponseOf<A>,
    mark: () => csms.received.length,
    callsSince: (mark, action) => csms.received.slice(mark).filter((c) => c.action === action),
    statusesSince,
    waitStatus: (connector, status, what) =>
      waitFor(() => statusesSince(0, connector).at(-1) === status, 10_000, what ?? `connector ${connector} reported ${status}`),
    waitCalls: async (mark, action, count = 1) => {
      await waitFor(() => h.callsSince(mark, action).length >= count, 10_000, `${count} ${action}`);
      return h.callsSince(mark, action);
    },
    restart: async () => {
      await agent.stop();
      const m = csms.received.length;
      agent = await launch();
      await registered();
      await h.waitCalls(m, 'BootNotification');
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await agent.stop();
      await csms.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  if (opts.waitReady ?? true) {
    try {
      await registered();
      await h.waitStatus(1, 'Available');
      await h.waitStatus(0, 'Available');
    } catch (err) {
      await h.stop();
      throw err;
    }
  }
  for (const [k, v] of Object.entries(opts.ocppConfig ?? {})) {
    const r = agent.config.change(k, v).result;
    if (r !== 'Accepted') throw new Error(`harness: ${k}=${v} -> ${r}`);
  }
  return h;
}

/** The agent's OCPP frames in one direction, parsed (only for well-formed JSON frames). */
export function parsedFrames(h: Harness, direction: 'in' | 'out'): unknown[][] {
  const out: unknown[][] = [];
  for (const f of h.frames) {
    if (f.direction !== direction) continue;
    try {
      const v: unknown = JSON.parse(f.text);
      if (Array.isArray(v)) out.push(v);
    } catch {
      // not JSON: the invalid-frame tests look at the raw text instead
    }
  }
  return out;
}

export interface StationRig {
  station: ChargingStation;
  controller: SerialController;
  sim: SimulatedController;
  /** Stops the station's controller end; `restart()` builds a new station on the same simulator. */
  restart(opts?: StationOptions): Promise<StationRig>;
  stop(): Promise<void>;
}

const RIG_SETTINGS: StationSettings = {
  connectionTimeoutS: () => 60,
  transactionPoints: () => transactionPoints16(true),
  stopTransactionOnInvalidId: () => true,
  authorizeRemoteTxRequests: () => false,
  maxCurrentA: () => 32,
};

/**
 * The domain station alone over the real serial driver and the simulator on a pty (no OCPP):
 * for what the agent cannot be configured for (a controller without a lock, a station restart
 * with the same availability store). Every identifier is accepted.
 */
/** What a rig may change: settings over RIG_SETTINGS, the clock, who authorizes (default: everyone). */
export interface RigParts {
  settings?: Partial<StationSettings>;
  clock?: Clock;
  authorizer?: Authorizer;
}

export async function startStationRig(sim: Partial<Omit<SimulatedControllerOptions, 'path'>> = {}, opts: StationOptions = {}, parts: RigParts = {}): Promise<StationRig> {
  const pty = await openPtyPair();
  const simulator = new SimulatedController({ path: pty.controllerPath, meterMs: 0, ...sim });
  await simulator.start();
  const build = async (o: StationOptions): Promise<StationRig> => {
    const controller = new SerialController({ path: pty.agentPath });
    const accept = { authorize: async (): Promise<AuthorizationResult> => ({ status: 'Accepted' }) };
    const settings: StationSettings = { ...RIG_SETTINGS, ...parts.settings };
    const station = new ChargingStation(controller as ChargeControllerPort, parts.authorizer ?? accept, settings, parts.clock ?? new SystemClock(), () => {}, o);
    station.start();
    await controller.start();
    await waitFor(() => controller.isLinkUp && statusOf(station, 1) !== null, 10_000, 'controller link');
    const rig: StationRig = {
      station,
      controller,
      sim: simulator,
      restart: async (next = o) => {
        await controller.stop();
        return build(next);
      },
      stop: async () => {
        await controller.stop();
        await simulator.stop();
        await pty.close();
      },
    };
    return rig;
  };
  return build(opts);
}
