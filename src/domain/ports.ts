// What the domain needs from the outside world, in its own vocabulary. Adapters
// (hal controller, OCPP session, store) satisfy these structurally in main.ts.

export type PilotState = 'A' | 'B' | 'C' | 'D' | 'E' | 'F';

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
  readonly isLinkUp: boolean;
  readonly info: ControllerIdentity | null;
  enable(connector: number, amps: number): Promise<void>;
  disable(connector: number): Promise<void>;
  unlock(connector: number): Promise<void>;
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

/** Decides whether an identifier may charge (remote, local list, cache: the adapter's business). */
export interface Authorizer {
  authorize(idTag: string): Promise<AuthorizationResult>;
}
