// Smart charging tests: 1.6 charging profiles as the CSMS sends them, and the `$ENABLE` commands
// the simulated controller receives on the serial line (the only place the limit is observed).
import type { ChargingProfile, ChargingSchedulePeriod } from '../../src/ocpp/v16/generated/types.js';
import type { SimulatedController } from '../../hal/sim/simulated-controller.js';
import type { Harness } from './agent-harness.js';
import { waitFor } from './wait.js';

type Purpose = ChargingProfile['chargingProfilePurpose'];

export interface ProfileSpec {
  id: number;
  purpose: Purpose;
  stackLevel?: number;
  kind?: ChargingProfile['chargingProfileKind'];
  recurrencyKind?: ChargingProfile['recurrencyKind'];
  unit?: 'A' | 'W';
  /** [startPeriod s, limit] pairs, or full periods. */
  periods: Array<[number, number] | ChargingSchedulePeriod>;
  startSchedule?: Date;
  duration?: number;
  validFrom?: Date;
  validTo?: Date;
  transactionId?: number;
}

export function profile16(s: ProfileSpec): ChargingProfile {
  const p: ChargingProfile = {
    chargingProfileId: s.id,
    stackLevel: s.stackLevel ?? 0,
    chargingProfilePurpose: s.purpose,
    chargingProfileKind: s.kind ?? 'Absolute',
    chargingSchedule: {
      chargingRateUnit: s.unit ?? 'A',
      chargingSchedulePeriod: s.periods.map((x) => (Array.isArray(x) ? { startPeriod: x[0], limit: x[1] } : x)),
    },
  };
  if (s.recurrencyKind) p.recurrencyKind = s.recurrencyKind;
  if (s.startSchedule) p.chargingSchedule.startSchedule = s.startSchedule.toISOString();
  if (s.duration !== undefined) p.chargingSchedule.duration = s.duration;
  if (s.validFrom) p.validFrom = s.validFrom.toISOString();
  if (s.validTo) p.validTo = s.validTo.toISOString();
  if (s.transactionId !== undefined) p.transactionId = s.transactionId;
  return p;
}

/** Every `$ENABLE` the controller receives, in order, with when it arrived (performance.now()). */
export class EnableLog {
  readonly enables: { connector: number; amps: number; at: number }[] = [];
  private readonly listener = (frame: { type: string; connector?: number; amps?: number }): void => {
    if (frame.type === 'ENABLE') this.enables.push({ connector: frame.connector ?? 0, amps: frame.amps ?? NaN, at: performance.now() });
  };

  constructor(private sim: SimulatedController) {
    sim.on('command', this.listener);
  }

  /** After a restart the agent runs a new simulator. */
  follow(sim: SimulatedController): void {
    this.sim.off('command', this.listener);
    this.sim = sim;
    sim.on('command', this.listener);
  }

  mark(): number {
    return this.enables.length;
  }

  since(mark: number, connector = 1): number[] {
    return this.enables.slice(mark).filter((e) => e.connector === connector).map((e) => e.amps);
  }

  last(connector = 1): number | undefined {
    return this.enables.filter((e) => e.connector === connector).at(-1)?.amps;
  }

  /** Waits for an ENABLE with these amps on the connector after the mark. */
  async waitFor(amps: number, mark = 0, connector = 1): Promise<void> {
    await waitFor(() => this.since(mark, connector).includes(amps), 10_000, `$ENABLE ${connector} at ${amps} A (got ${this.since(mark, connector).join(', ') || 'none'})`);
  }

  stop(): void {
    this.sim.off('command', this.listener);
  }
}

export function enableLog(h: Harness): EnableLog {
  return new EnableLog(h.sim);
}
