// Security whitepaper InstallCertificate: a CentralSystemRootCertificate (TLS trust anchor) or a
// ManufacturerRootCertificate (firmware signing). The store checks it (a valid, self-signed CA,
// strong key, no SHA-1) and refuses it past CertificateStoreMaxLength: Rejected; a write that
// fails: Failed.
import type { IncomingHandler } from './context.js';

export const InstallCertificate: IncomingHandler<'InstallCertificate'> = (req, { security, session }) => {
  const result = security.certificates.install(req.certificateType, req.certificate);
  if (result.status !== 'Accepted') session.outgoing.log.warn({ certificateType: req.certificateType, reason: result.reason }, `InstallCertificate ${result.status}`);
  return { status: result.status };
};
