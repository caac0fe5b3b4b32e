// Domain meter reading -> OCPP 1.6 MeterValue (§7.31 SampledValue): the configured
// measurands, per phase where the controller measures three phases.
import type { MeterReading } from '../../domain/ports.js';
import type { Measurand, MeterValue, Phase, ReadingContext, SampledValue } from './generated/types.js';

const PHASES: readonly Phase[] = ['L1', 'L2', 'L3'];

function perPhase(values: readonly (number | null)[], measurand: Measurand, unit: 'A' | 'V', context: ReadingContext): SampledValue[] {
  const present = values.map((v, i) => [v, PHASES[i]!] as const).filter(([v]) => v !== null);
  if (present.length === 0) return [];
  const phaseOf = (p: Phase): Phase => (measurand === 'Voltage' ? (`${p}-N` as Phase) : p);
  return present.map(([v, p]) => ({ value: fmt(v!), context, measurand, unit, phase: phaseOf(p) }));
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

export function buildMeterValue(
  reading: MeterReading,
  measurands: readonly string[],
  at: Date,
  context: ReadingContext,
  offeredA: number,
): MeterValue {
  const sampledValue: SampledValue[] = [];
  for (const m of measurands) {
    switch (m) {
      case 'Energy.Active.Import.Register':
        if (reading.energyWh !== null) sampledValue.push({ value: String(Math.round(reading.energyWh)), context, measurand: m, unit: 'Wh', location: 'Outlet' });
        break;
      case 'Power.Active.Import':
        if (reading.powerW !== null) sampledValue.push({ value: String(Math.round(reading.powerW)), context, measurand: m, unit: 'W', location: 'Outlet' });
        break;
      case 'Current.Import':
        sampledValue.push(...perPhase(reading.currentA, m, 'A', context));
        break;
      case 'Voltage':
        sampledValue.push(...perPhase(reading.voltageV, m, 'V', context));
        break;
      case 'Current.Offered':
        sampledValue.push({ value: fmt(offeredA), context, measurand: m, unit: 'A' });
        break;
      case 'Temperature':
        // 'Celcius' is the official 1.6 schema's spelling; the schema rejects 'Celsius'.
        if (reading.temperatureC !== null) sampledValue.push({ value: fmt(reading.temperatureC), context, measurand: m, unit: 'Celcius', location: 'Body' });
        break;
    }
  }
  return { timestamp: at.toISOString(), sampledValue };
}
