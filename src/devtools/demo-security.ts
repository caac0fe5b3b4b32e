// `charger-agent demo --security N`: the charger goes from security profile 0 to N over OCPP alone,
// as an operator would take a factory-fresh charger to profile 3 (security whitepaper §2, A05, A02):
//   AuthorizationKey -> SecurityProfile 1 (Basic auth) -> InstallCertificate(CentralSystemRootCertificate)
//   -> SecurityProfile 2 (wss://) -> ExtendedTriggerMessage(SignChargePointCertificate) -> SignCertificate
//   -> CertificateSigned -> SecurityProfile 3 (TLS client certificate).
// The dev CSMS admits strictly (dev-csms-security.ts), so each step shows on the connection it admits.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningAgent } from '../main.js';
import { redactOcppPayload } from '../platform/logger.js';
import type { DevCsms } from './dev-csms.js';

export type DemoSay = (text: string) => void;
type Until = (cond: () => boolean, what: string, timeoutMs?: number) => Promise<void>;

/** `--security N` (1..3), or undefined when absent; throws a usage text on a bad value. */
export function securityTarget(args: string[]): 1 | 2 | 3 | undefined {
  const i = args.indexOf('--security');
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined || !/^[1-3]$/.test(v)) throw new Error(`--security: expected 1, 2 or 3, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`);
  return Number(v) as 1 | 2 | 3;
}

/** A frame as the demo prints it: secrets redacted (the AuthorizationKey), certificates and CSRs shortened. */
export function printableFrame(text: string): string {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return text;
  }
  if (!Array.isArray(frame)) return text;
  const shown = frame[0] === 2 && typeof frame[2] === 'string' ? [...frame.slice(0, 3), redactOcppPayload(frame[2], frame[3])] : frame;
  return JSON.stringify(shown).replace(/-----BEGIN ([A-Z ]+)-----[^"]*?-----END \1-----(\\n)?/g, (_m, kind: string) => `<PEM ${kind.toLowerCase()}>`);
}

async function expectStatus(csms: DevCsms, cpId: string, action: string, params: object, say: DemoSay): Promise<void> {
  const answer = (await csms.call(cpId, action, params)) as { status?: string };
  if (answer.status !== 'Accepted') throw new Error(`${action} answered ${String(answer.status)}`);
  say(`the charger answers ${action}: Accepted`);
}

/** Waits for the agent to be registered again on a connection the CSMS admitted with `profile`. */
async function reconnectedWith(a: RunningAgent, csms: DevCsms, cpId: string, profile: number, since: number, until: Until): Promise<void> {
  await until(() => csms.admissions.slice(since).some((x) => x.identity === cpId && x.profile === profile && x.refused === undefined), `a connection with profile ${profile}`);
  await until(() => a.csms.isConnected && csms.isConnected(cpId) && a.session.registrationStatus === 'Accepted', 'registration');
}

export async function upgradeSecurity(a: RunningAgent, csms: DevCsms, cpId: string, pkiDir: string, target: 1 | 2 | 3, say: DemoSay, until: Until): Promise<void> {
  const key = randomBytes(20).toString('hex');
  say(`security profile 0 -> ${target} over OCPP alone; the CSMS admits each connection strictly`);
  say('the CSMS sets a 20-byte AuthorizationKey (ChangeConfiguration; write-only, shown redacted)');
  await expectStatus(csms, cpId, 'ChangeConfiguration', { key: 'AuthorizationKey', value: key }, say);
  let mark = csms.admissions.length;
  say('the CSMS raises SecurityProfile to 1: the charger closes the connection after its answer and comes back with HTTP Basic auth');
  await expectStatus(csms, cpId, 'ChangeConfiguration', { key: 'SecurityProfile', value: '1' }, say);
  await reconnectedWith(a, csms, cpId, 1, mark, until);
  say('connected with profile 1 (ws:// + Basic auth, user = charge point id, password = AuthorizationKey)');
  if (target === 1) return;

  say('the CSMS installs its root certificate (InstallCertificate CentralSystemRootCertificate)');
  const root = readFileSync(join(pkiDir, 'csms-root-ca.crt'), 'utf8');
  await expectStatus(csms, cpId, 'InstallCertificate', { certificateType: 'CentralSystemRootCertificate', certificate: root }, say);
  mark = csms.admissions.length;
  say('the CSMS raises SecurityProfile to 2: the charger reconnects on wss:// (same host, port and path)');
  await expectStatus(csms, cpId, 'ChangeConfiguration', { key: 'SecurityProfile', value: '2' }, say);
  await reconnectedWith(a, csms, cpId, 2, mark, until);
  say('connected with profile 2 (TLS, server certificate checked against the installed root, + Basic auth)');
  if (target === 2) return;

  say('the CSMS asks for a charge-point certificate (ExtendedTriggerMessage SignChargePointCertificate)');
  const signedBefore = csms.callsOf('CertificateSigned.conf').length;
  await expectStatus(csms, cpId, 'ExtendedTriggerMessage', { requestedMessage: 'SignChargePointCertificate' }, say);
  await until(() => csms.callsOf('SignCertificate').length > 0, 'SignCertificate');
  say('the charger sent a CSR (SignCertificate); the CSMS signs it with its charge-point CA and sends CertificateSigned');
  await until(() => csms.callsOf('CertificateSigned.conf').length > signedBefore, 'the CertificateSigned answer');
  const signed = csms.callsOf('CertificateSigned.conf').at(-1)!.params;
  if (signed.status !== 'Accepted') throw new Error(`CertificateSigned answered ${String(signed.status)}`);
  say('the charger checked the chain and its pending key, and installed the certificate: CertificateSigned Accepted');
  await until(() => a.csms.isConnected && csms.isConnected(cpId) && a.session.registrationStatus === 'Accepted', 'the connection after CertificateSigned');
  mark = csms.admissions.length;
  say('the CSMS raises SecurityProfile to 3: the charger reconnects presenting its new certificate (mutual TLS)');
  await expectStatus(csms, cpId, 'ChangeConfiguration', { key: 'SecurityProfile', value: '3' }, say);
  await reconnectedWith(a, csms, cpId, 3, mark, until);
  say('connected with profile 3 (TLS with the charge-point certificate; no password on the wire)');
}
