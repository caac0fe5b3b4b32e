// OCPP 1.6 §5.19 UpdateFirmware: download the file at `location` from `retrieveDate` on (http,
// https or ftp), `retries` more attempts `retryInterval` seconds apart, then install it and
// restart (src/firmware/update-manager.ts). The answer carries nothing; the progress goes out as
// FirmwareStatusNotification. With RequireSignedFirmware the request is ignored (logged, with a
// security event): only SignedUpdateFirmware is taken then.
import type { IncomingHandler } from './context.js';

/** Without `retries` the charger decides (§5.19): two more attempts, a minute apart. */
export const DEFAULT_FIRMWARE_RETRIES = 2;
export const DEFAULT_FIRMWARE_RETRY_INTERVAL_S = 60;

export const UpdateFirmware: IncomingHandler<'UpdateFirmware'> = async (req, { firmware }) => {
  const at = Date.parse(req.retrieveDate);
  await firmware.request({
    requestId: null,
    location: req.location,
    retrieveAt: new Date(Number.isNaN(at) ? 0 : at).toISOString(),
    installAt: null,
    retries: Math.max(0, Math.trunc(req.retries ?? DEFAULT_FIRMWARE_RETRIES)),
    retryIntervalS: Math.max(0, Math.trunc(req.retryInterval ?? DEFAULT_FIRMWARE_RETRY_INTERVAL_S)),
    signature: null,
  });
  return {};
};
