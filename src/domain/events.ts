// What the station announces. Adapters subscribe and report: OCPP 1.6 turns these into
// StatusNotification, StartTransaction, MeterValues, StopTransaction; 2.0.1 into
// StatusNotification and TransactionEvent(Started/Updated/Ended); the LEDs into light.
import type { AuthorizationStatus } from './model/authorization.js';
import type { Operational } from './model/availability.js';
import type { ConnectorState, StationState } from './model/connector-state.js';
import type { ConnectorRef, EvseId, StationTarget } from './model/evse.js';
import type { IdToken } from './model/id-token.js';
import type { Transaction } from './model/transaction.js';
import type { MeterReading } from './ports.js';

export interface StationEventMap {
  /** A connector's state changed (any of its facts). */
  connectorStateChanged: { connector: ConnectorRef; state: ConnectorState };
  /** The station as a whole changed (faulted, set Inoperative, back). */
  stationStateChanged: { state: StationState };
  /** ChangeAvailability took effect in the settings (the state follows when it applies). */
  availabilityChanged: { target: StationTarget; availability: Operational };
  transactionStarted: { tx: Transaction };
  /** A transaction restored after a restart goes on (its EV is still plugged in). */
  transactionResumed: { tx: Transaction };
  /** A meter reading from the controller, with the transaction it belongs to. */
  meterSampled: { evseId: EvseId; reading: MeterReading; tx: Transaction | null };
  /** A transaction ended; `tx` carries its stop time, meter, reason. */
  transactionEnded: { tx: Transaction };
  /** A card was read at the reader. */
  cardPresented: { idToken: IdToken };
  /** For the driver's eyes (LEDs): was the identifier accepted here and now? */
  authorizationDecided: { idToken: IdToken; accepted: boolean; status: AuthorizationStatus | null };
  faultRaised: { target: StationTarget; code: string };
  faultCleared: { target: StationTarget; code: string };
}

export type StationEventName = keyof StationEventMap;

export type StationListener = { [K in StationEventName]?: (event: StationEventMap[K]) => void };

/** Delivers events to subscribers in order; a failing subscriber never stops the others or the station. */
export class StationEventBus {
  private listeners: StationListener[] = [];

  constructor(private readonly onError: (err: unknown, context: string) => void) {}

  subscribe(listener: StationListener): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  emit<K extends StationEventName>(name: K, event: StationEventMap[K]): void {
    for (const l of this.listeners) {
      const fn = l[name] as ((e: StationEventMap[K]) => void) | undefined;
      if (!fn) continue;
      try {
        fn(event);
      } catch (err) {
        this.onError(err, `listener ${name}`);
      }
    }
  }
}
