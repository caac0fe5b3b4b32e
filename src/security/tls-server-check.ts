// Our own check of the CSMS's TLS server before any HTTP byte is sent (Security Whitepaper §2.3-2.4,
// profiles 2 and 3): TLS 1.2+, the whitepaper's cipher suites (+ TLS 1.3), the certificate chain
// verified against the installed CentralSystemRootCertificates at the floored time, host name,
// key size and no SHA-1. Used as the `createConnection` of the WebSocket client: the socket is
// handed to the HTTP layer only after the checks pass, so a refused server never sees the upgrade.
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { connect, rootCertificates, type ConnectionOptions, type DetailedPeerCertificate, type TLSSocket } from 'node:tls';
import { CertificateCheckError, EKU, verifyChain, type CertificateProblem } from './certificate-validation.js';

/** SecurityEventNotification types (whitepaper Appendix 1) a failed connection maps to. */
export type TlsFailureClass = 'InvalidCentralSystemCertificate' | 'InvalidTLSVersion' | 'InvalidTLSCipherSuite';

export class TlsCheckError extends Error {
  override readonly name = 'TlsCheckError';
  constructor(
    readonly classification: TlsFailureClass,
    message: string,
    readonly problem?: CertificateProblem,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Whitepaper §2.3: (ECDHE-ECDSA AES-128/256-GCM) or (RSA AES-128/256-GCM); ECDHE-RSA GCM added (forward
 * secret, what RSA-keyed CSMSs negotiate), and the TLS 1.3 suites. Nothing with CBC, SHA-1 MACs or RC4.
 */
export const WHITEPAPER_CIPHERS = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_AES_128_GCM_SHA256',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'AES128-GCM-SHA256',
  'AES256-GCM-SHA384',
].join(':');

const ALLOWED_PROTOCOLS = new Set(['TLSv1.2', 'TLSv1.3']);

/** The class of a TLS-phase failure from OpenSSL/Node's error code; undefined when it is not a TLS refusal. */
export function classifyTlsError(err: Error & { code?: string }): TlsFailureClass | undefined {
  if (err instanceof TlsCheckError) return err.classification;
  const code = err.code ?? '';
  if (/UNSUPPORTED_PROTOCOL|PROTOCOL_VERSION|WRONG_VERSION_NUMBER|NO_PROTOCOLS_AVAILABLE|VERSION_TOO_LOW/.test(code)) return 'InvalidTLSVersion';
  if (/NO_SHARED_CIPHER|NO_CIPHERS_AVAILABLE|ALERT_HANDSHAKE_FAILURE|INSUFFICIENT_SECURITY/.test(code)) return 'InvalidTLSCipherSuite';
  if (/CERT|KEY_TOO_SMALL|MD_TOO_WEAK|UNABLE_TO_(GET|VERIFY)|SELF_SIGNED|ALTNAME|BAD_CERTIFICATE|UNKNOWN_CA/.test(code)) return 'InvalidCentralSystemCertificate';
  return undefined;
}

/** The certificates the server presented, leaf first (Node links them through issuerCertificate). */
function presentedChain(socket: TLSSocket): X509Certificate[] {
  const out: X509Certificate[] = [];
  const seen = new Set<string>();
  let c: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  while (c !== undefined && c.raw !== undefined && !seen.has(c.fingerprint256) && out.length < 10) {
    seen.add(c.fingerprint256);
    out.push(new X509Certificate(c.raw));
    c = c.issuerCertificate;
  }
  return out;
}

export interface ServerCheckOptions {
  /** Host name or IP the certificate must be issued for. */
  readonly host: string;
  /** Trust anchors: the installed CentralSystemRootCertificates (or the system CAs when none). */
  readonly roots: readonly X509Certificate[];
  /** The floored validation time (clock-floor.ts). */
  readonly at: Date;
  /** The system time OpenSSL used; only when `at` is later may OpenSSL's "not yet valid" be overruled. */
  readonly systemNow: Date;
}

/**
 * Throws TlsCheckError unless the established session is acceptable. Accepts only when our own chain
 * check passes AND OpenSSL accepted too, except for a certificate OpenSSL found not yet valid while
 * the system clock is behind the floor (a board booted at 1970): then our check at the floored time decides.
 */
export function checkServerSession(socket: TLSSocket, o: ServerCheckOptions): void {
  const protocol = socket.getProtocol();
  if (protocol === null || !ALLOWED_PROTOCOLS.has(protocol)) {
    throw new TlsCheckError('InvalidTLSVersion', `server negotiated ${protocol ?? 'no protocol'}, need TLS 1.2 or above`);
  }
  const cipher = socket.getCipher().name;
  if (!WHITEPAPER_CIPHERS.split(':').includes(cipher)) {
    throw new TlsCheckError('InvalidTLSCipherSuite', `server negotiated cipher suite ${cipher}`);
  }
  try {
    verifyChain(presentedChain(socket), o.roots, { at: o.at, host: o.host, purpose: EKU.serverAuth });
  } catch (err) {
    if (err instanceof CertificateCheckError) {
      throw new TlsCheckError('InvalidCentralSystemCertificate', `server certificate refused: ${err.message}`, err.problem, { cause: err });
    }
    throw new TlsCheckError('InvalidCentralSystemCertificate', `server certificate refused: ${(err as Error).message}`, undefined, { cause: err });
  }
  if (socket.authorized) return;
  const opensslError = String(socket.authorizationError ?? 'unknown');
  const clockBehind = o.systemNow.getTime() < o.at.getTime();
  if (opensslError === 'CERT_NOT_YET_VALID' && clockBehind) return;
  throw new TlsCheckError('InvalidCentralSystemCertificate', `server certificate refused by OpenSSL: ${opensslError}`);
}

export interface VerifiedConnectOptions {
  /** PEM certificates to trust instead of the system CAs (the installed CentralSystemRootCertificates). */
  readonly ca?: readonly string[];
  /** The floored validation time; default the system time. */
  readonly validationTime?: () => Date;
  /** Bound on TCP connect + TLS handshake; the HTTP handshake timeout starts only afterwards. */
  readonly handshakeTimeoutMs: number;
}

let systemRoots: X509Certificate[] | undefined;

function parseRoots(ca: readonly string[] | undefined): X509Certificate[] {
  if (ca === undefined) return (systemRoots ??= rootCertificates.map((pem) => new X509Certificate(pem)));
  return ca.flatMap((pem) => (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []).map((b) => new X509Certificate(b)));
}

type Created = (err: Error | null, socket?: TLSSocket) => void;

/** A `createConnection` for http/ws: TLS connect, our checks, then the socket (or a TlsCheckError). */
export function verifiedTlsConnect(v: VerifiedConnectOptions): (opts: ConnectionOptions, created: Created) => undefined {
  const roots = parseRoots(v.ca);
  return (opts, created) => {
    const host = opts.host ?? 'localhost';
    const socket = connect({
      ...opts,
      path: undefined, // http passes the request path here; tls.connect would take it for a unix socket
      servername: opts.servername ?? (isIP(host) !== 0 ? '' : host),
      ...(v.ca !== undefined ? { ca: [...v.ca] } : {}),
      minVersion: 'TLSv1.2',
      ciphers: WHITEPAPER_CIPHERS,
      // OpenSSL's verdict is read in checkServerSession; rejecting here would hide a 1970 clock.
      rejectUnauthorized: false,
    });
    let done = false;
    const finish = (err: Error | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.off('secureConnect', onSecure).off('error', finish).off('close', onClose);
      if (err === null) {
        created(null, socket);
        return;
      }
      socket.destroy();
      const cls = classifyTlsError(err as Error & { code?: string });
      created(cls !== undefined && !(err instanceof TlsCheckError) ? new TlsCheckError(cls, err.message, undefined, { cause: err }) : err);
    };
    const timer = setTimeout(() => finish(new Error(`TLS handshake not done within ${v.handshakeTimeoutMs} ms`)), v.handshakeTimeoutMs);
    const onSecure = (): void => {
      try {
        const systemNow = new Date();
        checkServerSession(socket, { host, roots, at: v.validationTime?.() ?? systemNow, systemNow });
        finish(null);
      } catch (err) {
        finish(err as Error);
      }
    };
    const onClose = (): void => finish(new Error('connection closed during the TLS handshake'));
    socket.once('secureConnect', onSecure).once('error', finish).once('close', onClose);
    return undefined;
  };
}

/** The SecurityEventNotification class of a transport failure, when it was a TLS refusal. */
export function tlsFailureClass(error: Error): TlsFailureClass | undefined {
  const cause = error.cause;
  return cause instanceof TlsCheckError ? cause.classification : undefined;
}
