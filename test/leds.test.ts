// OCPP BlinkRepeat and LightIntensity (1.6 §9.1) driving the status LEDs (src/leds.ts): the real
// StatusLeds on fake GPIO lines (the one allowed mock) and the real ConfigurationStore over SQLite,
// changed as ChangeConfiguration does; what the LEDs cannot honour reads back as what they show.
import { afterEach, describe, expect, it } from 'vitest';
import { StatusLeds } from '../hal/gpio/status-leds.js';
import { bindLedSettings } from '../src/leds.js';
import { ConfigurationStore } from '../src/ocpp/v16/configuration-store.js';
import { SqliteConfigurationRepo } from '../src/store/configuration-repo.js';
import { FakeClock } from './helpers/fake-clock.js';
import { fakeGpioFactory } from './helpers/fake-gpio.js';
import { TempDatabases } from './helpers/temp-agent-db.js';

const GREEN = 17;
const RED = 27;
const dbs = new TempDatabases();
afterEach(() => dbs.cleanup());

function setup() {
  const clock = new FakeClock();
  const gpio = fakeGpioFactory(() => clock.monotonicMs());
  const leds = new StatusLeds({ leds: { green: GREEN, red: RED }, open: gpio.open, timers: clock.halTimers, csmsOnline: true, initialIndication: 'available' });
  const { db, dir } = dbs.open();
  const config = new ConfigurationStore(new SqliteConfigurationRepo(db));
  const unbind = bindLedSettings(leds, config);
  return { clock, gpio, leds, config, unbind, db, dir };
}

describe('BlinkRepeat and LightIntensity drive the status LEDs', () => {
  it('BlinkRepeat sets how often a rejected card flashes', () => {
    const { clock, gpio, leds, config } = setup();
    expect(config.change('BlinkRepeat', '6')).toEqual({ result: 'Accepted' });
    leds.signal('cardRejected');
    clock.advance(10_000);
    expect(gpio.pin(RED).risingEdges()).toHaveLength(6);
    expect(config.change('BlinkRepeat', '0').result).toBe('Rejected');
  });

  it('LightIntensity 0 darkens the LEDs; 50 shows full brightness and reads back as 100', () => {
    const { gpio, config } = setup();
    expect(gpio.pin(GREEN).value).toBe(1);
    expect(config.change('LightIntensity', '0')).toEqual({ result: 'Accepted' });
    expect(gpio.pin(GREEN).value).toBe(0);
    expect(config.get('LightIntensity')).toBe('0');
    expect(config.change('LightIntensity', '50')).toEqual({ result: 'Accepted' });
    expect(gpio.pin(GREEN).value).toBe(1);
    expect(config.list(['LightIntensity']).known).toEqual([{ key: 'LightIntensity', readonly: false, value: '100' }]);
  });

  it('values stored before a restart apply at start (and an unhonourable one is corrected)', () => {
    const first = setup();
    first.config.change('BlinkRepeat', '2');
    first.config.setInternal('LightIntensity', '30'); // as an older build would have stored it
    first.unbind();
    const db = dbs.reopen(first.db, first.dir);
    const clock = new FakeClock();
    const gpio = fakeGpioFactory(() => clock.monotonicMs());
    const leds = new StatusLeds({ leds: { green: GREEN, red: RED }, open: gpio.open, timers: clock.halTimers, csmsOnline: true, initialIndication: 'available' });
    const config = new ConfigurationStore(new SqliteConfigurationRepo(db));
    bindLedSettings(leds, config);
    expect(config.get('LightIntensity')).toBe('100');
    leds.signal('cardRejected');
    clock.advance(10_000);
    expect(gpio.pin(RED).risingEdges()).toHaveLength(2);
  });

  it('after unbinding, changes no longer reach the LEDs', () => {
    const { gpio, config, unbind } = setup();
    unbind();
    config.change('LightIntensity', '0');
    expect(gpio.pin(GREEN).value).toBe(1);
  });
});
