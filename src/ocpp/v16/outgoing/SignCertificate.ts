// Security whitepaper SignCertificate: the charge point sends a CSR (CN = its identity, O = CpoName)
// for the CSMS to have signed; the certificate comes back later in CertificateSigned. When to ask
// (renewal, ExtendedTriggerMessage SignChargePointCertificate) is certificate-renewal.ts's.
import type { RequestOf, ResponseOf } from '../actions/types.js';
import type { OutgoingAction, RpcCaller } from './context.js';

export function signCertificateRequest(csrPem: string): RequestOf<'SignCertificate'> {
  return { csr: csrPem };
}

/** Sends the CSR; the CSMS's answer says whether it will forward it to a CA. Throws when not answered. */
export async function sendSignCertificate(rpc: RpcCaller, csrPem: string): Promise<ResponseOf<'SignCertificate'>['status']> {
  return (await rpc.call('SignCertificate', signCertificateRequest(csrPem))).status;
}

// Not a TriggerMessage target: ExtendedTriggerMessage asks for it as SignChargePointCertificate.
export const SignCertificate: OutgoingAction<'SignCertificate'> = {
  action: 'SignCertificate',
};
