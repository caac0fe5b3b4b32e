// Where: EVSEs (numbered from 1) with their connectors. The whole station is an explicit
// target, never a number (1.6's connector 0 is mapped in ocpp/v16/mappers.ts only).

/** An EVSE: one point that charges one EV at a time (>= 1). */
export type EvseId = number;

/** A connector of an EVSE (connectorId >= 1 within the EVSE). */
export interface ConnectorRef {
  evseId: EvseId;
  connectorId: number;
}

/** What a command is about: the whole station or one EVSE. */
export type StationTarget = { scope: 'station' } | { scope: 'evse'; evseId: EvseId };

export const STATION: StationTarget = { scope: 'station' };

export function evseTarget(evseId: EvseId): StationTarget {
  return { scope: 'evse', evseId };
}

/** This station's EVSEs each have one connector (the controller's connector n is EVSE n). */
export function connectorOf(evseId: EvseId): ConnectorRef {
  return { evseId, connectorId: 1 };
}
