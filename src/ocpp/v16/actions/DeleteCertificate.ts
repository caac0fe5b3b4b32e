// Security whitepaper DeleteCertificate: removes the installed root the hash data names (hex case
// and the serial's leading zeroes do not matter). The last CentralSystemRootCertificate is kept
// (Failed) while security profile 2 or 3 needs it to reach the CSMS at all.
import type { IncomingHandler } from './context.js';

export const DeleteCertificate: IncomingHandler<'DeleteCertificate'> = (req, { security }) => ({
  status: security.certificates.delete(req.certificateHashData, { keepLastCentralSystemRoot: security.securityProfile() >= 2 }),
});
