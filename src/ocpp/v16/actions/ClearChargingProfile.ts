// OCPP 1.6 §5.5 ClearChargingProfile: by id, or by any combination of connector, purpose and
// stack level (none given: all); Unknown when nothing matched.
import { profilePurposeOf } from '../mappers.js';
import type { ClearCriteria } from '../../../domain/smart-charging/profile-stack.js';
import type { IncomingHandler } from './context.js';

export const ClearChargingProfile: IncomingHandler<'ClearChargingProfile'> = (req, { smartCharging }) => {
  if (!smartCharging) return { status: 'Unknown' };
  const c: ClearCriteria = {};
  if (req.id !== undefined) c.id = req.id;
  if (req.connectorId !== undefined) c.evseId = req.connectorId;
  if (req.chargingProfilePurpose !== undefined) c.purpose = profilePurposeOf(req.chargingProfilePurpose);
  if (req.stackLevel !== undefined) c.stackLevel = req.stackLevel;
  return { status: smartCharging.clear(c).length > 0 ? 'Accepted' : 'Unknown' };
};
