// hal/sim/ev-model.ts: the simulator's electrical model behind `$METER`
// (controller-serial.md §Events): current limits, energy integration, readings.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chargeCurrentA, energyDeltaWh, meterReading, nominalPowerW } from '../../../hal/sim/ev-model.js';

describe('ev-model', () => {
  it('draws min(offered, EV max, cable) with the contactor closed, nothing when open', () => {
    const s = { contactorClosed: true, offeredAmps: 16, evMaxAmps: 32, cableAmps: 32 };
    expect(chargeCurrentA(s)).toBe(16);
    expect(chargeCurrentA({ ...s, evMaxAmps: 10 })).toBe(10);
    expect(chargeCurrentA({ ...s, cableAmps: 13 })).toBe(13);
    expect(chargeCurrentA({ ...s, cableAmps: 0 })).toBe(16); // no PP information: no cable limit
    expect(chargeCurrentA({ ...s, contactorClosed: false })).toBe(0);
  });

  it('integrates power over time with the speed-up', () => {
    expect(nominalPowerW(16, 3)).toBe(11_040);
    expect(nominalPowerW(16, 1)).toBe(3_680);
    expect(energyDeltaWh(3_600, 1_000, 1)).toBeCloseTo(1, 10);
    expect(energyDeltaWh(3_600, 1_000, 60)).toBeCloseTo(60, 10);
    expect(energyDeltaWh(3_600, 0, 60)).toBe(0);
    expect(energyDeltaWh(3_600, -5, 60)).toBe(0);
  });

  it('reads three phases around 230 V, or L1 only for single-phase', () => {
    const mid = (): number => 0.5;
    expect(meterReading(1234.9, 16, 3, mid)).toEqual({
      energyWh: 1234,
      powerW: 11_040,
      voltageV: [230, 230, 230],
      currentA: [16, 16, 16],
      temperatureC: 28.2,
    });
    expect(meterReading(10, 13, 1, mid)).toMatchObject({ powerW: 2_990, voltageV: [230, null, null], currentA: [13, null, null] });
  });

  it('keeps every reading in range and the register an integer that never decreases', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ amps: fc.integer({ min: 0, max: 80 }), ms: fc.integer({ min: 0, max: 10_000 }) }), { maxLength: 30 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        (steps, n) => {
          let exact = 500;
          let last = meterReading(exact, 0, 3, () => n).energyWh;
          for (const st of steps) {
            exact += energyDeltaWh(nominalPowerW(st.amps, 3), st.ms, 100);
            const r = meterReading(exact, st.amps, 3, () => n);
            expect(Number.isInteger(r.energyWh)).toBe(true);
            expect(r.energyWh).toBeGreaterThanOrEqual(last);
            for (const v of r.voltageV) expect(v! >= 229 && v! <= 231).toBe(true);
            last = r.energyWh;
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
