// The station's neutral connector states as 1.6 statuses (connector 0 = the station), and a
// change announced only when the 1.6 status (or, for a connector, its fault) changes: many
// neutral changes (a fault code added to a Faulted connector, a station fault while the
// station is already Faulted) are no change for a 1.6 CSMS.
import type { StationListener } from '../../domain/events.js';
import type { EvseId } from '../../domain/model/evse.js';
import type { ChargePointStatus } from './generated/types.js';
import { chargePointStatus, faultOf, stationStatus, statusOf, type StateSource } from './mappers.js';

export interface StatusStation extends StateSource {
  subscribe(listener: StationListener): () => void;
}

export type StatusListener = (connectorId: number, status: ChargePointStatus, fault: string | null) => void;

export class StatusView {
  private readonly last = new Map<number, string>();
  private listeners: StatusListener[] = [];
  private readonly unsubscribe: () => void;

  constructor(private readonly station: StatusStation) {
    this.unsubscribe = station.subscribe({
      stationStateChanged: ({ state }) => {
        const status = stationStatus(state);
        // The station's StatusNotification follows its status; a changed fault list alone sends nothing.
        if (this.last.get(0) === status) return;
        this.last.set(0, status);
        this.emit(0, status, state.faults[0] ?? null);
      },
      connectorStateChanged: ({ connector, state }) => {
        const status = chargePointStatus(state);
        const fault = state.faults[0] ?? null;
        const key = `${status}/${fault ?? ''}`;
        if (this.last.get(connector.evseId) === key) return;
        this.last.set(connector.evseId, key);
        this.emit(connector.evseId, status, fault);
      },
    });
  }

  onChange(listener: StatusListener): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  connectorIds(): EvseId[] {
    return this.station.evseIds();
  }

  status(connectorId: number): ChargePointStatus | null {
    return statusOf(this.station, connectorId);
  }

  statusFault(connectorId: number): string | null {
    return faultOf(this.station, connectorId);
  }

  stop(): void {
    this.unsubscribe();
  }

  private emit(connectorId: number, status: ChargePointStatus, fault: string | null): void {
    for (const l of this.listeners) l(connectorId, status, fault);
  }
}
