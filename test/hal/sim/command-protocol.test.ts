// hal/sim/command-protocol.ts alone, with a real electrical model and no serial port
// (controller-serial.md §Commands): CONFIG validation, ACK/NAK reasons, the STATUS
// dump order, and a repeated seq answered again with nothing else.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../../../hal/controller/protocol/frame-codec.js';
import type { CommandFrame } from '../../../hal/controller/protocol/frame-table.js';
import { SILENT_LOGGER } from '../../../hal/log.js';
import { checkConfig, CommandProtocol, validAmps } from '../../../hal/sim/command-protocol.js';
import { ElectricalModel } from '../../../hal/sim/electrical-model.js';
import { newSimCounters, type SimConfig, type SimulatedControllerEventMap } from '../../../hal/sim/sim-types.js';
import { FakeClock } from '../../helpers/fake-clock.js';

function rig() {
  const clock = new FakeClock();
  /** Every line out, events and answers alike, without `\n`. */
  const out: string[] = [];
  const calls: string[] = [];
  const state = { booting: false, dropNextAnswer: false };
  const config: SimConfig = { meterMs: 1000, watchdogMs: 5000, fallbackA: 0 };
  const counters = newSimCounters();
  const events = new EventEmitter<SimulatedControllerEventMap>();
  const send = (f: Parameters<typeof encodeFrame>[0]): void => void out.push(encodeFrame(f).slice(0, -1));
  const model = new ElectricalModel({
    connectors: 2,
    caps: ['LOCK', 'METER'],
    threePhase: false,
    timeScale: 1,
    initialEnergyWh: 0,
    timers: clock.halTimers,
    random: () => 0.5,
    send,
  });
  const protocol = new CommandProtocol({
    caps: ['LOCK', 'METER'],
    model,
    config,
    counters,
    events,
    log: SILENT_LOGGER,
    send,
    writeAnswer: (line) => {
      if (state.dropNextAnswer) {
        state.dropNextAnswer = false;
        return false;
      }
      out.push(line.slice(0, -1));
      return true;
    },
    booting: () => state.booting,
    feedWatchdog: () => calls.push('feed'),
    hello: () => ({ type: 'HELLO', proto: 1, firmware: 'x', connectors: 2, serial: 'S', caps: ['LOCK', 'METER'], uptimeSeconds: 0 }),
    stationFaults: () => [...model.stationFaultSet],
    reboot: () => calls.push('reboot'),
    periodChanged: (key) => calls.push(key),
  });
  const cmd = (f: CommandFrame): string[] => {
    const before = out.length;
    protocol.handleLine(encodeFrame(f).slice(0, -1));
    return out.slice(before).map((l) => l.replace(/\*[0-9A-F]{2}$/, ''));
  };
  return { protocol, model, config, counters, events, calls, state, cmd };
}

describe('checkConfig', () => {
  it('accepts the documented ranges and names the NAK reason otherwise', () => {
    expect(checkConfig('METER_MS', '0')).toEqual({ ok: true, key: 'METER_MS', value: 0 });
    expect(checkConfig('METER_MS', '100')).toMatchObject({ ok: true, value: 100 });
    expect(checkConfig('METER_MS', '99')).toEqual({ ok: false, reason: 'BADVALUE' });
    expect(checkConfig('WATCHDOG_MS', '1000')).toMatchObject({ ok: true, value: 1000 });
    expect(checkConfig('WATCHDOG_MS', '0')).toEqual({ ok: false, reason: 'BADVALUE' });
    expect(checkConfig('WATCHDOG_MS', '86400001')).toEqual({ ok: false, reason: 'BADVALUE' });
    expect(checkConfig('WATCHDOG_MS', '01000')).toEqual({ ok: false, reason: 'BADVALUE' });
    expect(checkConfig('FALLBACK_A', '6.5')).toMatchObject({ ok: true, value: 6.5 });
    expect(checkConfig('FALLBACK_A', '5')).toEqual({ ok: false, reason: 'BADVALUE' });
    expect(checkConfig('FALLBACK_A', '6.55')).toEqual({ ok: false, reason: 'BADVALUE' });
    expect(checkConfig('VOLUME', '1')).toEqual({ ok: false, reason: 'BADKEY' });
    expect([0, 6, 80].every(validAmps)).toBe(true);
    expect([1, 5.9, 80.1, Number.NaN].some(validAmps)).toBe(false);
  });
});

describe('CommandProtocol', () => {
  it('answers each command with its ACK or NAK reason', () => {
    const { cmd, model, config, calls } = rig();
    expect(cmd({ type: 'ENABLE', seq: 1, connector: 3, amps: 16 })).toEqual(['$NAK,1,BADCONN']);
    expect(cmd({ type: 'ENABLE', seq: 2, connector: 1, amps: 5 })).toEqual(['$NAK,2,BADVALUE']);
    model.raiseFault(2, 'RCD_TRIP');
    expect(cmd({ type: 'ENABLE', seq: 3, connector: 0, amps: 16 })).toEqual(['$NAK,3,FAULTED']);
    expect(cmd({ type: 'ENABLE', seq: 4, connector: 1, amps: 16 })).toEqual(['$ACK,4']);
    expect(model.state(1).enabled).toBe(true);
    expect(cmd({ type: 'CONFIG', seq: 5, key: 'METER_MS', value: '250' })).toEqual(['$ACK,5']);
    expect(cmd({ type: 'CONFIG', seq: 6, key: 'FALLBACK_A', value: '8' })).toEqual(['$ACK,6']);
    expect(cmd({ type: 'CONFIG', seq: 7, key: 'NOPE', value: '1' })).toEqual(['$NAK,7,BADKEY']);
    expect(config).toEqual({ meterMs: 250, watchdogMs: 5000, fallbackA: 8 });
    expect(cmd({ type: 'UNLOCK', seq: 8, connector: 1 })).toEqual(['$ACK,8', '$LOCK,1,unlocked']);
    expect(cmd({ type: 'RESET', seq: 9 })).toEqual(['$ACK,9']);
    expect(calls.filter((c) => c !== 'feed')).toEqual(['METER_MS', 'reboot']);
    expect(calls.filter((c) => c === 'feed')).toHaveLength(9);
  });

  it('sends the STATUS dump before its ACK, station faults last', () => {
    const { cmd, model } = rig();
    model.raiseFault(0, 'OVERTEMP');
    const lines = cmd({ type: 'STATUS', seq: 1 });
    expect(lines.map((l) => l.split(',').slice(0, 2).join(','))).toEqual([
      '$CP,1', '$PP,1', '$RELAY,1', '$LOCK,1', '$METER,1',
      '$CP,2', '$PP,2', '$RELAY,2', '$LOCK,2', '$METER,2',
      '$FAULT,0', '$ACK,1',
    ]);
  });

  it('answers a repeated seq again and does nothing else, also after the answer was lost', () => {
    const { cmd, model, counters, events, state } = rig();
    const commands: CommandFrame[] = [];
    events.on('command', (f) => commands.push(f));
    state.dropNextAnswer = true;
    expect(cmd({ type: 'INFO', seq: 7 })).toEqual([expect.stringMatching(/^\$HELLO,/)]);
    expect(cmd({ type: 'INFO', seq: 7 })).toEqual(['$ACK,7']);
    model.plugIn(1);
    expect(cmd({ type: 'READ', seq: 8, connector: 1 })).toHaveLength(2);
    expect(cmd({ type: 'READ', seq: 8, connector: 1 })).toEqual(['$ACK,8']);
    expect(commands.map((f) => f.seq)).toEqual([7, 8]);
    expect(counters).toMatchObject({ commands: 2, duplicates: 2, acks: 3 });
  });

  it('ignores input while booting and counts malformed lines by reason', () => {
    const { protocol, counters, calls, state, events } = rig();
    const dropped: string[] = [];
    events.on('dropped', (reason) => dropped.push(reason));
    state.booting = true;
    protocol.handleLine(encodeFrame({ type: 'PING', seq: 1 }).slice(0, -1));
    expect(counters.ignored).toBe(1);
    state.booting = false;
    protocol.handleLine('$PING,1*00');
    protocol.handleLine(encodeFrame({ type: 'ACK', seq: 1 }).slice(0, -1));
    expect(dropped).toEqual(['bad-checksum', 'wrong-direction']);
    expect(counters.dropped).toMatchObject({ 'bad-checksum': 1, 'wrong-direction': 1 });
    expect(calls).toEqual([]);
    expect(protocol.lastCommand).toBeNull();
  });
});
