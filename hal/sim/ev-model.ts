// Electrical model of one simulated connector (controller-serial.md §Events,
// `$METER`): charging current, meter readings, energy integration. Pure functions,
// so the physics can be tested without a pty.

export const NOMINAL_VOLTAGE_V = 230;
export const AMBIENT_TEMP_C = 24;

export interface ElectricalState {
  contactorClosed: boolean;
  /** Current the controller offers per phase (ENABLE, or the watchdog fallback). */
  offeredAmps: number;
  /** Most the EV draws per phase. */
  evMaxAmps: number;
  /** Cable capacity from the proximity pilot; 0 = no cable information (no limit from it). */
  cableAmps: number;
}

/** Per-phase current drawn: min(offered, EV max, cable), 0 with the contactor open. */
export function chargeCurrentA(s: ElectricalState): number {
  if (!s.contactorClosed) return 0;
  const cable = s.cableAmps > 0 ? s.cableAmps : Number.POSITIVE_INFINITY;
  return Math.max(0, Math.min(s.offeredAmps, s.evMaxAmps, cable));
}

/** Nominal active power (unity power factor), used for energy integration. */
export function nominalPowerW(currentA: number, phases: 1 | 3): number {
  return NOMINAL_VOLTAGE_V * currentA * phases;
}

/** Energy in Wh added by `powerW` over `elapsedMs` of real time, sped up by `timeScale`. */
export function energyDeltaWh(powerW: number, elapsedMs: number, timeScale: number): number {
  if (elapsedMs <= 0 || powerW <= 0) return 0;
  return (powerW * elapsedMs * timeScale) / 3_600_000;
}

export interface MeterReading {
  energyWh: number;
  powerW: number;
  voltageV: [number | null, number | null, number | null];
  currentA: [number | null, number | null, number | null];
  temperatureC: number;
}

const round1 = (n: number): number => Math.round(n * 10) / 10;
const round2 = (n: number): number => Math.round(n * 100) / 100;

/**
 * One meter reading. `noise` returns values in [0, 1) (Math.random by default):
 * voltages wander +-1 V around 230 V, temperature rises with current.
 * A single-phase meter leaves L2/L3 empty.
 */
export function meterReading(
  energyWhExact: number,
  currentA: number,
  phases: 1 | 3,
  noise: () => number = Math.random,
): MeterReading {
  const v = (): number => round1(NOMINAL_VOLTAGE_V - 1 + 2 * noise());
  const a = round2(currentA);
  const v1 = v();
  const voltageV: MeterReading['voltageV'] = phases === 3 ? [v1, v(), v()] : [v1, null, null];
  const currentAPhases: MeterReading['currentA'] = phases === 3 ? [a, a, a] : [a, null, null];
  let powerW = 0;
  for (let i = 0; i < 3; i++) powerW += (voltageV[i] ?? 0) * (currentAPhases[i] ?? 0);
  return {
    energyWh: Math.floor(energyWhExact),
    powerW: Math.round(powerW),
    voltageV,
    currentA: currentAPhases,
    temperatureC: round1(AMBIENT_TEMP_C + 0.25 * currentA + 0.4 * noise()),
  };
}
