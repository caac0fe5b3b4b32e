// The charge controller as the rest of the agent sees it, in hardware vocabulary
// (controller-serial.md). Another controller model implements this interface;
// nothing in src/ changes.
import type { Capability, LockState, PilotState } from './protocol/frame-table.js';
import type { DropCounters } from './protocol/frame-codec.js';

export type { Capability, LockState, PilotState } from './protocol/frame-table.js';

export interface ControllerInfo {
  protocolVersion: number;
  firmwareVersion: string;
  connectorCount: number;
  serialNumber: string;
  capabilities: Capability[];
  uptimeSeconds: number;
}

export interface MeterSample {
  connector: number;
  /** Lifetime import register; never decreases. Null when the meter cannot tell. */
  energyWh: number | null;
  powerW: number | null;
  /** Per phase L1..L3; null where not available (single-phase controllers fill L1 only). */
  voltageV: [number | null, number | null, number | null];
  currentA: [number | null, number | null, number | null];
  temperatureC: number | null;
}

export type LinkDownReason = 'no-answer' | 'silence' | 'port-closed' | 'port-error' | 'stopped';

/** Events, each with its listener signature. */
export interface ChargeControllerEvents {
  pilot: (connector: number, state: PilotState) => void;
  /** Proximity pilot: 0 = no cable, else the cable's current capacity in A. */
  cableCapacity: (connector: number, amps: number) => void;
  contactor: (connector: number, closed: boolean) => void;
  lock: (connector: number, state: LockState) => void;
  meter: (sample: MeterSample) => void;
  card: (uid: string) => void;
  /** Connector 0 is the whole station. */
  fault: (connector: number, code: string) => void;
  faultCleared: (connector: number, code: string) => void;
  /** Link established and resynchronised (INFO + STATUS done). */
  linkUp: (info: ControllerInfo) => void;
  linkDown: (reason: LinkDownReason) => void;
  /** The controller rebooted (or its state was unknown); connectors it should offer were re-enabled. */
  controllerReset: (info: ControllerInfo) => void;
  /** Every line as it crosses the wire (for demos, diagnostics and bring-up). */
  wire: (direction: 'rx' | 'tx', line: string) => void;
}

export type ChargeControllerEvent = keyof ChargeControllerEvents;

export interface ControllerCounters {
  framesReceived: number;
  framesSent: number;
  resends: number;
  naks: number;
  linkDowns: number;
  reopens: number;
  dropped: DropCounters;
}

/** Raised when a command is refused by the controller. */
export class ControllerNakError extends Error {
  constructor(
    readonly command: string,
    readonly reason: string,
  ) {
    super(`controller refused ${command}: ${reason}`);
    this.name = 'ControllerNakError';
  }
}

/** Raised when a command could not be delivered (no answer after the last resend, or link down). */
export class ControllerLinkError extends Error {
  constructor(
    readonly command: string,
    message: string,
  ) {
    super(`${command}: ${message}`);
    this.name = 'ControllerLinkError';
  }
}

/**
 * The charge controller. Commands resolve on ACK and reject with ControllerNakError
 * or ControllerLinkError. enable/disable also record the wanted state, which the
 * driver re-applies after a controller reboot or a link recovery.
 */
export interface ChargeController {
  on<E extends ChargeControllerEvent>(event: E, listener: ChargeControllerEvents[E]): this;
  off<E extends ChargeControllerEvent>(event: E, listener: ChargeControllerEvents[E]): this;

  start(): Promise<void>;
  /** Closes the device; pending commands reject. */
  stop(): Promise<void>;

  readonly isLinkUp: boolean;
  readonly info: ControllerInfo | null;

  /** Offer at most `amps` per phase (0 = enabled, EVSE-side suspension). */
  enable(connector: number, amps: number): Promise<void>;
  disable(connector: number): Promise<void>;
  unlock(connector: number): Promise<void>;
  readMeter(connector: number): Promise<void>;
  configure(key: string, value: string): Promise<void>;
  reset(): Promise<void>;
  /** Board bring-up: send a command by type and fields (a sequence number is added). */
  sendRaw(type: string, fields: string[]): Promise<void>;

  counters(): ControllerCounters;
}
