// OCPP 1.6 §5.16 SetChargingProfile: connector 0 takes ChargePointMaxProfile and TxDefaultProfile,
// connector n TxDefaultProfile and TxProfile (only while a transaction runs there, and the one it
// names). Beyond the station's limits (stack level, periods, profiles installed, units): Rejected.
import { chargingProfileOf } from '../mappers.js';
import type { IncomingHandler } from './context.js';

export const SetChargingProfile: IncomingHandler<'SetChargingProfile'> = (req, { station, session, smartCharging }) => {
  if (!smartCharging) return { status: 'NotSupported' };
  if (req.connectorId !== 0 && !station.evseIds().includes(req.connectorId)) return { status: 'Rejected' };
  const profile = chargingProfileOf(req.csChargingProfiles, req.connectorId, (n) => session.localIdFor(n));
  return { status: smartCharging.install(profile).status };
};
