// `charger-agent dev-csms`: the bundled development CSMS on its own, for bringing up a board
// before a real CSMS is at hand. It accepts every charge point, prints each OCPP frame, and
// stops on SIGINT or SIGTERM. Not for production: no authentication, everything is Accepted.
import { DevCsms, DevDependenciesMissing } from './dev-csms.js';
import { errorText } from '../platform/errors.js';

export const DEV_CSMS_USAGE = `usage: charger-agent dev-csms [--port N] [--host ADDRESS]
  Runs the bundled development CSMS (OCPP 1.6J, strict schema checks) until Ctrl-C,
  printing every frame. It accepts every charge point and every card: for bring-up only.
  Needs the development dependencies (a source checkout after npm ci).
  --port N              TCP port, 0 for a free one (default 9000)
  --host ADDRESS        address to listen on (default 127.0.0.1; 0.0.0.0 for other machines)
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

function parse(args: string[]): { port: number; host: string } {
  let port = 9000;
  let host = '127.0.0.1';
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = args[i + 1];
    if (arg === '--port' || arg === '--host') {
      if (value === undefined || value.startsWith('--')) throw new UsageError(`${arg} needs a value`);
      i++;
      if (arg === '--host') {
        if (!/^[A-Za-z0-9.:_-]{1,253}$/.test(value)) throw new UsageError(`--host: expected an address or host name, got ${JSON.stringify(value)}`);
        host = value;
      } else {
        if (!/^[0-9]{1,5}$/.test(value) || Number(value) > 65535) throw new UsageError(`--port: expected a port 0..65535, got ${JSON.stringify(value)}`);
        port = Number(value);
      }
    } else {
      throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    }
  }
  return { port, host };
}

/** The URL a charge point's config names; a wildcard address is not one it can dial. */
function configUrl(host: string, port: number): string {
  const wildcard = host === '0.0.0.0' || host === '::';
  const shown = wildcard ? '<this machine\'s address>' : host.includes(':') ? `[${host}]` : host;
  return `ws://${shown}:${port}/ocpp`;
}

export async function runDevCsms(args: string[], io: DevCsmsCliIo = PROCESS_IO): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(`${DEV_CSMS_USAGE}\n`);
    return 0;
  }
  let opts: { port: number; host: string };
  try {
    opts = parse(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr(`charger-agent dev-csms: ${err.message}\n${DEV_CSMS_USAGE}\n`);
    return 2;
  }
  const csms = new DevCsms({ port: opts.port, host: opts.host });
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
  io.stdout(`put in the charge point's config: "csms": { "url": "${configUrl(opts.host, csms.port)}", "securityProfile": 0 }\n`);
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
