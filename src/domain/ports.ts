// What the domain needs from the outside world, in its own vocabulary. Adapters
// (hal controller, OCPP adapter, store) satisfy these structurally in main.ts.
import type { AuthorizationInfo, AuthorizationResult } from './model/authorization.js';
import type { Operational } from './model/availability.js';
import type { EvseId, StationTarget } from './model/evse.js';
import type { IdToken } from './model/id-token.js';

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
  /** Restarts the controller itself (a Hard reset). */
  reset?(): Promise<void>;
}

/** Decides whether an identifier may charge (remote, local list, cache: domain/authorization/). */
export interface Authorizer {
  authorize(idToken: IdToken): Promise<AuthorizationResult>;
}

/**
 * Asks the CSMS whether an identifier may charge; 'offline' when it cannot be asked now or did
 * not answer. The protocol adapter implements it (1.6: Authorize.req).
 */
export interface RemoteAuthorizer {
  authorizeRemote(idToken: IdToken): Promise<AuthorizationInfo | 'offline'>;
}

/** Availability as last saved: only what was set Inoperative or back (the rest is Operative). */
export interface SavedAvailability {
  station?: Operational;
  evses: ReadonlyMap<EvseId, Operational>;
}

/**
 * Availability (ChangeAvailability) kept across reboots. `load` returns only what was saved;
 * `save` is called only on a change.
 */
export interface AvailabilityStore {
  load(): SavedAvailability;
  save(target: StationTarget, availability: Operational): void;
}

/** A reservation as the station needs it; no `evseId` = any one EVSE (1.6 connector 0). */
export interface ReservationHold {
  id: number;
  evseId?: EvseId;
  idToken: IdToken;
  groupId?: IdToken;
}

/** The reservations the station consults (domain/reservation/ implements it). */
export interface StationReservations {
  /** Live reservations (expired ones are gone). */
  active(): readonly ReservationHold[];
  /**
   * EVSE -> the reservation holding it: each EVSE reservation holds its EVSE, and each
   * any-EVSE reservation one of `free` (EVSEs that could take a transaction, most expendable
   * first) that no EVSE reservation holds.
   */
  holds(free: readonly EvseId[]): ReadonlyMap<EvseId, ReservationHold>;
  /**
   * A transaction started on it ('used'), or its EVSE went Faulted/Unavailable: it ends.
   * Listeners are not called (the station refreshes itself).
   */
  end(id: number, reason: 'used' | 'connector-failed'): void;
  /** Reservations changed on their own (made, cancelled, expired): states need a refresh. Called on a later turn of the event loop. */
  onChange(listener: () => void): () => void;
}

/** Where started/stopped transactions are reported: lets a Reset wait until they are delivered. */
export interface DeliveryMonitor {
  /** Resolves once the queued transaction messages are delivered. */
  drain(): Promise<void>;
}
