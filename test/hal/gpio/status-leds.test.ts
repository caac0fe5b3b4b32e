// Status LEDs (hal/gpio/status-leds.ts): pins per charger indication, blink and flash timing
// under a driven FakeClock, activeLow, the CSMS-offline overlay and shutdown.
import { describe, expect, it } from 'vitest';
import {
  CHARGER_INDICATIONS,
  LED_ON,
  StatusLeds,
  blink,
  flash,
  type ChargerIndication,
  type StatusLedsOptions,
} from '../../../hal/gpio/status-leds.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { fakeGpioFactory, recordingLogger } from '../../helpers/fake-gpio.js';

const GREEN = 17;
const RED = 27;
const BLUE = 22;

function setup(opts: Partial<StatusLedsOptions> = {}) {
  const clock = new FakeClock();
  const gpio = fakeGpioFactory(() => clock.monotonicMs());
  const logger = recordingLogger();
  const leds = new StatusLeds({
    leds: { green: GREEN, red: RED, blue: BLUE },
    open: gpio.open,
    timers: clock.halTimers,
    logger,
    csmsOnline: true,
    ...opts,
  });
  const levels = () => ({ green: gpio.pin(GREEN).value, red: gpio.pin(RED).value, blue: gpio.pin(BLUE).value });
  /** Values of a pin sampled every `stepMs` for `count` steps (the first sample is now). */
  const sample = (pin: number, stepMs: number, count: number) => {
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      if (i > 0) clock.advance(stepMs);
      out.push(gpio.pin(pin).value);
    }
    return out;
  };
  return { clock, gpio, logger, leds, levels, sample };
}

describe('StatusLeds: indications', () => {
  it('opens every configured LED as an output', () => {
    const { gpio } = setup();
    expect([...gpio.pins.keys()].sort()).toEqual([GREEN, BLUE, RED].sort());
    expect([...gpio.pins.values()].every((g) => g.direction === 'out')).toBe(true);
  });

  it.each<[ChargerIndication, { green: number; red: number; blue: number }]>([
    ['available', { green: 1, red: 0, blue: 0 }],
    ['charging', { green: 0, red: 0, blue: 1 }],
    ['faulted', { green: 0, red: 1, blue: 0 }], // after its fault flashes (see below)
  ])('%s: steady pins', (indication, expected) => {
    const { leds, levels, clock } = setup();
    leds.setState(indication);
    expect(levels()).toEqual(expected);
    clock.advance(10_000);
    expect(levels()).toEqual(expected);
  });

  it.each<[ChargerIndication, number, number]>([
    ['preparing', GREEN, 1000],
    ['suspended', BLUE, 2000],
    ['unavailable', RED, 2000],
  ])('%s: blinks pin %i with a %i ms period, others dark', (indication, pin, periodMs) => {
    const { leds, sample, gpio } = setup();
    leds.setState(indication);
    expect(sample(pin, periodMs / 2, 6)).toEqual([1, 0, 1, 0, 1, 0]);
    for (const other of [GREEN, RED, BLUE].filter((p) => p !== pin)) expect(gpio.pin(other).value).toBe(0);
  });

  it('starts as unavailable until the first setState', () => {
    const { leds, sample } = setup();
    expect(leds.state).toBe('unavailable');
    expect(sample(RED, 1000, 3)).toEqual([1, 0, 1]);
  });

  it('every indication differs from every other in what the LEDs show', () => {
    const looks = new Set<string>();
    for (const indication of CHARGER_INDICATIONS) {
      const { leds, sample } = setup();
      leds.setState(indication);
      looks.add(JSON.stringify([GREEN, RED, BLUE].map((p) => sample(p, 250, 9))));
    }
    expect(looks.size).toBe(CHARGER_INDICATIONS.length);
  });
});

describe('StatusLeds: blink', () => {
  it('toggles exactly at each half period as time is driven, and writes only on changes', () => {
    const { leds, gpio, clock } = setup();
    leds.setState('preparing'); // green blink(1000)
    clock.advance(499);
    expect(gpio.pin(GREEN).value).toBe(1);
    clock.advance(1);
    expect(gpio.pin(GREEN).value).toBe(0);
    clock.advance(4_500);
    const writes = gpio.pin(GREEN).writes.filter((w) => w.atMs > 0);
    expect(writes.map((w) => w.atMs)).toEqual([500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 4500, 5000]);
    expect(writes.map((w) => w.value)).toEqual([0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
  });

  it('switching state stops the old blink timer', () => {
    const { leds, gpio, clock } = setup();
    leds.setState('preparing');
    leds.setState('charging');
    const before = gpio.pin(GREEN).writes.length;
    clock.advance(5_000);
    expect(gpio.pin(GREEN).writes.length).toBe(before);
    expect(gpio.pin(GREEN).value).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('setting the same state again does not restart the blink phase', () => {
    const { leds, gpio, clock } = setup();
    leds.setState('preparing');
    clock.advance(300);
    leds.setState('preparing');
    clock.advance(200);
    expect(gpio.pin(GREEN).value).toBe(0); // toggled at 500 ms from the first start, not 800
  });
});

describe('StatusLeds: card signals', () => {
  it('cardAccepted flashes green 3 times with the other LEDs dark, then returns to the state', () => {
    const { leds, gpio, clock, levels } = setup();
    leds.setState('charging');
    clock.advance(1_000);
    leds.signal('cardAccepted');
    const t0 = clock.monotonicMs();
    expect(levels()).toEqual({ green: 1, red: 0, blue: 0 });
    clock.advance(899);
    expect(gpio.pin(GREEN).risingEdges().map((t) => t - t0)).toEqual([0, 300, 600]);
    expect(levels()).toEqual({ green: 0, red: 0, blue: 0 });
    clock.advance(1);
    expect(levels()).toEqual({ green: 0, red: 0, blue: 1 });
    clock.advance(10_000);
    expect(gpio.pin(GREEN).risingEdges()).toHaveLength(3);
  });

  it('cardRejected flashes red 3 times, then the blink of the state resumes', () => {
    const { leds, gpio, clock, sample } = setup({ initialIndication: 'preparing' });
    leds.signal('cardRejected');
    clock.advance(900);
    expect(gpio.pin(RED).risingEdges()).toEqual([0, 300, 600]);
    expect(gpio.pin(RED).value).toBe(0);
    expect(sample(GREEN, 500, 4)).toEqual([1, 0, 1, 0]);
  });

  it('a state change during a signal does not cut or restart the flash; the new state shows after it', () => {
    const { leds, gpio, clock, levels } = setup({ initialIndication: 'available' });
    leds.signal('cardAccepted');
    clock.advance(200);
    leds.setState('faulted');
    expect(levels()).toEqual({ green: 0, red: 0, blue: 0 }); // mid-flash: green in its off phase
    clock.advance(699); // 899 ms: the third pulse is over, the signal not yet
    expect(levels()).toEqual({ green: 0, red: 0, blue: 0 });
    expect(gpio.pin(GREEN).risingEdges()).toEqual([0, 300, 600]);
    clock.advance(1);
    expect(levels()).toEqual({ green: 0, red: 1, blue: 0 });
  });

  it('a second signal restarts from its first pulse and replaces the first', () => {
    const { leds, gpio, clock, levels } = setup({ initialIndication: 'available' });
    leds.signal('cardAccepted');
    clock.advance(400);
    leds.signal('cardRejected');
    expect(levels()).toEqual({ green: 0, red: 1, blue: 0 });
    clock.advance(900);
    expect(gpio.pin(RED).risingEdges()).toEqual([400, 700, 1000]);
    expect(gpio.pin(GREEN).risingEdges().filter((t) => t > 0 && t < 1300)).toEqual([300]);
    expect(levels()).toEqual({ green: 1, red: 0, blue: 0 });
  });
});

describe('StatusLeds: fault flashes and BlinkRepeat', () => {
  it('entering faulted flashes red BlinkRepeat times (default 3), then red stays steady', () => {
    const { leds, gpio, clock, levels } = setup({ initialIndication: 'charging' });
    leds.setState('faulted');
    clock.advance(899);
    expect(gpio.pin(RED).risingEdges()).toEqual([0, 300, 600]);
    expect(levels()).toEqual({ green: 0, red: 0, blue: 0 });
    clock.advance(1);
    expect(levels()).toEqual({ green: 0, red: 1, blue: 0 });
    leds.setState('faulted'); // still faulted: no new flashes
    clock.advance(5_000);
    expect(gpio.pin(RED).risingEdges()).toEqual([0, 300, 600, 900]);
  });

  it('BlinkRepeat sets the pulses of the rejected and fault flashes; the accepted flash keeps its 3', () => {
    const { leds, gpio, clock } = setup({ initialIndication: 'available' });
    leds.setBlinkRepeat(5);
    leds.signal('cardRejected');
    clock.advance(1_500);
    expect(gpio.pin(RED).risingEdges()).toEqual([0, 300, 600, 900, 1200]);
    leds.signal('cardAccepted');
    clock.advance(5_000);
    expect(gpio.pin(GREEN).risingEdges().filter((t) => t >= 1500 && t < 2400)).toEqual([1500, 1800, 2100]);
    const before = gpio.pin(RED).risingEdges().length;
    leds.setBlinkRepeat(1);
    leds.setState('faulted');
    clock.advance(5_000);
    expect(gpio.pin(RED).risingEdges().length - before).toBe(2); // one flash, then the steady red
    expect(gpio.pin(RED).value).toBe(1);
    expect(() => leds.setBlinkRepeat(0)).toThrow(RangeError);
  });
});

describe('StatusLeds: LightIntensity on on/off lines', () => {
  it('0 darkens every LED while the patterns run on; any other value honours as 100', () => {
    const { leds, gpio, clock, levels } = setup({ initialIndication: 'available' });
    expect(leds.setLightIntensity(0)).toBe(0);
    expect(levels()).toEqual({ green: 0, red: 0, blue: 0 });
    leds.setState('preparing');
    leds.signal('cardRejected');
    clock.advance(5_000);
    expect(levels()).toEqual({ green: 0, red: 0, blue: 0 });
    expect(gpio.pin(RED).risingEdges()).toEqual([]);
    expect(leds.setLightIntensity(40)).toBe(100);
    expect(gpio.pin(GREEN).value).toBe(1); // the blink was still running: in its on phase at 5,000 ms
    expect(leds.setLightIntensity(100)).toBe(100);
    expect(() => leds.setLightIntensity(101)).toThrow(RangeError);
    expect(() => leds.setLightIntensity(-1)).toThrow(RangeError);
  });

  it('activeLow lines go high (dark) at 0', () => {
    const { leds, gpio } = setup({ leds: { green: { pin: GREEN, activeLow: true }, red: RED, blue: BLUE }, initialIndication: 'available' });
    expect(gpio.pin(GREEN).value).toBe(0);
    leds.setLightIntensity(0);
    expect(gpio.pin(GREEN).value).toBe(1);
  });
});

describe('StatusLeds: activeLow', () => {
  it('inverts the pin level: lit = low, dark = high', () => {
    const { leds, gpio, clock } = setup({ leds: { green: { pin: GREEN, activeLow: true }, red: RED, blue: BLUE } });
    leds.setState('available');
    expect(gpio.pin(GREEN).value).toBe(0);
    leds.setState('charging');
    expect(gpio.pin(GREEN).value).toBe(1);
    expect(gpio.pin(BLUE).value).toBe(1);
    const before = gpio.pin(GREEN).writes.length;
    leds.setState('preparing');
    clock.advance(1_000);
    expect(gpio.pin(GREEN).writes.slice(before).map((w) => w.value)).toEqual([0, 1, 0]);
  });
});

describe('StatusLeds: CSMS offline overlay', () => {
  it('blinks red over the state while the CSMS link is down, without touching the state LED', () => {
    const { leds, gpio, clock, sample } = setup();
    leds.setState('available');
    const greenWrites = gpio.pin(GREEN).writes.length;
    leds.setCsmsOnline(false);
    expect(sample(RED, 500, 5)).toEqual([1, 0, 1, 0, 1]);
    expect(gpio.pin(GREEN).value).toBe(1);
    expect(gpio.pin(GREEN).writes.length).toBe(greenWrites);
    leds.setCsmsOnline(true);
    expect(gpio.pin(RED).value).toBe(0);
    clock.advance(5_000);
    expect(gpio.pin(RED).value).toBe(0);
  });

  it('is on by default at boot (the CSMS is not connected yet)', () => {
    const { leds, sample } = setup({ csmsOnline: undefined });
    leds.setState('charging');
    expect(sample(RED, 500, 3)).toEqual([1, 0, 1]);
  });

  it('never hides a fault: red stays steady while faulted and offline', () => {
    const { leds, gpio, clock } = setup();
    leds.setCsmsOnline(false);
    leds.setState('faulted');
    clock.advance(900); // the fault flashes
    const writes = gpio.pin(RED).writes.length;
    clock.advance(5_000);
    expect(gpio.pin(RED).value).toBe(1);
    expect(gpio.pin(RED).writes.length).toBe(writes);
  });

  it('a card signal shows over the overlay and the overlay returns after it', () => {
    const { leds, gpio, clock, sample } = setup();
    leds.setState('available');
    leds.setCsmsOnline(false);
    leds.signal('cardAccepted');
    expect(gpio.pin(RED).value).toBe(0);
    clock.advance(900);
    expect(gpio.pin(GREEN).value).toBe(1);
    expect(sample(RED, 500, 3)).toEqual([1, 0, 1]);
  });
});

describe('StatusLeds: configuration', () => {
  it('drives any LED names through custom scenes; unnamed LEDs stay dark and unknown names are ignored', () => {
    const clock = new FakeClock();
    const gpio = fakeGpioFactory(() => clock.monotonicMs());
    const leds = new StatusLeds({
      leds: { amber: 5, white: 6 },
      open: gpio.open,
      timers: clock.halTimers,
      csmsOnline: true,
      scenes: { charging: { amber: blink(400), nosuchled: LED_ON }, cardAccepted: { white: flash(2, 100, 100) } },
    });
    leds.setState('charging');
    expect([0, 1, 2, 3].map((i) => (i > 0 && clock.advance(200), gpio.pin(5).value))).toEqual([1, 0, 1, 0]);
    leds.setState('available'); // default scene names only green: nothing lit here
    expect([gpio.pin(5).value, gpio.pin(6).value]).toEqual([0, 0]);
    leds.signal('cardAccepted');
    clock.advance(400);
    expect(gpio.pin(6).risingEdges()).toHaveLength(2);
  });

  it('rejects nonsense patterns', () => {
    expect(() => blink(0)).toThrow(RangeError);
    expect(() => flash(0)).toThrow(RangeError);
    expect(() => flash(1.5)).toThrow(RangeError);
  });
});

describe('StatusLeds: failures and stop', () => {
  it('stop() turns every LED off, releases the lines and leaves no timer running', () => {
    const { leds, gpio, clock } = setup({ leds: { green: GREEN, red: { pin: RED, activeLow: true }, blue: BLUE } });
    leds.setState('preparing');
    leds.setCsmsOnline(false);
    leds.signal('cardAccepted');
    leds.stop();
    expect(gpio.pin(GREEN).value).toBe(0);
    expect(gpio.pin(RED).value).toBe(1); // activeLow: off is high
    expect([...gpio.pins.values()].every((g) => g.unexported)).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
    // Later calls are ignored (writing an unexported line would throw in the fake).
    leds.setState('available');
    leds.signal('cardRejected');
    leds.setCsmsOnline(true);
    leds.stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('a line that fails to open or to write is logged once and the other LEDs keep working', () => {
    const clock = new FakeClock();
    const gpio = fakeGpioFactory(() => clock.monotonicMs());
    const logger = recordingLogger();
    const leds = new StatusLeds({
      leds: { green: GREEN, red: RED, blue: BLUE },
      open: (pin, dir) => {
        if (pin === BLUE) throw new Error('EBUSY');
        const g = gpio.open(pin, dir);
        if (pin === RED) g.writeSync = () => {
          throw new Error('EIO');
        };
        return g;
      },
      timers: clock.halTimers,
      logger,
      csmsOnline: true,
    });
    leds.setState('unavailable'); // red blinks: a failing write every 1000 ms
    clock.advance(10_000);
    leds.setState('charging');
    leds.setState('available');
    expect(gpio.pin(GREEN).value).toBe(1);
    const warns = logger.records.filter((r) => r.level === 'warn');
    expect(warns.map((r) => r.obj)).toEqual([
      expect.objectContaining({ led: 'blue', pin: BLUE }),
      expect.objectContaining({ led: 'red', pin: RED }),
    ]);
  });
});
