// Security whitepaper CertificateSigned: the charge-point certificate for our pending CSR. Accepted
// only when the chain verifies up to an installed CentralSystemRootCertificate (through the CA
// certificates sent with it), the leaf is valid (now, or from a later start), strong, for client authentication, carries
// our identity as CN and belongs to a pending key; then certificate and key replace the old pair in
// one atomic write and the connection is renewed so that it is used (a certificate whose validity
// starts later: from then on). Otherwise Rejected, and an InvalidChargePointCertificate event.
import { CONFIGURATION_KEYS } from '../configuration-keys.js';
import type { IncomingHandler } from './context.js';

export const CertificateSigned: IncomingHandler<'CertificateSigned'> = (req, { security, config }) => {
  const max = config.getInt('CertificateSignedMaxChainSize') || Number(CONFIGURATION_KEYS.CertificateSignedMaxChainSize.default);
  const result =
    req.certificateChain.length > max
      ? ({ status: 'Rejected', reason: `certificate chain of ${req.certificateChain.length} characters is over CertificateSignedMaxChainSize ${max}` } as const)
      : security.certificates.installChargePointCertificate(req.certificateChain, { commonName: security.chargePointId });
  if (result.status === 'Rejected') {
    security.events.report('InvalidChargePointCertificate', result.reason);
    return { status: 'Rejected' };
  }
  const reconnect = (why: string) => security.reconnect.reconnect(why);
  if (result.activatesAt === undefined) {
    security.renewal.signed();
    // After the answer is on the wire: the new certificate takes effect with the next connection.
    setImmediate(() => reconnect('new charge point certificate installed'));
  } else {
    // Whitepaper: a certificate signed for a later time is used from its "not valid before" on.
    security.renewal.signed({ at: result.activatesAt, activated: () => reconnect('charge point certificate signed in advance now valid') });
  }
  return { status: 'Accepted' };
};
