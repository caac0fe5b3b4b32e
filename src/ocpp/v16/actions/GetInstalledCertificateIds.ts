// Security whitepaper GetInstalledCertificateIds: the hash data (SHA-256 of the issuer's DER Name
// and of its public key bits, the serial without leading zeroes: certificate-hash.ts) of every
// installed root of the type asked; NotFound when there is none.
import type { IncomingHandler } from './context.js';

export const GetInstalledCertificateIds: IncomingHandler<'GetInstalledCertificateIds'> = (req, { security }) => {
  const certificateHashData = security.certificates.list(req.certificateType);
  return certificateHashData.length === 0 ? { status: 'NotFound' } : { status: 'Accepted', certificateHashData };
};
