// OCPP 1.6 security whitepaper SignedUpdateFirmware: as UpdateFirmware, with the signing
// certificate checked against the installed ManufacturerRootCertificates before the answer
// (InvalidCertificate otherwise, with a security event) and the signature checked over the
// downloaded file; progress in SignedFirmwareStatusNotification with the requestId. A request
// while another update waits replaces it (AcceptedCanceled); one while installing is Rejected.
import type { IncomingHandler } from './context.js';
import { DEFAULT_FIRMWARE_RETRIES, DEFAULT_FIRMWARE_RETRY_INTERVAL_S } from './UpdateFirmware.js';

const iso = (text: string | undefined): string | null => {
  if (text === undefined) return null;
  const at = Date.parse(text);
  return new Date(Number.isNaN(at) ? 0 : at).toISOString();
};

export const SignedUpdateFirmware: IncomingHandler<'SignedUpdateFirmware'> = async (req, { firmware }) => ({
  status: await firmware.request({
    requestId: req.requestId,
    location: req.firmware.location,
    retrieveAt: iso(req.firmware.retrieveDateTime)!,
    installAt: iso(req.firmware.installDateTime),
    retries: Math.max(0, Math.trunc(req.retries ?? DEFAULT_FIRMWARE_RETRIES)),
    retryIntervalS: Math.max(0, Math.trunc(req.retryInterval ?? DEFAULT_FIRMWARE_RETRY_INTERVAL_S)),
    signature: { certificatePem: req.firmware.signingCertificate, signatureBase64: req.firmware.signature },
  }),
});
