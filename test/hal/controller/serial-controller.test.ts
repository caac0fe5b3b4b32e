// The real serialport driver against the simulated controller over a real pty pair
// (controller-serial.md §Commands, §Link health). No timing asserts: tests wait for
// events with generous deadlines.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialController } from '../../../hal/controller/serial-controller.js';
import { ControllerNakError, type ChargeControllerEvents } from '../../../hal/controller/types.js';
import { openPtyPair, type PtyPair } from '../../../hal/sim/pty-pair.js';
import { SimulatedController } from '../../../hal/sim/simulated-controller.js';
import { waitFor, waitForEvent } from '../../helpers/wait.js';

let pty: PtyPair;
let sim: SimulatedController;
let driver: SerialController;
const wire: string[] = [];
/** Commands the simulator acted upon, by type (duplicates of a seq are not acted upon). */
const acted = new Map<string, number>();

beforeEach(async () => {
  pty = await openPtyPair({ dir: mkdtempSync(join(tmpdir(), 'ca-drv-')) });
  sim = new SimulatedController({ path: pty.controllerPath, connectors: 2, watchdogMs: 2000 });
  acted.clear();
  sim.on('command', (f) => acted.set(f.type, (acted.get(f.type) ?? 0) + 1));
  await sim.start();
  driver = new SerialController({ path: pty.agentPath, reopenDelayMs: 200 });
  wire.length = 0;
  driver.on('wire', (dir, line) => wire.push(`${dir} ${line}`));
});

afterEach(async () => {
  await driver?.stop();
  await sim?.stop();
  await pty?.close();
});

async function up(): Promise<void> {
  const linkUp = waitForEvent(driver, 'linkUp');
  await driver.start();
  await linkUp;
}

describe('SerialController over a pty', () => {
  it('resynchronises with INFO then STATUS before anything else and reports the controller', async () => {
    await up();
    expect(driver.isLinkUp).toBe(true);
    expect(driver.info).toMatchObject({ connectorCount: 2, protocolVersion: 1 });
    const sent = wire.filter((l) => l.startsWith('tx ')).map((l) => l.slice(3).split(/[,*]/)[0]!);
    const firstInfo = sent.indexOf('$INFO');
    expect(firstInfo).toBeGreaterThanOrEqual(0);
    // Only the PING that probed the link may precede INFO; STATUS follows INFO.
    expect(sent.slice(0, firstInfo).every((t) => t === '$PING')).toBe(true);
    expect(sent[firstInfo + 1]).toBe('$STATUS');
  });

  it('command/ACK round trip: ENABLE locks the cable and the contactor follows the EV', async () => {
    await up();
    const events: Array<Parameters<ChargeControllerEvents['contactor']>> = [];
    driver.on('contactor', (c, closed) => events.push([c, closed]));
    const locked = waitForEvent(driver, 'lock', (c, s) => c === 1 && s === 'locked');
    sim.plugIn(1, { cableAmps: 32 });
    await waitForEvent(driver, 'pilot', (c, s) => c === 1 && s === 'B');
    await driver.enable(1, 16);
    await locked;
    sim.evRequestEnergy(1);
    await waitFor(() => events.some(([c, closed]) => c === 1 && closed));
    expect(sim.state(1).offeredAmps).toBe(16);
    const meter = await waitForEvent(driver, 'meter', (m) => m.connector === 1 && (m.powerW ?? 0) > 0);
    expect(meter.currentA[0]).toBeGreaterThan(0);
  });

  it('a NAK rejects the command with its reason', async () => {
    await up();
    await expect(driver.enable(9, 16)).rejects.toThrow(ControllerNakError);
    await expect(driver.enable(9, 16)).rejects.toMatchObject({ reason: 'BADCONN' });
    expect(driver.counters().naks).toBe(2);
  });

  it('resends the same frame after a lost ACK and the controller acts only once', async () => {
    await up();
    sim.plugIn(1, { cableAmps: 32 });
    await waitForEvent(driver, 'pilot', (c, s) => c === 1 && s === 'B');
    const enablesBefore = acted.get('ENABLE') ?? 0;
    sim.dropAnswers(1);
    await driver.enable(1, 10);
    const enableLines = wire.filter((l) => l.startsWith('tx $ENABLE'));
    expect(enableLines.length).toBe(2);
    expect(enableLines[0]).toBe(enableLines[1]);
    expect(driver.counters().resends).toBeGreaterThanOrEqual(1);
    expect((acted.get('ENABLE') ?? 0) - enablesBefore).toBe(1);
  });

  it('sequence numbers wrap from 65535 to 1', async () => {
    await up();
    (driver as unknown as { commands: { seq: number } }).commands.seq = 65534;
    await driver.readMeter(1);
    await driver.readMeter(1);
    const reads = wire.filter((l) => l.startsWith('tx $READ')).map((l) => l.split(',')[1]);
    expect(reads).toEqual(['65535', '1']);
  });

  it('a dead controller takes the link down; it comes back with a resync and wanted ENABLEs re-applied', async () => {
    await up();
    sim.plugIn(1, { cableAmps: 32 });
    await driver.enable(1, 16);
    const down = waitForEvent(driver, 'linkDown');
    sim.setMute(true);
    expect(await down).toMatch(/no-answer|silence/);
    expect(driver.isLinkUp).toBe(false);
    await expect(driver.readMeter(1)).rejects.toThrow(/link is down/);
    wire.length = 0;
    const back = waitForEvent(driver, 'linkUp');
    sim.setMute(false);
    await back;
    const sent = wire.filter((l) => l.startsWith('tx ')).map((l) => l.slice(3));
    const info = sent.findIndex((l) => l.startsWith('$INFO'));
    expect(info).toBeGreaterThanOrEqual(0);
    expect(sent[info + 1]).toMatch(/^\$STATUS/);
    expect(sent.some((l) => /^\$ENABLE,\d+,1,16\*/.test(l))).toBe(true);
  });

  it('controller reboot mid-session: HELLO with lower uptime, connectors re-enabled', async () => {
    await up();
    sim.plugIn(1, { cableAmps: 32 });
    await driver.enable(1, 16);
    sim.evRequestEnergy(1);
    await waitFor(() => sim.state(1).contactor);
    const reset = waitForEvent(driver, 'controllerReset');
    sim.reboot();
    await reset;
    await waitFor(() => sim.state(1).enabled && sim.state(1).offeredAmps === 16);
    await waitFor(() => sim.state(1).contactor);
  });

  it('RESET command: the controller reboots and the driver restores the wanted state', async () => {
    await up();
    sim.plugIn(2, { cableAmps: 20 });
    await driver.enable(2, 20);
    const reset = waitForEvent(driver, 'controllerReset');
    await driver.reset();
    await reset;
    await waitFor(() => sim.state(2).enabled && sim.state(2).offeredAmps === 20);
  });

  it('the device vanishing and coming back: link down, reopen, resync', async () => {
    await up();
    const down = waitForEvent(driver, 'linkDown');
    pty.kill();
    await down;
    await sim.stop();
    await pty.restart();
    sim = new SimulatedController({ path: pty.controllerPath, connectors: 2 });
    const back = waitForEvent(driver, 'linkUp');
    await sim.start();
    await back;
    expect(driver.counters().reopens).toBeGreaterThanOrEqual(1);
    await driver.readMeter(1);
  });

  it('garbage on the line is dropped and counted, and events keep flowing', async () => {
    await up();
    sim.sendRawLine('\x00\xff garbage\n');
    sim.sendRawLine('$CP,1,B*61\n');
    sim.sendRawLine(`${'X'.repeat(400)}\n`);
    sim.sendRawLine('$XYZ,1*46\r\n');
    const pilot = waitForEvent(driver, 'pilot', (c, s) => c === 1 && s === 'B');
    sim.plugIn(1, { cableAmps: 32 });
    await pilot;
    const d = driver.counters().dropped;
    expect(d['bad-checksum']).toBeGreaterThanOrEqual(1);
    expect(d.overlong).toBeGreaterThanOrEqual(1);
    expect(d['unknown-type']).toBeGreaterThanOrEqual(1);
    expect(d['non-ascii'] + d['no-start']).toBeGreaterThanOrEqual(1);
  });

  it('keeps the controller watchdog fed while idle (no AGENT_WATCHDOG fault)', async () => {
    await up();
    const faults: string[] = [];
    driver.on('fault', (_c, code) => faults.push(code));
    const pingsBefore = acted.get('PING') ?? 0;
    await waitFor(() => (acted.get('PING') ?? 0) - pingsBefore >= 4, 10_000);
    expect(faults).not.toContain('AGENT_WATCHDOG');
  });

  it('re-sends ENABLE after the controller watchdog fired and cleared', async () => {
    await up();
    sim.plugIn(1, { cableAmps: 32 });
    await driver.enable(1, 16);
    const fault = waitForEvent(driver, 'fault', (c, code) => c === 0 && code === 'AGENT_WATCHDOG');
    // Stop the driver's traffic without closing the port: the controller's watchdog fires.
    (driver as unknown as { tick(): void }).tick = () => {};
    await fault;
    expect(sim.state(1).offeredAmps).toBe(0);
    Reflect.deleteProperty(driver, 'tick');
    await waitFor(() => sim.state(1).offeredAmps === 16, 10_000);
  });

  it('a watchdog re-ENABLE still unanswered when the driver stops is no unhandled rejection', async () => {
    await up();
    sim.plugIn(1, { cableAmps: 32 });
    await driver.enable(1, 16);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    // The meter-period policy answers the plug-in with CONFIG METER_MS and a READ: let them be
    // answered first, so the command left outstanding below is the re-ENABLE and nothing else.
    await waitFor(() => {
      const read = wire.map((l) => /^tx \$READ,(\d+),1\*/.exec(l)).find((m) => m !== null);
      return !!read && wire.some((l) => l.startsWith(`rx $ACK,${read[1]}*`));
    }, 10_000, 'the plug-in READ answered');
    try {
      sim.dropAnswers(1_000); // the re-ENABLE stays outstanding until stop() fails it
      const mark = wire.length;
      sim.raiseFault(0, 'AGENT_WATCHDOG');
      sim.clearFault(0, 'AGENT_WATCHDOG');
      await waitFor(() => wire.slice(mark).some((l) => /^tx \$ENABLE,\d+,1,16\*/.test(l)), 10_000, 'the re-ENABLE on the wire');
      await driver.stop();
      // Node reports unhandled rejections once the microtask queue drains: one macrotask is enough.
      await new Promise((r) => setImmediate(r));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('sendRaw validates fields through the codec', async () => {
    await up();
    await expect(driver.sendRaw('BOGUS', [])).rejects.toThrow(/unknown command type/);
    await expect(driver.sendRaw('READ', ['1,2'])).rejects.toThrow(/invalid READ/);
    await driver.sendRaw('READ', ['1']);
  });

  it('cannot open a missing device: keeps retrying without throwing', async () => {
    const d = new SerialController({ path: join(tmpdir(), 'no-such-tty'), reopenDelayMs: 50 });
    await d.start();
    await expect(d.readMeter(1)).rejects.toThrow();
    await d.stop();
    expect(d.isLinkUp).toBe(false);
  });
});
