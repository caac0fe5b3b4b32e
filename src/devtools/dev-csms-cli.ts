// `charger-agent dev-csms`: the bundled development CSMS on its own, for bringing up a board
// before a real CSMS is at hand. It accepts every charge point, prints each OCPP frame, and
// stops on SIGINT or SIGTERM. Not for production: everything is Accepted; with --tls it also serves
// wss:// with the dev PKI, checks Basic auth and client certificates, and signs CSRs.
import { join, resolve } from 'node:path';
import { DevCsms, DevDependenciesMissing } from './dev-csms.js';
import { ensureDevPki, sourceCertsDir } from './dev-csms-security.js';
import { errorText } from '../platform/errors.js';

export const DEV_CSMS_USAGE = `usage: charger-agent dev-csms [--port N] [--host ADDRESS] [--tls] [--security-profile N]
                              [--authorization-key HEX] [--pki-dir DIR]
  Runs the bundled development CSMS (OCPP 1.6J, strict schema checks) until Ctrl-C,
  printing every frame. It accepts every charge point and every card: for bring-up only.
  Needs the development dependencies (a source checkout after npm ci).
  --port N              TCP port, 0 for a free one (default 9000)
  --host ADDRESS        address to listen on (default 127.0.0.1; 0.0.0.0 for other machines)
  --tls                 also serve wss:// on the same port with the dev PKI (made by
                        certs/make-dev-pki.sh when missing), check HTTP Basic auth and client
                        certificates, and answer SignCertificate with a CertificateSigned
  --security-profile N  refuse connections below security profile N (0-3; implies --tls)
  --authorization-key HEX
                        the Basic-auth password accepted from every charge point (32-40 hex
                        digits); without it only a key this CSMS set over OCPP is accepted
  --pki-dir DIR         the dev PKI directory (default certs/dev in the source tree)
exit codes: 0 stopped by SIGINT/SIGTERM, 1 cannot start, 2 bad usage`;

export interface DevCsmsCliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

const PROCESS_IO: DevCsmsCliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

class UsageError extends Error {}

interface CliOptions {
  port: number;
  host: string;
  tls: boolean;
  minimumProfile: 0 | 1 | 2 | 3;
  authorizationKey: string | undefined;
  pkiDir: string;
}

function parse(args: string[]): CliOptions {
  const o: CliOptions = { port: 9000, host: '127.0.0.1', tls: false, minimumProfile: 0, authorizationKey: undefined, pkiDir: join(sourceCertsDir(), 'dev') };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--tls') {
      o.tls = true;
      continue;
    }
    if (!['--port', '--host', '--security-profile', '--authorization-key', '--pki-dir'].includes(arg)) throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    const value = args[i + 1];
    if (value === undefined || value.startsWith('--')) throw new UsageError(`${arg} needs a value`);
    i++;
    if (arg === '--host') {
      if (!/^[A-Za-z0-9.:_-]{1,253}$/.test(value)) throw new UsageError(`--host: expected an address or host name, got ${JSON.stringify(value)}`);
      o.host = value;
    } else if (arg === '--port') {
      if (!/^[0-9]{1,5}$/.test(value) || Number(value) > 65535) throw new UsageError(`--port: expected a port 0..65535, got ${JSON.stringify(value)}`);
      o.port = Number(value);
    } else if (arg === '--security-profile') {
      if (!/^[0-3]$/.test(value)) throw new UsageError(`--security-profile: expected 0, 1, 2 or 3, got ${JSON.stringify(value)}`);
      o.minimumProfile = Number(value) as 0 | 1 | 2 | 3;
      if (o.minimumProfile > 0) o.tls = true;
    } else if (arg === '--authorization-key') {
      // Never echoed: it is a password.
      if (!/^(?:[0-9a-fA-F]{2}){16,20}$/.test(value)) throw new UsageError(`--authorization-key: expected 32 to 40 hex digits (16 to 20 bytes), got ${value.length} characters`);
      o.authorizationKey = value;
    } else {
      o.pkiDir = resolve(value);
    }
  }
  return o;
}

/** The URL a charge point's config names; a wildcard address is not one it can dial. */
function configUrl(host: string, port: number, tls = false): string {
  const wildcard = host === '0.0.0.0' || host === '::';
  const shown = wildcard ? '<this machine\'s address>' : host.includes(':') ? `[${host}]` : host;
  return `${tls ? 'wss' : 'ws'}://${shown}:${port}/ocpp`;
}

export async function runDevCsms(args: string[], io: DevCsmsCliIo = PROCESS_IO): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(`${DEV_CSMS_USAGE}\n`);
    return 0;
  }
  let opts: CliOptions;
  try {
    opts = parse(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr(`charger-agent dev-csms: ${err.message}\n${DEV_CSMS_USAGE}\n`);
    return 2;
  }
  if (opts.tls) {
    try {
      await ensureDevPki(opts.pkiDir);
    } catch (err) {
      io.stderr(`charger-agent dev-csms: cannot make the dev PKI in ${opts.pkiDir}: ${errorText(err)}\n`);
      return 1;
    }
  }
  const security = opts.tls
    ? { pkiDir: opts.pkiDir, minimumProfile: opts.minimumProfile, ...(opts.authorizationKey !== undefined ? { authorizationKey: opts.authorizationKey } : {}) }
    : undefined;
  const csms = new DevCsms({ port: opts.port, host: opts.host, ...(security !== undefined ? { security } : {}) });
  csms.on('admission', (a) => {
    if (a.refused !== undefined) io.stdout(`refused (401): ${a.identity}: ${a.refused}\n`);
  });
  csms.on('connect', (id, protocol) => io.stdout(`connected: ${id} (subprotocol ${protocol ?? 'none'})\n`));
  csms.on('disconnect', (id) => io.stdout(`disconnected: ${id}\n`));
  csms.on('frame', (id, outbound, text) => io.stdout(`${outbound ? '->' : '<-'} ${id} ${text}\n`));
  try {
    await csms.start();
  } catch (err) {
    if (err instanceof DevDependenciesMissing) {
      io.stderr('charger-agent dev-csms: dev-csms needs the development dependencies: run from a source checkout with npm ci\n');
    } else {
      io.stderr(`charger-agent dev-csms: cannot listen on ${opts.host}:${opts.port}: ${errorText(err)}\n`);
    }
    return 1;
  }
  io.stdout(`dev CSMS listening on ${opts.host}:${csms.port}\n`);
  const profile = opts.minimumProfile;
  if (!opts.tls || profile < 2) {
    io.stdout(`put in the charge point's config: "csms": { "url": "${configUrl(opts.host, csms.port)}", "securityProfile": ${profile} }\n`);
  }
  if (opts.tls) {
    io.stdout(`wss:// on the same port; trust ${join(opts.pkiDir, 'csms-root-ca.crt')} (csms.caFile, or InstallCertificate CentralSystemRootCertificate)\n`);
    if (profile >= 2) {
      io.stdout(`put in the charge point's config: "csms": { "url": "${configUrl(opts.host, csms.port, true)}", "securityProfile": ${profile}, "caFile": "${join(opts.pkiDir, 'csms-root-ca.crt')}" }\n`);
    }
  }
  io.stdout('Ctrl-C stops it\n');
  return new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      io.stdout(`${signal}: stopping\n`);
      csms.stop().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
