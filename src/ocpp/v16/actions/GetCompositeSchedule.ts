// OCPP 1.6 §5.7 GetCompositeSchedule: the limits from now over `duration` seconds for connector n
// (ChargePointMax and the leading Tx/TxDefault) or 0 (ChargePointMax only), in the unit asked
// for (default: the first allowed); Rejected for a unit not allowed or an unknown connector.
import { chargingScheduleOf, rateUnitsOf } from '../mappers.js';
import type { IncomingHandler } from './context.js';

/** A longer window is answered over its first 31 days (the answer's duration says so): bounded work per CALL. */
const MAX_DURATION_S = 31 * 86_400;

export const GetCompositeSchedule: IncomingHandler<'GetCompositeSchedule'> = (req, { station, config, smartCharging }) => {
  if (!smartCharging) return { status: 'Rejected' };
  if (req.connectorId !== 0 && !station.evseIds().includes(req.connectorId)) return { status: 'Rejected' };
  const allowed = rateUnitsOf(config.getList('ChargingScheduleAllowedChargingRateUnit'));
  const unit = req.chargingRateUnit ?? allowed[0];
  if (unit === undefined || !allowed.includes(unit) || !(req.duration > 0)) return { status: 'Rejected' };
  const c = smartCharging.composite(req.connectorId, Math.min(req.duration, MAX_DURATION_S), unit);
  return { status: 'Accepted', connectorId: req.connectorId, scheduleStart: new Date(c.startMs).toISOString(), chargingSchedule: chargingScheduleOf(c) };
};
