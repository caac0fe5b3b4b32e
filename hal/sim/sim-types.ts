// The simulator's public types (options, scripting arguments, read-only state,
// counters, events), shared by the facade in simulated-controller.ts and its parts.
// Importers use them through simulated-controller.js, which re-exports them.
// (Also the counters' zero value.)
import { newDropCounters, type DropCounters, type DropReason } from '../controller/protocol/frame-codec.js';
import type { Capability, CommandFrame, LockState, PilotState } from '../controller/protocol/frame-table.js';
import type { HalLogger } from '../log.js';
import type { HalTimers } from '../timers.js';

/** Timer source: the same port as the driver's, real timers by default. */
export type SimTimers = HalTimers;

export interface SimulatedControllerOptions {
  /** The controller end of the pty pair. */
  path: string;
  baudRate?: number;
  /** Default 1. */
  connectors?: number;
  serial?: string;
  firmware?: string;
  /** Default RFID|LOCK|METER|3PH. */
  caps?: Capability[];
  /** Default: caps include 3PH. Overrides caps (3PH is added or removed to match). */
  threePhase?: boolean;
  /** METER_MS at boot (default 1000; 0 = only on READ/STATUS). */
  meterMs?: number;
  /** WATCHDOG_MS at boot (default 5000). */
  watchdogMs?: number;
  /** FALLBACK_A at boot (default 0). */
  fallbackA?: number;
  /** Energy integration speed-up for demos (default 1). */
  timeScale?: number;
  /** Lifetime register of every connector at start (default 0). */
  initialEnergyWh?: number;
  /** Seconds the controller had already been running at start() (default 0), so a reboot shows a lower uptime. */
  uptimeOffsetS?: number;
  /** Time from reset to `$HELLO`, input ignored meanwhile (default 50). */
  bootDelayMs?: number;
  /** Retry period for reopening the device after it vanished (default 200). */
  reopenMs?: number;
  logger?: HalLogger;
  timers?: SimTimers;
  /** Noise source in [0, 1) for meter readings (default Math.random). */
  random?: () => number;
}

export interface PlugOptions {
  /** Proximity pilot capacity: 13, 20, 32, 63 or 70 (default 32). */
  cableAmps?: number;
  /** Most the EV draws per phase (default 32). */
  evMaxAmps?: number;
}

export interface SimConnectorState {
  pilot: PilotState;
  pp: number;
  enabled: boolean;
  offeredAmps: number;
  /** True while the offered current is the watchdog fallback (until the next ENABLE). */
  fallback: boolean;
  contactor: boolean;
  lock: LockState;
  energyWh: number;
  currentA: number;
  evMaxAmps: number;
  /** This connector's active faults (station faults: `stationFaults`). */
  faults: string[];
}

export interface SimCounters {
  linesIn: number;
  linesOut: number;
  /** Well-formed commands acted upon (duplicates not included). */
  commands: number;
  /** Commands whose seq repeated the last answered one (answer re-sent only). */
  duplicates: number;
  acks: number;
  naks: number;
  /** ACK/NAK lines swallowed by dropAnswers(). */
  answersDropped: number;
  /** Lines received while muted or booting, not looked at. */
  ignored: number;
  /** Malformed lines, by reason. */
  dropped: DropCounters;
  reboots: number;
  reopens: number;
  watchdogFires: number;
}

/** All counters at zero. */
export function newSimCounters(): SimCounters {
  return {
    linesIn: 0,
    linesOut: 0,
    commands: 0,
    duplicates: 0,
    acks: 0,
    naks: 0,
    answersDropped: 0,
    ignored: 0,
    dropped: newDropCounters(),
    reboots: 0,
    reopens: 0,
    watchdogFires: 0,
  };
}

export type LineDirection = 'in' | 'out';

export interface SimulatedControllerEventMap {
  /** A line on the wire: 'in' from the agent, 'out' to the agent (without `\n`). */
  line: [direction: LineDirection, text: string];
  /** A well-formed command, before it is acted upon (not emitted for a duplicate seq). */
  command: [frame: CommandFrame];
  /** A received line that was dropped as malformed. */
  dropped: [reason: DropReason, text: string];
  /** An ACK/NAK line swallowed by dropAnswers(). */
  answerDropped: [text: string];
  /** `$HELLO` sent after (re)boot. */
  boot: [uptimeSeconds: number];
  watchdog: [fired: boolean];
  /** The device went away (pty killed) / came back. */
  portClosed: [];
  portReopened: [];
}

/** The CONFIG keys' current values (§Commands CONFIG), reset to the boot values on every boot. */
export interface SimConfig {
  meterMs: number;
  watchdogMs: number;
  fallbackA: number;
}
