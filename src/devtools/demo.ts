// `charger-agent demo`: the bundled development CSMS, the simulated controller on a
// pty and the real agent in one process, playing one charging session (plug in,
// card, charge, unplug) while printing what crosses the serial line and the socket.
// With --security N it first takes the charger from security profile 0 to N over OCPP (demo-security.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { simulatedAgentConfig } from './dev-config.js';
import { createLogger } from '../platform/logger.js';
import { startAgent, type RunningAgent } from '../main.js';
import { DevCsms } from './dev-csms.js';
import { statusOf } from '../ocpp/v16/mappers.js';
import { errorText } from '../platform/errors.js';
import { printableFrame, securityTarget, upgradeSecurity } from './demo-security.js';
import { ensureDevPki } from './dev-csms-security.js';

const CARD = '04A2B3C4';
/** A card only the local authorization list knows about. */
const LIST_CARD = '0B0B0B0B';
const CP_ID = 'CP-DEMO-1';

interface DemoOptions {
  verbose: boolean;
  /** Seconds of charging before the EV leaves. */
  chargeSeconds: number;
  out: (line: string) => void;
}

export async function runDemo(args: string[], out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  const opts: DemoOptions = {
    verbose: args.includes('--verbose'),
    chargeSeconds: args.includes('--fast') ? 4 : 10,
    out,
  };
  let security: 1 | 2 | 3 | undefined;
  try {
    security = securityTarget(args);
  } catch (err) {
    out(`demo: ${errorText(err)}`);
    return 2;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'charger-agent-demo-'));
  const pkiDir = join(dataDir, 'dev-pki');
  const csms = new DevCsms({ heartbeatIntervalS: 30, ...(security !== undefined ? { security: { pkiDir } } : {}) });
  let agent: RunningAgent | null = null;
  const deadline = setTimeout(() => {
    out('demo: the session did not complete within 90 s');
    process.exit(1);
  }, 90_000);
  deadline.unref();
  try {
    if (security !== undefined) {
      say(out, 'making a development PKI (certs/make-dev-pki.sh): CSMS root, server certificate, charge-point CA');
      await ensureDevPki(pkiDir);
    }
    await csms.start();
    say(out, `bundled development CSMS listening on ${csms.url}`);
    const cfg = simulatedAgentConfig({ chargePointId: CP_ID, csmsUrl: csms.url, dataDir, logLevel: opts.verbose ? 'info' : 'warn' });
    const pingSeqs = new Set<string>();
    agent = await startAgent(cfg, {
      // Agent logs go to stderr so stdout shows the session readably, and as readable lines:
      // they land on the same terminal as the narration.
      logger: createLogger({ level: cfg.logLevel, format: 'pretty', destination: pino.destination({ dest: 2, sync: true }) }),
      simTimeScale: 60,
      onSerialLine: (dir, line) => printSerial(opts, pingSeqs, dir, line),
      onOcppFrame: (dir, text) => out(`  ocpp    ${dir === 'out' ? 'CP -> CSMS' : 'CSMS -> CP'}  ${printableFrame(text)}`),
    });
    const a = agent;
    const sim = a.simulator!;
    await until(() => a.session.registrationStatus === 'Accepted' && a.controller.isLinkUp, 'boot and controller link');
    if (security !== undefined) await upgradeSecurity(a, csms, CP_ID, pkiDir, security, (t) => say(out, t), until);
    // Sample every 2 s so the short demo shows periodic MeterValues.
    a.config.change('MeterValueSampleInterval', '2');
    await until(() => statusOf(a.station, 1) === 'Available', 'connector 1 Available');

    say(out, 'the driver plugs the EV in (CP state B, 32 A cable)');
    sim.plugIn(1, { cableAmps: 32, evMaxAmps: 16 });
    await until(() => statusOf(a.station, 1) === 'Preparing', 'Preparing');

    say(out, `the driver presents card ${CARD}`);
    sim.swipeCard(CARD);
    await until(() => csms.callsOf('StartTransaction').length > 0, 'StartTransaction');

    say(out, 'the EV asks for energy (CP state C)');
    sim.evRequestEnergy(1);
    await until(() => statusOf(a.station, 1) === 'Charging', 'Charging');
    say(out, `charging for ${opts.chargeSeconds} s (the simulator's energy register runs 60x faster)`);
    await sleep(opts.chargeSeconds * 1000);

    say(out, 'the EV is full and pauses (CP state B)');
    sim.evPause(1);
    await until(() => statusOf(a.station, 1) === 'SuspendedEV', 'SuspendedEV');

    say(out, 'the driver unplugs the cable (CP state A)');
    sim.unplug(1);
    await until(() => csms.callsOf('StopTransaction').length > 0 && a.session.queueDepth === 0, 'StopTransaction');
    await until(() => statusOf(a.station, 1) === 'Available', 'Available');

    const start = csms.callsOf('StartTransaction')[0]!.params;
    const stopTx = csms.callsOf('StopTransaction')[0]!.params;
    const energyWh = Number(stopTx.meterStop) - Number(start.meterStart);
    say(out, `session complete: transaction ${String(stopTx.transactionId)}, ${energyWh} Wh delivered, reason ${String(stopTx.reason)}`);
    say(
      out,
      `the CSMS received: ${['BootNotification', 'StatusNotification', 'Authorize', 'StartTransaction', 'MeterValues', 'StopTransaction']
        .map((x) => `${csms.callsOf(x).length} ${x}`)
        .join(', ')}`,
    );
    // The security run ends with its session on the new profile; the offline session is the plain demo's.
    if (security === undefined && !(await offlineSession(a, csms, out))) return 1;
    return energyWh > 0 ? 0 : 1;
  } catch (err) {
    out(`demo failed: ${errorText(err)}`);
    return 1;
  } finally {
    await agent?.stop();
    await csms.stop();
    clearTimeout(deadline);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Issue 5: a second session authorized from the local authorization list while the CSMS is down. */
async function offlineSession(a: RunningAgent, csms: DevCsms, out: (l: string) => void): Promise<boolean> {
  say(out, `the CSMS sends a local authorization list with card ${LIST_CARD} (SendLocalList)`);
  const list = await csms.call(CP_ID, 'SendLocalList', { listVersion: 1, updateType: 'Full', localAuthorizationList: [{ idTag: LIST_CARD, idTagInfo: { status: 'Accepted' } }] });
  if ((list as { status?: string }).status !== 'Accepted') return false;
  say(out, 'the CSMS goes down');
  await csms.stop();
  await until(() => !a.csms.isConnected, 'the agent to notice the outage');
  say(out, `a second driver plugs in and presents card ${LIST_CARD}: authorized offline from the local list`);
  a.simulator!.plugIn(1, { cableAmps: 32, evMaxAmps: 16 });
  a.simulator!.swipeCard(LIST_CARD);
  await until(() => a.station.transaction(1) !== null, 'offline transaction');
  a.simulator!.evRequestEnergy(1);
  await until(() => statusOf(a.station, 1) === 'Charging', 'Charging');
  await sleep(1_000);
  say(out, 'the driver unplugs; the CSMS comes back and receives the queued transaction messages in order');
  a.simulator!.unplug(1);
  await until(() => a.station.transaction(1) === null, 'offline transaction stopped');
  await csms.start();
  await until(() => csms.callsOf('StopTransaction').length === 2 && a.session.queueDepth === 0, 'queued messages delivered');
  const start = csms.callsOf('StartTransaction')[1]!.params;
  say(out, `offline session delivered: card ${String(start.idTag)}, ${csms.callsOf('Authorize').length} Authorize.req in all (none for it)`);
  return true;
}

function say(out: (l: string) => void, text: string): void {
  out(`\n== ${text}`);
}

function printSerial(opts: DemoOptions, pingSeqs: Set<string>, dir: 'rx' | 'tx', line: string): void {
  // Keep-alive PINGs and their ACKs every second would drown the session: hidden unless --verbose.
  if (!opts.verbose) {
    const ping = /^\$PING,(\d+)\*/.exec(line);
    if (ping) return void pingSeqs.add(ping[1]!);
    const ack = /^\$ACK,(\d+)\*/.exec(line);
    if (ack && pingSeqs.delete(ack[1]!)) return;
  }
  opts.out(`  serial  ${dir === 'tx' ? 'agent -> controller' : 'controller -> agent'}  ${line}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function until(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
