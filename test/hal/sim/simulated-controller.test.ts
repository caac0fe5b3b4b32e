// hal/sim/simulated-controller.ts over a real pty with a bare SerialPort + codec agent:
// controller-serial.md §Commands (answers, STATUS dump, duplicate seq), §Events
// (contactor rule, lock, meter), §Link health (watchdog, RESET/HELLO), §Frame (garbage).
import { lstatSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { formatChecksum, xorChecksum } from '../../../hal/controller/protocol/checksum.js';
import type { EventFrame, FrameOf } from '../../../hal/controller/protocol/frame-table.js';
import { openPtyPair, type PtyBackend, type PtyPair } from '../../../hal/sim/pty-pair.js';
import { REAL_TIMERS, SimulatedController, type SimTimers, type SimulatedControllerOptions } from '../../../hal/sim/simulated-controller.js';
import { WireAgent } from './wire-agent.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Rig {
  pair: PtyPair;
  agent: WireAgent;
  sim: SimulatedController;
  hello: FrameOf<'HELLO'>;
}

/** Pair + agent end + simulator; METER_MS 0 unless given, so the wire is deterministic. */
async function rig(opts: Partial<SimulatedControllerOptions> = {}, backend: PtyBackend | 'auto' = 'auto'): Promise<Rig> {
  const pair = await openPtyPair({ backend });
  cleanups.push(() => pair.close());
  const agent = await WireAgent.open(pair.agentPath);
  cleanups.push(() => agent.close());
  const sim = new SimulatedController({ path: pair.controllerPath, meterMs: 0, ...opts });
  cleanups.push(() => sim.stop());
  await sim.start();
  const hello = await agent.waitType('HELLO');
  return { pair, agent, sim, hello };
}

const cs = (body: string): string => formatChecksum(xorChecksum(body));
const types = (frames: EventFrame[]): string[] => frames.map((f) => f.type);

/** Frames from `from` up to and including the answer to `seq`. */
function between(agent: WireAgent, from: number, seq: number): EventFrame[] {
  const rest = agent.frames.slice(from);
  const i = rest.findIndex((f) => (f.type === 'ACK' || f.type === 'NAK') && f.seq === seq);
  return i < 0 ? rest : rest.slice(0, i + 1);
}

async function charging(r: Rig, amps = 16): Promise<void> {
  r.sim.plugIn(1);
  r.sim.evRequestEnergy(1);
  const m = r.agent.mark();
  expect((await r.agent.command({ type: 'ENABLE', connector: 1, amps })).answer.type).toBe('ACK');
  await r.agent.waitType('RELAY', m, (f) => f.closed);
}

describe('SimulatedController over a pty', () => {
  it('sends HELLO at boot with its identity and uptime', async () => {
    const { hello } = await rig({ connectors: 2, serial: 'SN0042', firmware: '2.4.0', uptimeOffsetS: 42 });
    expect(hello).toMatchObject({ proto: 1, firmware: '2.4.0', connectors: 2, serial: 'SN0042', caps: ['RFID', 'LOCK', 'METER', '3PH'] });
    expect(hello.uptimeSeconds).toBeGreaterThanOrEqual(42);
  });

  it('answers INFO with ACK then HELLO', async () => {
    const { agent } = await rig();
    const m = agent.mark();
    const { answer, events, seq } = await agent.command({ type: 'INFO' });
    expect(answer).toEqual({ type: 'ACK', seq });
    expect(events).toEqual([]);
    await agent.waitType('HELLO', m);
    expect(types(agent.frames.slice(m))).toEqual(['ACK', 'HELLO']);
  });

  it('answers every command with exactly one ACK or the right NAK', async () => {
    const { agent, sim } = await rig({ connectors: 1 });
    sim.plugIn(1);
    const cases: [Parameters<WireAgent['send']>[0], string][] = [
      [{ type: 'PING' }, 'ACK'],
      [{ type: 'ENABLE', connector: 1, amps: 16 }, 'ACK'],
      [{ type: 'ENABLE', connector: 1, amps: 6 }, 'ACK'],
      [{ type: 'ENABLE', connector: 1, amps: 80 }, 'ACK'],
      [{ type: 'ENABLE', connector: 1, amps: 0 }, 'ACK'],
      [{ type: 'ENABLE', connector: 1, amps: 5.9 }, 'NAK BADVALUE'],
      [{ type: 'ENABLE', connector: 1, amps: 80.1 }, 'NAK BADVALUE'],
      [{ type: 'ENABLE', connector: 2, amps: 16 }, 'NAK BADCONN'],
      [{ type: 'DISABLE', connector: 1 }, 'ACK'],
      [{ type: 'DISABLE', connector: 3 }, 'NAK BADCONN'],
      [{ type: 'UNLOCK', connector: 1 }, 'ACK'],
      [{ type: 'UNLOCK', connector: 2 }, 'NAK BADCONN'],
      [{ type: 'READ', connector: 1 }, 'ACK'],
      [{ type: 'READ', connector: 7 }, 'NAK BADCONN'],
      [{ type: 'CONFIG', key: 'METER_MS', value: '0' }, 'ACK'],
      [{ type: 'CONFIG', key: 'METER_MS', value: 'soon' }, 'NAK BADVALUE'],
      [{ type: 'CONFIG', key: 'WATCHDOG_MS', value: '1000' }, 'ACK'],
      [{ type: 'CONFIG', key: 'WATCHDOG_MS', value: '999' }, 'NAK BADVALUE'],
      [{ type: 'CONFIG', key: 'WATCHDOG_MS', value: '5000' }, 'ACK'],
      [{ type: 'CONFIG', key: 'FALLBACK_A', value: '10' }, 'ACK'],
      [{ type: 'CONFIG', key: 'FALLBACK_A', value: '0' }, 'ACK'],
      [{ type: 'CONFIG', key: 'FALLBACK_A', value: '5' }, 'NAK BADVALUE'],
      [{ type: 'CONFIG', key: 'COLOUR', value: 'red' }, 'NAK BADKEY'],
      [{ type: 'INFO' }, 'ACK'],
      [{ type: 'STATUS' }, 'ACK'],
    ];
    const seqs: number[] = [];
    for (const [cmd, want] of cases) {
      const { answer, seq } = await agent.command(cmd);
      seqs.push(seq);
      const got = answer.type === 'ACK' ? 'ACK' : `NAK ${answer.reason}`;
      expect(`${cmd.type} ${JSON.stringify(cmd)} -> ${got}`).toBe(`${cmd.type} ${JSON.stringify(cmd)} -> ${want}`);
    }
    expect(sim.config).toEqual({ meterMs: 0, watchdogMs: 5000, fallbackA: 0 });
    // A final round trip flushes everything; then count answers per seq.
    const last = (await agent.command({ type: 'PING' })).seq;
    for (const s of [...seqs, last]) {
      expect(agent.frames.filter((f) => (f.type === 'ACK' || f.type === 'NAK') && f.seq === s)).toHaveLength(1);
    }
    expect(sim.counters.commands).toBe(cases.length + 1);
  });

  it('refuses UNLOCK with NOLOCK on a controller without a lock', async () => {
    const { agent, hello } = await rig({ caps: ['RFID', 'METER'] });
    expect(hello.caps).toEqual(['RFID', 'METER']);
    const { answer } = await agent.command({ type: 'UNLOCK', connector: 1 });
    expect(answer).toMatchObject({ type: 'NAK', reason: 'NOLOCK' });
  });

  it('dumps CP, PP, RELAY, LOCK, METER and faults per connector on STATUS, ACK last', async () => {
    const { agent, sim } = await rig({ connectors: 2 });
    sim.plugIn(2, { cableAmps: 20 });
    sim.raiseFault(2, 'OVER_TEMP');
    sim.raiseFault(0, 'RCD_TRIP');
    await agent.command({ type: 'PING' }); // the events above are on the wire before its ACK
    const m = agent.mark();
    const { seq } = await agent.command({ type: 'STATUS' });
    const dump = between(agent, m, seq);
    expect(types(dump)).toEqual([
      ...['CP', 'PP', 'RELAY', 'LOCK', 'METER'],
      ...['CP', 'PP', 'RELAY', 'LOCK', 'METER', 'FAULT'],
      'FAULT',
      'ACK',
    ]);
    expect(dump[0]).toEqual({ type: 'CP', connector: 1, state: 'A' });
    expect(dump[5]).toEqual({ type: 'CP', connector: 2, state: 'B' });
    expect(dump[6]).toEqual({ type: 'PP', connector: 2, amps: 20 });
    expect(dump[10]).toEqual({ type: 'FAULT', connector: 2, code: 'OVER_TEMP' });
    expect(dump[11]).toEqual({ type: 'FAULT', connector: 0, code: 'RCD_TRIP' });
  });

  it('re-sends the same answer for a repeated seq and does nothing else', async () => {
    const { agent, sim } = await rig();
    sim.plugIn(1);
    const first = await agent.command({ type: 'ENABLE', connector: 1, amps: 16 });
    await agent.waitType('LOCK', 0, (f) => f.state === 'locked');
    const before = sim.counters.commands;

    let m = agent.mark();
    const dup = await agent.command({ type: 'ENABLE', connector: 1, amps: 16 }, first.seq);
    expect(dup.answer).toEqual(first.answer);
    const ping = await agent.command({ type: 'PING' });
    expect(agent.frames.slice(m)).toEqual([first.answer, { type: 'ACK', seq: ping.seq }]);

    // Same for STATUS (no second dump), INFO (no second HELLO) and a NAK.
    for (const cmd of [{ type: 'STATUS' }, { type: 'INFO' }, { type: 'ENABLE', connector: 9, amps: 16 }] as const) {
      const orig = await agent.command(cmd);
      m = agent.frames.indexOf(orig.answer) + 1;
      const again = await agent.command(cmd, orig.seq);
      const after = await agent.command({ type: 'PING' });
      expect(again.answer).toEqual(orig.answer);
      // Only INFO's own HELLO (sent after its first ACK) may sit between.
      expect(agent.frames.slice(m).filter((f) => f.type !== 'HELLO')).toEqual([again.answer, after.answer]);
      expect(agent.frames.slice(m).filter((f) => f.type === 'HELLO')).toHaveLength(cmd.type === 'INFO' ? 1 : 0);
    }
    expect(sim.counters.duplicates).toBe(4);
    expect(sim.counters.commands).toBe(before + 1 + 3 * 2);
  });

  it('closes the contactor only for C/D with the connector enabled at >= 6 A', async () => {
    const { agent, sim } = await rig();
    sim.plugIn(1);
    sim.evRequestEnergy(1);
    await agent.waitType('CP', 0, (f) => f.state === 'C');
    // Enabled at 0 A (EVSE-side suspension): still open.
    await agent.command({ type: 'ENABLE', connector: 1, amps: 0 });
    expect(sim.state(1)).toMatchObject({ enabled: true, offeredAmps: 0, contactor: false });

    let m = agent.mark();
    await agent.command({ type: 'ENABLE', connector: 1, amps: 6 });
    expect(await agent.waitType('RELAY', m)).toEqual({ type: 'RELAY', connector: 1, closed: true });

    m = agent.mark();
    await agent.command({ type: 'ENABLE', connector: 1, amps: 0 });
    expect(await agent.waitType('RELAY', m)).toMatchObject({ closed: false });
    expect(sim.state(1)).toMatchObject({ enabled: true, contactor: false, pilot: 'C' });

    m = agent.mark();
    await agent.command({ type: 'ENABLE', connector: 1, amps: 16 });
    await agent.waitType('RELAY', m, (f) => f.closed);
    m = agent.mark();
    sim.evPause(1);
    await agent.waitType('RELAY', m, (f) => !f.closed);
    expect(types(agent.frames.slice(m))).toEqual(['CP', 'RELAY']);

    m = agent.mark();
    sim.evRequestEnergy(1, { ventilation: true });
    await agent.waitType('RELAY', m, (f) => f.closed);
    expect(agent.frames[m]).toEqual({ type: 'CP', connector: 1, state: 'D' });

    m = agent.mark();
    const { seq } = await agent.command({ type: 'DISABLE', connector: 1 });
    await agent.waitType('LOCK', m, (f) => f.state === 'unlocked');
    expect(types(agent.frames.slice(m))).toEqual(['ACK', 'RELAY', 'LOCK']);
    expect(agent.frames[m]).toEqual({ type: 'ACK', seq });
    expect(sim.state(1)).toMatchObject({ enabled: false, contactor: false });

    m = agent.mark();
    await agent.command({ type: 'ENABLE', connector: 1, amps: 16 });
    await agent.waitType('RELAY', m, (f) => f.closed);
    m = agent.mark();
    sim.unplug(1);
    await agent.waitType('LOCK', m);
    expect(agent.frames.slice(m)).toEqual([
      { type: 'CP', connector: 1, state: 'A' },
      { type: 'RELAY', connector: 1, closed: false },
      { type: 'PP', connector: 1, amps: 0 },
      { type: 'LOCK', connector: 1, state: 'unlocked' },
    ]);
  });

  it('locks a plugged cable on ENABLE, not an absent one; UNLOCK opens the contactor first', async () => {
    const { agent, sim } = await rig();
    let m = agent.mark();
    await agent.command({ type: 'ENABLE', connector: 1, amps: 16 });
    await agent.command({ type: 'PING' });
    expect(agent.frames.slice(m).some((f) => f.type === 'LOCK')).toBe(false);
    sim.plugIn(1); // enabled already: the cable locks when it arrives
    await agent.waitType('LOCK', m, (f) => f.state === 'locked');

    sim.evRequestEnergy(1);
    await agent.waitType('RELAY', m, (f) => f.closed);
    m = agent.mark();
    await agent.command({ type: 'UNLOCK', connector: 1 });
    await agent.waitType('LOCK', m);
    expect(types(agent.frames.slice(m))).toEqual(['ACK', 'RELAY', 'LOCK']);
    expect(agent.frames.slice(m)[2]).toEqual({ type: 'LOCK', connector: 1, state: 'unlocked' });
    // Unlocked with the EV still asking: the contactor stays open until ENABLE locks again.
    expect(sim.state(1)).toMatchObject({ pilot: 'C', enabled: true, contactor: false, lock: 'unlocked' });
    m = agent.mark();
    await agent.command({ type: 'ENABLE', connector: 1, amps: 16 });
    await agent.waitType('RELAY', m, (f) => f.closed);
    expect(types(agent.frames.slice(m))).toEqual(['ACK', 'LOCK', 'RELAY']);
  });

  it('grows the energy register while charging and never lowers it', async () => {
    const { agent, sim } = await rig({ timeScale: 36_000, initialEnergyWh: 1_520_300 });
    const read = async (): Promise<FrameOf<'METER'>> => {
      const m = agent.mark();
      await agent.command({ type: 'READ', connector: 1 });
      return agent.waitType('METER', m);
    };
    const idle = await read();
    expect(idle).toMatchObject({ energyWh: 1_520_300, powerW: 0, currentA: [0, 0, 0] });
    sim.plugIn(1, { cableAmps: 32, evMaxAmps: 32 });
    sim.evRequestEnergy(1);
    await agent.command({ type: 'ENABLE', connector: 1, amps: 16 });
    const seen: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await read();
      expect(r.currentA).toEqual([16, 16, 16]);
      expect(r.voltageV.every((v) => v !== null && v > 225 && v < 235)).toBe(true);
      expect(r.powerW).toBeGreaterThan(10_000);
      seen.push(r.energyWh!);
    }
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThan(seen[i - 1]!);
    // Paused: flat. Reboot: kept (lifetime register).
    sim.evPause(1);
    const p1 = (await read()).energyWh!;
    const p2 = (await read()).energyWh!;
    expect(p1).toBeGreaterThanOrEqual(seen[seen.length - 1]!);
    expect(p2).toBe(p1);
    const m = agent.mark();
    await agent.command({ type: 'RESET' });
    await agent.waitType('HELLO', m);
    expect((await read()).energyWh).toBe(p1);
  });

  it('limits current to min(offered, EV, cable) and fills only L1 when single-phase', async () => {
    const { agent, sim, hello } = await rig({ threePhase: false });
    expect(hello.caps).not.toContain('3PH');
    sim.plugIn(1, { cableAmps: 20, evMaxAmps: 13 });
    sim.evRequestEnergy(1);
    await agent.command({ type: 'ENABLE', connector: 1, amps: 16 });
    let m = agent.mark();
    await agent.command({ type: 'READ', connector: 1 });
    const r = await agent.waitType('METER', m);
    expect(r.currentA).toEqual([13, null, null]);
    expect(r.voltageV[1]).toBeNull();
    expect(r.voltageV[2]).toBeNull();
    expect(r.powerW).toBe(Math.round(r.voltageV[0]! * 13));
    sim.evSetMaxAmps(1, 32);
    await agent.command({ type: 'ENABLE', connector: 1, amps: 10 });
    m = agent.mark();
    await agent.command({ type: 'READ', connector: 1 });
    expect((await agent.waitType('METER', m)).currentA).toEqual([10, null, null]);
    expect(sim.state(1).currentA).toBe(10);
  });

  it('reports METER for every connector every METER_MS, and stops at METER_MS 0', async () => {
    const { agent } = await rig({ connectors: 2, meterMs: 0 });
    let m = agent.mark();
    await agent.command({ type: 'CONFIG', key: 'METER_MS', value: '100' });
    for (const c of [1, 2]) {
      for (let n = 0; n < 3; n++) {
        const f = await agent.waitType('METER', m, (x) => x.connector === c);
        m = agent.frames.indexOf(f) + 1;
      }
    }
    await agent.command({ type: 'CONFIG', key: 'METER_MS', value: '0' });
    m = agent.mark();
    await new Promise((r) => setTimeout(r, 400));
    await agent.command({ type: 'PING' });
    expect(types(agent.frames.slice(m))).toEqual(['ACK']);
  });

  it('watchdog: no fire before the agent spoke; then FALLBACK_A and AGENT_WATCHDOG, FAULTCLR on traffic', async () => {
    const { agent, sim } = await rig({ watchdogMs: 1000 });
    // Not armed yet: no frame from the agent so far.
    await new Promise((r) => setTimeout(r, 1300));
    expect(sim.counters.watchdogFires).toBe(0);

    await agent.command({ type: 'CONFIG', key: 'FALLBACK_A', value: '10' });
    await charging({ agent, sim } as Rig, 16);
    const m = agent.mark();
    const fault = await agent.waitType('FAULT', m);
    expect(fault).toEqual({ type: 'FAULT', connector: 0, code: 'AGENT_WATCHDOG' });
    // Limited, not stopped: 10 A is still >= 6 A.
    expect(sim.state(1)).toMatchObject({ enabled: true, offeredAmps: 10, fallback: true, contactor: true, currentA: 10 });
    expect(sim.stationFaults).toEqual(['AGENT_WATCHDOG']);

    const m2 = agent.mark();
    const { seq } = await agent.command({ type: 'PING' });
    expect(between(agent, m2, seq)).toEqual([{ type: 'FAULTCLR', connector: 0, code: 'AGENT_WATCHDOG' }, { type: 'ACK', seq }]);
    // Keeps the fallback limit until the next ENABLE.
    expect(sim.state(1)).toMatchObject({ offeredAmps: 10, fallback: true });
    await agent.command({ type: 'ENABLE', connector: 1, amps: 16 });
    expect(sim.state(1)).toMatchObject({ offeredAmps: 16, fallback: false, currentA: 16 });
  });

  it('watchdog with FALLBACK_A 0 opens the contactor before raising the fault', async () => {
    const { agent, sim } = await rig({ watchdogMs: 1000 });
    await charging({ agent, sim } as Rig, 16);
    const m = agent.mark();
    await agent.waitType('FAULT', m);
    expect(agent.frames.slice(m)).toEqual([
      { type: 'RELAY', connector: 1, closed: false },
      { type: 'FAULT', connector: 0, code: 'AGENT_WATCHDOG' },
    ]);
    expect(sim.state(1)).toMatchObject({ enabled: true, offeredAmps: 0, contactor: false });
  });

  it('a fault makes the connector safe, blocks ENABLE with FAULTED, and leaves it disabled when cleared', async () => {
    const { agent, sim } = await rig({ connectors: 2 });
    await charging({ agent, sim } as Rig, 16);
    let m = agent.mark();
    sim.raiseFault(1, 'OVER_TEMP');
    await agent.waitType('FAULT', m);
    expect(agent.frames.slice(m)).toEqual([
      { type: 'RELAY', connector: 1, closed: false },
      { type: 'FAULT', connector: 1, code: 'OVER_TEMP' },
    ]);
    expect((await agent.command({ type: 'ENABLE', connector: 1, amps: 16 })).answer).toMatchObject({ type: 'NAK', reason: 'FAULTED' });
    // The other connector is not affected by a connector fault...
    expect((await agent.command({ type: 'ENABLE', connector: 2, amps: 16 })).answer.type).toBe('ACK');
    // ...but a station fault blocks every connector.
    sim.raiseFault(0, 'RCD_TRIP');
    expect((await agent.command({ type: 'ENABLE', connector: 2, amps: 16 })).answer).toMatchObject({ type: 'NAK', reason: 'FAULTED' });
    expect(sim.state(2).enabled).toBe(false);

    m = agent.mark();
    sim.clearFault(0, 'RCD_TRIP');
    sim.clearFault(1, 'OVER_TEMP');
    await agent.waitType('FAULTCLR', m, (f) => f.connector === 1);
    expect(agent.frames.slice(m)).toEqual([
      { type: 'FAULTCLR', connector: 0, code: 'RCD_TRIP' },
      { type: 'FAULTCLR', connector: 1, code: 'OVER_TEMP' },
    ]);
    // EV still in C, but disabled until the next ENABLE.
    expect(sim.state(1)).toMatchObject({ pilot: 'C', enabled: false, contactor: false });
    m = agent.mark();
    expect((await agent.command({ type: 'ENABLE', connector: 1, amps: 16 })).answer.type).toBe('ACK');
    await agent.waitType('RELAY', m, (f) => f.closed);
  });

  it('RESET: ACK, then HELLO with a lower uptime and every connector disabled', async () => {
    const { agent, sim, hello } = await rig({ uptimeOffsetS: 100 });
    await agent.command({ type: 'CONFIG', key: 'WATCHDOG_MS', value: '2000' });
    await charging({ agent, sim } as Rig, 16);
    const m = agent.mark();
    const { seq } = await agent.command({ type: 'RESET' });
    const h = await agent.waitType('HELLO', m);
    expect(agent.frames.slice(m)).toEqual([{ type: 'ACK', seq }, h]);
    expect(h.uptimeSeconds).toBeLessThan(hello.uptimeSeconds);
    expect(sim.state(1)).toMatchObject({ pilot: 'C', enabled: false, contactor: false, lock: 'unlocked' });
    expect(sim.config.watchdogMs).toBe(5000);
    // The EV is still there: the agent resynchronises with STATUS.
    const m2 = agent.mark();
    await agent.command({ type: 'STATUS' });
    expect(agent.frames.slice(m2).find((f) => f.type === 'CP')).toEqual({ type: 'CP', connector: 1, state: 'C' });
  });

  it('reports uptime from the injected clock; stop() and start() power-cycle it', async () => {
    let offset = 0;
    const timers: SimTimers = { ...REAL_TIMERS, now: () => REAL_TIMERS.now() + offset };
    const { agent, sim, hello } = await rig({ timers });
    expect(hello.uptimeSeconds).toBe(0);
    offset = 3_600_000;
    let m = agent.mark();
    await agent.command({ type: 'INFO' });
    expect((await agent.waitType('HELLO', m)).uptimeSeconds).toBe(3600);

    sim.plugIn(1);
    await agent.command({ type: 'ENABLE', connector: 1, amps: 16 });
    expect(sim.state(1)).toMatchObject({ enabled: true, lock: 'locked' });
    await sim.stop();
    m = agent.mark();
    await sim.start();
    const h = await agent.waitType('HELLO', m);
    expect(h.uptimeSeconds).toBe(0);
    expect(sim.state(1)).toMatchObject({ pilot: 'B', enabled: false, lock: 'unlocked' });
    expect((await agent.command({ type: 'PING' })).answer.type).toBe('ACK');
  });

  it('drops and counts garbage and keeps answering', async () => {
    const { agent, sim } = await rig();
    agent.writeRaw('hello world\n');
    agent.writeRaw('$PING,1*00\n'); // bad checksum
    agent.writeRaw('$PING,1\n'); // no checksum
    agent.writeRaw('$CP,1,B*60\n'); // an event, wrong direction
    agent.writeRaw('$XYZ,1*46\n'); // unknown type
    agent.writeRaw(`$PING*${cs('PING')}\n`); // wrong field count
    agent.writeRaw(`$RFID,${'A'.repeat(300)}*35\n`); // overlong
    agent.writeRaw(Buffer.from([0x00, 0xff, 0xfe, 0x24, 0x0a])); // binary noise
    agent.writeRaw('$PI'); // half a line, then a reset of the sender
    agent.writeRaw('\n');
    const { answer, seq } = await agent.command({ type: 'PING' });
    expect(answer).toEqual({ type: 'ACK', seq });
    // CRLF is accepted.
    agent.writeRaw(`$PING,777*${cs('PING,777')}\r\n`);
    await agent.waitType('ACK', 0, (f) => f.seq === 777);
    const d = sim.counters.dropped;
    expect(d['no-start']).toBe(1);
    expect(d['bad-checksum']).toBe(1);
    expect(d['no-checksum']).toBe(2); // `$PING,1` and the half line `$PI`
    expect(d['wrong-direction']).toBe(1);
    expect(d['unknown-type']).toBe(1);
    expect(d['field-count']).toBe(1);
    expect(d.overlong).toBe(1);
    expect(d['non-ascii']).toBe(1);
    expect(sim.counters.commands).toBe(2);
  });

  it('dropAnswers swallows answers: the resend gets the answer, the action happens once', async () => {
    const { agent, sim } = await rig();
    sim.plugIn(1);
    sim.dropAnswers(1);
    const m = agent.mark();
    const seq = agent.send({ type: 'ENABLE', connector: 1, amps: 16 });
    await agent.waitType('LOCK', m);
    expect(agent.frames.slice(m).some((f) => f.type === 'ACK')).toBe(false);
    const again = await agent.command({ type: 'ENABLE', connector: 1, amps: 16 }, seq);
    expect(again.answer).toEqual({ type: 'ACK', seq });
    expect(agent.frames.slice(m).filter((f) => f.type === 'LOCK')).toHaveLength(1);
    expect(sim.counters).toMatchObject({ answersDropped: 1, duplicates: 1, commands: 1 });
  });

  it('setMute: a dead controller answers nothing until unmuted', async () => {
    const { agent, sim } = await rig();
    sim.setMute(true);
    const m = agent.mark();
    const seq = agent.send({ type: 'PING' });
    sim.swipeCard('04a2b3c4'); // not sent either
    await new Promise((r) => setTimeout(r, 300));
    expect(agent.frames.slice(m)).toEqual([]);
    sim.setMute(false);
    const { answer } = await agent.command({ type: 'PING' }, seq + 1);
    expect(answer.type).toBe('ACK');
    sim.swipeCard('04a2b3c4');
    expect(await agent.waitType('RFID', m)).toEqual({ type: 'RFID', uid: '04A2B3C4' });
  });

  it('emits the wire lines and decoded commands for demos', async () => {
    const { agent, sim } = await rig();
    const lines: string[] = [];
    const commands: string[] = [];
    sim.on('line', (dir, text) => lines.push(`${dir} ${text}`));
    sim.on('command', (f) => commands.push(f.type));
    const { seq } = await agent.command({ type: 'READ', connector: 1 });
    expect(commands).toEqual(['READ']);
    expect(sim.lastCommand).toEqual({ type: 'READ', seq, connector: 1 });
    expect(lines[0]).toMatch(/^in \$READ,\d+,1\*[0-9A-F]{2}$/);
    expect(lines[1]).toMatch(/^out \$METER,1,/);
    expect(lines[2]).toMatch(/^out \$ACK,\d+\*[0-9A-F]{2}$/);
  });

  it('sendRawLine writes arbitrary bytes the agent sees as garbage', async () => {
    const { agent, sim } = await rig();
    sim.sendRawLine('$CP,1,B*61\n');
    sim.sendRawLine('$CP,1,B*60\n');
    await agent.waitType('CP', 0, (f) => f.state === 'B');
    expect(agent.bad).toEqual(['$CP,1,B*61']);
  });

  for (const backend of ['auto', 'python'] as const) {
    it(`reattaches after the device vanishes and comes back (${backend} pty)`, async () => {
      const r = await rig({}, backend);
      await r.agent.command({ type: 'PING' });
      const gone = new Promise<void>((res) => r.sim.once('portClosed', () => res()));
      r.pair.kill();
      expect(() => lstatSync(r.pair.controllerPath)).toThrow();
      await gone;
      expect(r.sim.portOpen).toBe(false);
      // The agent would notice by silence and close its end; do that here.
      await r.agent.close();
      const back = new Promise<void>((res) => r.sim.once('portReopened', () => res()));
      await r.pair.restart();
      await back;
      const agent2 = await WireAgent.open(r.pair.agentPath);
      cleanups.push(() => agent2.close());
      const { answer } = await agent2.command({ type: 'PING' }, 4242);
      expect(answer).toEqual({ type: 'ACK', seq: 4242 });
      expect(r.sim.counters.reopens).toBe(1);
    });
  }
});
