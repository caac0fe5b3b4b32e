// Standalone simulated charge controller (controller-serial.md) on a pty pair:
// `node dist/hal/sim/sim-cli.js [--connectors N] [--single-phase] ...` prints the
// agent-side path, takes scripting commands on stdin and prints the wire traffic.
// runSimCommand() is the interpreter, reusable from a diagnostics socket.
import { realpathSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { errorText } from '../log.js';
import { PILOT_STATES, type PilotState } from '../controller/protocol/frame-table.js';
import { openPtyPair, type PtyBackend } from './pty-pair.js';
import { SimulatedController } from './simulated-controller.js';

export const SIM_COMMANDS_HELP = [
  'plug <c> [cableA] [evMaxA]   EV plugged in (pilot B, PP cable capacity)',
  'charge <c> [vent]            EV requests energy (pilot C, D with vent)',
  'pause <c>                    EV pauses / full (pilot B)',
  'unplug <c>                   cable removed (pilot A, PP 0)',
  'evmax <c> <amps>             EV draws at most <amps>',
  'pilot <c> <A..F>             force a pilot state',
  'card <uid>                   present a card (8/14/20 hex digits)',
  'fault <c> <code>             raise a fault (c 0 = station)',
  'clear <c> <code>             clear a fault',
  'reboot                       controller reboot ($HELLO follows)',
  'mute on|off                  dead controller: answer and send nothing',
  'drop <n>                     swallow the next n ACK/NAK lines',
  'raw <text>                   send <text> plus \\n as is (garbage tests)',
  'state                        show the simulated state',
  'quit                         stop (handled by the caller)',
].join('\n');

function intArg(s: string | undefined, what: string): number {
  if (s === undefined || !/^[0-9]+$/.test(s)) throw new Error(`${what} must be a whole number`);
  return Number(s);
}

function numArg(s: string | undefined, what: string): number {
  const n = s === undefined ? Number.NaN : Number(s);
  if (!Number.isFinite(n)) throw new Error(`${what} must be a number`);
  return n;
}

/** Human-readable state of every connector and the station. */
export function formatSimState(sim: SimulatedController): string {
  const lines: string[] = [];
  for (let c = 1; c <= sim.connectorCount; c++) {
    const s = sim.state(c);
    lines.push(
      `connector ${c}: pilot ${s.pilot}, cable ${s.pp} A, ${s.enabled ? `enabled ${s.offeredAmps} A${s.fallback ? ' (fallback)' : ''}` : 'disabled'}, ` +
        `contactor ${s.contactor ? 'closed' : 'open'}, lock ${s.lock}, ${s.currentA} A, ${s.energyWh} Wh` +
        (s.faults.length > 0 ? `, faults ${s.faults.join(' ')}` : ''),
    );
  }
  const cfg = sim.config;
  const station = sim.stationFaults;
  lines.push(
    `station: uptime ${sim.uptimeSeconds} s, METER_MS ${cfg.meterMs}, WATCHDOG_MS ${cfg.watchdogMs}, FALLBACK_A ${cfg.fallbackA}` +
      (station.length > 0 ? `, faults ${station.join(' ')}` : '') +
      (sim.isMuted ? ', MUTED' : '') +
      (sim.portOpen ? '' : ', device closed'),
  );
  return lines.join('\n');
}

/**
 * Run one scripting command against the simulator and return what to print.
 * Never throws: a bad command returns `error: ...`. `quit` returns `quit`; stopping is the caller's job.
 */
export function runSimCommand(sim: SimulatedController, line: string): string {
  const words = line.trim().split(/\s+/).filter((w) => w !== '');
  const [verb, a1, a2, a3] = words;
  if (verb === undefined) return '';
  try {
    switch (verb.toLowerCase()) {
      case 'plug': {
        const c = intArg(a1, 'connector');
        sim.plugIn(c, {
          cableAmps: a2 === undefined ? 32 : intArg(a2, 'cable amps'),
          evMaxAmps: a3 === undefined ? 32 : numArg(a3, 'EV max amps'),
        });
        return `connector ${c}: EV plugged in`;
      }
      case 'charge': {
        const c = intArg(a1, 'connector');
        sim.evRequestEnergy(c, { ventilation: a2 === 'vent' });
        return `connector ${c}: EV requests energy`;
      }
      case 'pause': {
        const c = intArg(a1, 'connector');
        sim.evPause(c);
        return `connector ${c}: EV paused`;
      }
      case 'unplug': {
        const c = intArg(a1, 'connector');
        sim.unplug(c);
        return `connector ${c}: unplugged`;
      }
      case 'evmax': {
        const c = intArg(a1, 'connector');
        sim.evSetMaxAmps(c, numArg(a2, 'amps'));
        return `connector ${c}: EV draws at most ${a2} A`;
      }
      case 'pilot': {
        const c = intArg(a1, 'connector');
        const st = (a2 ?? '').toUpperCase();
        if (!(PILOT_STATES as readonly string[]).includes(st)) throw new Error('pilot state must be A..F');
        sim.setPilot(c, st as PilotState);
        return `connector ${c}: pilot ${st}`;
      }
      case 'card':
        if (a1 === undefined) throw new Error('card needs a UID');
        sim.swipeCard(a1);
        return `card ${a1.toUpperCase()} presented`;
      case 'fault': {
        const c = intArg(a1, 'connector');
        if (a2 === undefined) throw new Error('fault needs a code');
        sim.raiseFault(c, a2.toUpperCase());
        return `fault ${a2.toUpperCase()} raised on ${c}`;
      }
      case 'clear': {
        const c = intArg(a1, 'connector');
        if (a2 === undefined) throw new Error('clear needs a code');
        sim.clearFault(c, a2.toUpperCase());
        return `fault ${a2.toUpperCase()} cleared on ${c}`;
      }
      case 'reboot':
        sim.reboot();
        return 'controller rebooting';
      case 'mute':
        if (a1 !== 'on' && a1 !== 'off') throw new Error('mute on|off');
        sim.setMute(a1 === 'on');
        return a1 === 'on' ? 'controller muted (dead)' : 'controller answering again';
      case 'drop': {
        const n = intArg(a1, 'count');
        sim.dropAnswers(n);
        return `the next ${n} answer(s) will be swallowed`;
      }
      case 'raw': {
        const text = line.trim().slice(3).trimStart();
        sim.sendRawLine(`${text}\n`);
        return 'sent';
      }
      case 'state':
        return formatSimState(sim);
      case 'help':
        return SIM_COMMANDS_HELP;
      case 'quit':
      case 'exit':
        return 'quit';
      default:
        return `error: unknown command ${JSON.stringify(verb)} (try help)`;
    }
  } catch (err) {
    return `error: ${errorText(err)}`;
  }
}

interface CliArgs {
  connectors: number;
  threePhase: boolean;
  meterMs?: number;
  watchdogMs?: number;
  timeScale?: number;
  dir?: string;
  backend?: PtyBackend;
  quiet: boolean;
  stay: boolean;
}

const USAGE = `usage: sim-cli [--connectors N] [--single-phase] [--meter-ms MS] [--watchdog-ms MS]
               [--time-scale X] [--dir DIR] [--backend socat|python] [--quiet] [--stay]
  --quiet  do not print the wire traffic;  --stay  keep running when stdin ends (stop with SIGINT/SIGTERM)`;

export function parseSimCliArgs(argv: readonly string[]): CliArgs {
  const out: CliArgs = { connectors: 1, threePhase: true, quiet: false, stay: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--connectors':
        out.connectors = intArg(next(), '--connectors');
        break;
      case '--single-phase':
        out.threePhase = false;
        break;
      case '--meter-ms':
        out.meterMs = intArg(next(), '--meter-ms');
        break;
      case '--watchdog-ms':
        out.watchdogMs = intArg(next(), '--watchdog-ms');
        break;
      case '--time-scale':
        out.timeScale = numArg(next(), '--time-scale');
        break;
      case '--dir':
        out.dir = next();
        break;
      case '--backend': {
        const b = next();
        if (b !== 'socat' && b !== 'python') throw new Error('--backend socat|python');
        out.backend = b;
        break;
      }
      case '--quiet':
        out.quiet = true;
        break;
      case '--stay':
        out.stay = true;
        break;
      default:
        throw new Error(`unknown argument ${a}\n${USAGE}`);
    }
  }
  return out;
}

async function main(argv: readonly string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n\ncommands:\n${SIM_COMMANDS_HELP}\n`);
    return;
  }
  const args = parseSimCliArgs(argv);
  const pair = await openPtyPair({
    ...(args.dir !== undefined ? { dir: args.dir } : {}),
    ...(args.backend !== undefined ? { backend: args.backend } : {}),
  });
  const sim = new SimulatedController({
    path: pair.controllerPath,
    connectors: args.connectors,
    threePhase: args.threePhase,
    ...(args.meterMs !== undefined ? { meterMs: args.meterMs } : {}),
    ...(args.watchdogMs !== undefined ? { watchdogMs: args.watchdogMs } : {}),
    ...(args.timeScale !== undefined ? { timeScale: args.timeScale } : {}),
  });
  const print = (s: string): void => {
    process.stdout.write(`${s}\n`);
  };
  if (!args.quiet) {
    sim.on('line', (dir, text) => print(`${dir === 'in' ? '->' : '<-'} ${text}`));
    sim.on('answerDropped', (text) => print(`<- (swallowed) ${text}`));
  }
  print(`agent side: ${pair.agentPath}`);
  print(`simulated controller: ${args.connectors} connector(s), ${args.threePhase ? 'three' : 'single'}-phase, pty via ${pair.backend}; type help`);
  await sim.start();

  let stopping = false;
  const shutdown = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await sim.stop();
    await pair.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());

  const rl = createInterface({ input: process.stdin, terminal: false });
  rl.on('line', (line) => {
    const out = runSimCommand(sim, line);
    if (out === 'quit') void shutdown();
    else if (out !== '') print(out);
  });
  rl.on('close', () => {
    if (!args.stay) void shutdown();
  });
}

function isMainModule(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMainModule()) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`sim-cli: ${errorText(err)}\n`);
    process.exit(1);
  });
}
