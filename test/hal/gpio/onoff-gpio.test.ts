// Real GPIO backend (hal/gpio/onoff-gpio.ts): loads the real onoff here, and with onoff-shaped
// fakes shows that inaccessible GPIO or a failed export logs once and never throws.
import { describe, expect, it } from 'vitest';
import { loadOnoffGpio, type OnoffGpioClass } from '../../../hal/gpio/onoff-gpio.js';
import { StatusLeds } from '../../../hal/gpio/status-leds.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { FakeGpio, recordingLogger } from '../../helpers/fake-gpio.js';

function fakeOnoff(accessible: boolean, failPins: readonly number[] = []) {
  const constructed: FakeGpio[] = [];
  const attempts: number[] = [];
  class Gpio extends FakeGpio {
    static readonly accessible = accessible;
    constructor(pin: number, direction: 'out') {
      attempts.push(pin);
      if (failPins.includes(pin)) throw new Error(`EACCES: permission denied, open '/sys/class/gpio/export'`);
      super(pin, direction);
      constructed.push(this);
    }
  }
  return { Gpio: Gpio as OnoffGpioClass, constructed, attempts };
}

const warnings = (logger: ReturnType<typeof recordingLogger>) => logger.records.filter((r) => r.level === 'warn');

describe('loadOnoffGpio', () => {
  it('loads the real onoff package and reports what onoff itself reports as accessible', async () => {
    const logger = recordingLogger();
    const backend = await loadOnoffGpio(logger);
    const { Gpio } = await import('onoff');
    expect(backend.accessible).toBe(Gpio.accessible);
    // A board with GPIO logs nothing; a machine without it (this one, CI) says so exactly once.
    expect(warnings(logger)).toHaveLength(Gpio.accessible ? 0 : 1);
  });

  it('GPIO not accessible: one clear warning, then lines that do nothing and never throw', async () => {
    const logger = recordingLogger();
    const onoff = fakeOnoff(false);
    const backend = await loadOnoffGpio(logger, async () => onoff.Gpio);
    expect(backend.accessible).toBe(false);
    for (const pin of [17, 27, 22]) {
      const line = backend.open(pin, 'out');
      line.writeSync(1);
      expect(line.readSync()).toBe(1);
      line.unexport();
    }
    expect(onoff.attempts).toEqual([]); // never touched sysfs
    expect(warnings(logger)).toHaveLength(1);
    expect(warnings(logger)[0]!.msg).toMatch(/GPIO not accessible.*LEDs disabled/);
  });

  it('onoff fails to load (no epoll addon, not Linux): one warning, no throw', async () => {
    const logger = recordingLogger();
    const backend = await loadOnoffGpio(logger, () => Promise.reject(new Error('Cannot find module epoll')));
    expect(backend.accessible).toBe(false);
    expect(() => backend.open(17, 'out').writeSync(1)).not.toThrow();
    expect(warnings(logger)).toHaveLength(1);
    expect(warnings(logger)[0]).toMatchObject({ obj: { err: 'Cannot find module epoll' } });
  });

  it('export fails: one warning naming the pin, then no further export attempts', async () => {
    const logger = recordingLogger();
    const onoff = fakeOnoff(true, [17, 27, 22]);
    const backend = await loadOnoffGpio(logger, async () => onoff.Gpio);
    expect(backend.accessible).toBe(true);
    const lines = [17, 27, 22].map((pin) => backend.open(pin, 'out'));
    for (const l of lines) expect(() => l.writeSync(1)).not.toThrow();
    expect(onoff.attempts).toEqual([17]);
    expect(backend.accessible).toBe(false);
    expect(warnings(logger)).toHaveLength(1);
    expect(warnings(logger)[0]).toMatchObject({ obj: { pin: 17 }, msg: expect.stringMatching(/LEDs disabled/) });
  });

  it('GPIO accessible: opens onoff lines as outputs and logs nothing', async () => {
    const logger = recordingLogger();
    const onoff = fakeOnoff(true);
    const backend = await loadOnoffGpio(logger, async () => onoff.Gpio);
    const line = backend.open(22, 'out');
    line.writeSync(1);
    expect(onoff.constructed.map((g) => [g.pin, g.direction, g.value])).toEqual([[22, 'out', 1]]);
    expect(logger.records).toEqual([]);
  });

  it('StatusLeds on inaccessible GPIO runs its patterns without throwing', async () => {
    const logger = recordingLogger();
    const backend = await loadOnoffGpio(logger, async () => fakeOnoff(false).Gpio);
    const clock = new FakeClock();
    const leds = new StatusLeds({ leds: { green: 17, red: 27 }, open: backend.open, timers: clock.halTimers, logger });
    leds.setState('preparing');
    leds.signal('cardRejected');
    clock.advance(10_000);
    leds.stop();
    expect(clock.pendingTimers()).toBe(0);
    expect(warnings(logger)).toHaveLength(1);
  });
});
