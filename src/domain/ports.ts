// What the domain needs from the outside world, in its own vocabulary. Adapters
// (hal controller, OCPP session, store) satisfy these structurally in main.ts.

export type PilotState = 'A' | 'B' | 'C' | 'D' | 'E' | 'F';

/** Cable lock outcome as the controller reports it (`$LOCK`). */
export type LockState = 'locked' | 'unlocked' | 'failed';

export interface MeterReading {
  connector: number;
  energyWh: number | null;
  powerW: number | null;
  voltageV: [number | null, number | null, number | null];
  currentA: [number | null, number | null, number | null];
  temperatureC: number | null;
}

export interface ControllerIdentity {
  firmwareVersion: string;
  connectorCount: number;
  serialNumber: string;
  capabilities: string[];
}

/** The charge controller, seen from the domain (hal's ChargeController fits this). */
export interface ChargeControllerPort {
  on(event: 'pilot', listener: (connector: number, state: PilotState) => void): unknown;
  on(event: 'cableCapacity', listener: (connector: number, amps: number) => void): unknown;
  on(event: 'contactor', listener: (connector: number, closed: boolean) => void): unknown;
  on(event: 'meter', listener: (sample: MeterReading) => void): unknown;
  on(event: 'card', listener: (uid: string) => void): unknown;
  on(event: 'fault', listener: (connector: number, code: string) => void): unknown;
  on(event: 'faultCleared', listener: (connector: number, code: string) => void): unknown;
  on(event: 'linkUp', listener: (info: ControllerIdentity) => void): unknown;
  on(event: 'linkDown', listener: (reason: string) => void): unknown;
  on(event: 'lock', listener: (connector: number, state: LockState) => void): unknown;
  readonly isLinkUp: boolean;
  readonly info: ControllerIdentity | null;
  enable(connector: number, amps: number): Promise<void>;
  disable(connector: number): Promise<void>;
  unlock(connector: number): Promise<void>;
  /** Take one meter reading of the connector now: delivered as a 'meter' event before this resolves. */
  readMeter(connector: number): Promise<void>;
}

/** Wall time (with the CSMS offset) and monotonic time; timers. */
export interface Clock {
  now(): Date;
  monotonicMs(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export type AuthorizationStatus = 'Accepted' | 'Blocked' | 'Expired' | 'Invalid' | 'ConcurrentTx';

export interface AuthorizationResult {
  status: AuthorizationStatus;
  parentIdTag?: string;
}

/** What is known about an identifier (OCPP IdTagInfo in domain terms): status, group, validity. */
export interface AuthorizationInfo extends AuthorizationResult {
  /** After this instant an Accepted identifier counts as Expired. */
  expiresAt?: Date;
}

/** Decides whether an identifier may charge (remote, local list, cache: the adapter's business). */
export interface Authorizer {
  authorize(idTag: string): Promise<AuthorizationResult>;
}

/**
 * Connector availability (OCPP ChangeAvailability) kept across reboots; connector 0 is the
 * whole station. `load` returns only what was saved; `save` is called only on a change.
 */
export interface AvailabilityStore {
  load(): Map<number, boolean>;
  save(connector: number, operative: boolean): void;
}

/** A reservation as the station needs it (OCPP 1.6 §5.13); connector 0 = any one connector. */
export interface ReservationHold {
  id: number;
  connector: number;
  idTag: string;
  parentIdTag?: string;
}

/** The reservations the station consults (domain/reservation/ implements it). */
export interface StationReservations {
  /** Live reservations (expired ones are gone). */
  active(): readonly ReservationHold[];
  /**
   * Connector -> the reservation holding it: each connector reservation holds its connector,
   * and each connector-0 reservation one of `free` (connectors that could take a transaction,
   * most expendable first) that no connector reservation holds.
   */
  holds(free: readonly number[]): ReadonlyMap<number, ReservationHold>;
  /**
   * A transaction started on it ('used'), or its connector went Faulted/Unavailable (§5.13):
   * it ends. Listeners are not called (the station refreshes itself).
   */
  end(id: number, reason: 'used' | 'connector-failed'): void;
  /** Reservations changed on their own (made, cancelled, expired): statuses need a refresh. Called on a later turn of the event loop. */
  onChange(listener: () => void): () => void;
}
