// The development CSMS's security side (OCPP 1.6 security whitepaper, development only):
// - one port serving ws:// and wss:// (the first byte tells a TLS ClientHello from HTTP), so a
//   charger going from profile 1 to 2 reconnects on the same host, port and path;
// - strict admission on the upgrade: Basic auth checked against the key this CSMS set, a client
//   certificate checked against the dev PKI, and never a profile below the one this CSMS set;
// - CSR signing with the dev PKI's charge-point CA through the openssl CLI (ocpp-rpc's strict 1.6
//   schemas include the whitepaper's messages, so they are checked too).
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttp, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createHttps, type Server as HttpsServer } from 'node:https';
import { createServer as createNet, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';

export interface DevCsmsSecurityOptions {
  /** A directory made by certs/make-dev-pki.sh; wss:// is served with its csms-server certificate. */
  readonly pkiDir: string;
  /** The lowest profile any charge point may connect with until this CSMS sets one. Default 0. */
  readonly minimumProfile?: 0 | 1 | 2 | 3;
  /** AuthorizationKey accepted for every charge point (the CLI's --authorization-key); else only keys set over OCPP. */
  readonly authorizationKey?: string;
}

export interface Admission {
  readonly identity: string;
  /** The profile the connection presents: 0 plain, 1 plain + Basic, 2 TLS + Basic, 3 TLS + client certificate. */
  readonly profile: number;
  readonly tls: boolean;
  readonly refused?: string;
  /** The client certificate the charge point presented over TLS (tests compare it with the one signed). */
  readonly clientCertificate?: { readonly serialNumber: string; readonly fingerprint256: string; readonly validTo: string };
}

/** The admission rules: the profile each charge point must at least use and the key it must present. */
export class SecurityPolicy {
  readonly #required = new Map<string, number>();
  /** Profiles this CSMS set: they become required once the charge point has connected with them. */
  readonly #targets = new Map<string, number>();
  readonly #keys = new Map<string, string>();
  constructor(private readonly o: DevCsmsSecurityOptions) {}

  /** The CSMS set SecurityProfile: required from the first connection that uses it (the charger may fall back before). */
  setTargetProfile(identity: string, profile: number): void {
    this.#targets.set(identity, profile);
  }

  setAuthorizationKey(identity: string, key: string): void {
    this.#keys.set(identity, key);
  }

  requiredProfile(identity: string): number {
    return this.#required.get(identity) ?? this.o.minimumProfile ?? 0;
  }

  admit(req: IncomingMessage): Admission {
    const identity = decodeURIComponent((req.url ?? '').split('?')[0]!.split('/').pop() ?? '');
    const socket = req.socket;
    const tls = socket instanceof TLSSocket;
    const refuse = (profile: number, refused: string): Admission => ({ identity, profile, tls, refused });
    let basic = false;
    const header = req.headers.authorization;
    if (header !== undefined) {
      const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header);
      const decoded = m === null ? '' : Buffer.from(m[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const expected = this.#keys.get(identity) ?? this.o.authorizationKey;
      if (colon < 0 || decoded.slice(0, colon) !== identity || expected === undefined || decoded.slice(colon + 1) !== expected) {
        return refuse(-1, 'Basic credentials refused');
      }
      basic = true;
    }
    let profile: number;
    let clientCertificate: Admission['clientCertificate'];
    if (tls) {
      const peer = (socket as TLSSocket).getPeerCertificate();
      // An empty object when the client presented none.
      if (peer.serialNumber !== undefined) clientCertificate = { serialNumber: peer.serialNumber, fingerprint256: peer.fingerprint256, validTo: peer.valid_to };
      const certified = (socket as TLSSocket).authorized && peer.subject?.CN === identity;
      profile = certified ? 3 : basic ? 2 : -1;
      if (profile < 0) return refuse(profile, 'TLS without Basic credentials nor a valid client certificate');
    } else {
      profile = basic ? 1 : 0;
    }
    const required = this.requiredProfile(identity);
    if (profile < required) return refuse(profile, `profile ${profile} below the required ${required}`);
    const target = this.#targets.get(identity);
    if (target !== undefined && profile >= target) this.#required.set(identity, Math.max(required, target));
    return { identity, profile, tls, ...(clientCertificate !== undefined ? { clientCertificate } : {}) };
  }
}

/**
 * One TCP port for ws:// and wss://: each connection goes to the HTTP or the HTTPS server by its
 * first byte (0x16 starts a TLS handshake record). Both servers hand upgrades to `onUpgrade`.
 */
export class DualListener {
  readonly http: HttpServer;
  readonly https: HttpsServer | null;
  readonly #net: NetServer;
  readonly #sockets = new Set<Socket>();
  /** Plain (non-TLS) connections seen, for the no-downgrade tests. */
  plainConnections = 0;
  tlsConnections = 0;

  constructor(pkiDir: string | null, onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void) {
    const notFound = (_req: IncomingMessage, res: { statusCode: number; end(): void }): void => {
      res.statusCode = 404;
      res.end();
    };
    this.http = createHttp(notFound);
    this.http.on('upgrade', onUpgrade);
    this.https = null;
    if (pkiDir !== null) {
      const pem = (f: string): string => readFileSync(join(pkiDir, f), 'utf8');
      this.https = createHttps(
        {
          cert: pem('csms-server-chain.crt'),
          key: pem('csms-server.key'),
          // Client certificates are asked for and checked against the dev root (the charge-point CA
          // sits under it); without one a charger may still come in with Basic auth (profile 2).
          requestCert: true,
          rejectUnauthorized: false,
          ca: [pem('csms-root-ca.crt')],
          minVersion: 'TLSv1.2',
        },
        notFound,
      );
      this.https.on('upgrade', onUpgrade);
    }
    this.#net = createNet((socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      socket.once('data', (first: Buffer) => {
        const tls = first[0] === 0x16;
        if (tls) this.tlsConnections++;
        else this.plainConnections++;
        if (!tls) {
          socket.pause();
          socket.unshift(first);
          this.http.emit('connection', socket);
          socket.resume();
          return;
        }
        if (this.https === null) return void socket.destroy();
        // TLS reads a net.Socket's handle directly, past what was unshifted: hand it a stream instead.
        this.https.emit('connection', replayingStream(socket, first));
      });
      socket.on('error', () => socket.destroy());
    });
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#net.once('error', reject);
      this.#net.listen(port, host, () => {
        this.#net.off('error', reject);
        const addr = this.#net.address();
        resolve(typeof addr === 'object' && addr ? addr.port : 0);
      });
    });
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    this.http.closeAllConnections();
    this.https?.closeAllConnections();
    await new Promise<void>((resolve) => this.#net.close(() => resolve()));
  }
}

/** A duplex over `socket` that first yields `first` (already read), then the socket's data. */
function replayingStream(socket: Socket, first: Buffer): Duplex {
  const stream = new Duplex({
    read: () => void socket.resume(),
    write: (chunk: Buffer, _enc, done) => void socket.write(chunk, done),
    final: (done) => void socket.end(done),
    destroy: (err, done) => {
      socket.destroy(err ?? undefined);
      done(err);
    },
  });
  stream.push(first);
  socket.on('data', (d: Buffer) => {
    if (!stream.push(d)) socket.pause();
  });
  socket.once('end', () => stream.push(null));
  socket.once('close', () => stream.destroy());
  return stream;
}

/** Answer an upgrade with an HTTP error and drop the socket (the handshake never reaches ws). */
export function refuseUpgrade(socket: Duplex, status: 401 | 404, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * Sign a PEM CSR with the dev PKI's charge-point CA, valid for `days` (a short one lets tests
 * exercise the renewal); resolves the certificate chain (leaf, then CA).
 */
export function signCsr(pkiDir: string, csrPem: string, days = 825): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'dev-csms-csr-'));
  writeFileSync(join(dir, 'req.csr'), csrPem);
  writeFileSync(join(dir, 'ext'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=clientAuth\n');
  const serial = `0x${Date.now().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16).padStart(4, '0')}`;
  const args = ['x509', '-req', '-sha256', '-in', join(dir, 'req.csr'), '-CA', join(pkiDir, 'charge-point-ca.crt'), '-CAkey', join(pkiDir, 'charge-point-ca.key'),
    '-set_serial', serial, '-days', String(days), '-extfile', join(dir, 'ext')];
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { encoding: 'utf8' }, (err, stdout, stderr) => {
      rmSync(dir, { recursive: true, force: true });
      if (err) return reject(new Error(`openssl could not sign the CSR: ${stderr.trim() || err.message}`));
      resolve(`${stdout.trim()}\n${readFileSync(join(pkiDir, 'charge-point-ca.crt'), 'utf8').trim()}\n`);
    });
  });
}

/** The certs/ directory of the source tree (from src/devtools or dist/src/devtools). */
export function sourceCertsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const fromSrc = join(here, '..', '..', 'certs');
  const fromDist = join(here, '..', '..', '..', 'certs');
  try {
    readdirSync(fromSrc);
    return fromSrc;
  } catch {
    return fromDist;
  }
}

/** Make the dev PKI in `dir` with certs/make-dev-pki.sh when it is not there yet. */
export function ensureDevPki(dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('bash', [join(sourceCertsDir(), 'make-dev-pki.sh'), dir], (err, _out, stderr) =>
      err ? reject(new Error(`make-dev-pki.sh failed: ${String(stderr).trim() || err.message}`)) : resolve(),
    );
  });
}
