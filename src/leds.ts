// Drives the status LEDs from the station, the CSMS link and the OCPP configuration: connector
// state -> indication, card answers -> one-shot flashes, BlinkRepeat / LightIntensity -> the
// LED engine. Takes an already built StatusLeds (hal/gpio) so only main.ts constructs hardware.
import type { ChargingStation } from './domain/station/charging-station.js';
import type { ConnectorState, StationState } from './domain/model/connector-state.js';

export type Indication = 'available' | 'preparing' | 'charging' | 'suspended' | 'faulted' | 'unavailable';

export interface LedsPort {
  setState(indication: Indication): void;
  setCsmsOnline(online: boolean): void;
  signal(signal: 'cardAccepted' | 'cardRejected'): void;
  setBlinkRepeat(times: number): void;
  /** Returns the intensity the LEDs honour. */
  setLightIntensity(percent: number): number;
  stop(): void;
}

/** The slice of the OCPP configuration store the LEDs follow. */
export interface LedSettings {
  getInt(key: 'BlinkRepeat' | 'LightIntensity'): number;
  setInternal(key: 'LightIntensity', value: string): void;
  onChange(listener: (key: string, value: string) => void): () => void;
}

/**
 * Applies BlinkRepeat and LightIntensity now and on every change. A LightIntensity the LEDs
 * cannot show (50 % on an on/off line) is stored back as what they do show, so GetConfiguration
 * reports the truth.
 */
export function bindLedSettings(leds: LedsPort, settings: LedSettings): () => void {
  const intensity = (): void => {
    const wanted = settings.getInt('LightIntensity');
    const honoured = leds.setLightIntensity(wanted);
    if (honoured !== wanted) settings.setInternal('LightIntensity', String(honoured));
  };
  leds.setBlinkRepeat(settings.getInt('BlinkRepeat'));
  intensity();
  return settings.onChange((key) => {
    if (key === 'BlinkRepeat') leds.setBlinkRepeat(settings.getInt('BlinkRepeat'));
    else if (key === 'LightIntensity') intensity();
  });
}

/** The indication of one connector, from its neutral state. */
export function indicationOf(s: ConnectorState): Indication {
  if (s.availability === 'Faulted') return 'faulted';
  if (s.availability === 'Unavailable') return 'unavailable';
  if (s.sessionPhase === 'in-transaction') {
    if (s.chargingState === 'Charging') return 'charging';
    if (s.chargingState === 'SuspendedEV' || s.chargingState === 'SuspendedEVSE') return 'suspended';
    return 'preparing';
  }
  if (s.sessionPhase !== 'none' || s.chargingState !== 'Idle' || s.availability === 'Reserved') return 'preparing';
  return 'available';
}

/** Rank so that, on a multi-connector station, the most important state wins the shared LEDs. */
const RANK: readonly Indication[] = ['faulted', 'charging', 'suspended', 'preparing', 'available', 'unavailable'];

/** A faulted station shows as faulted whatever its connectors say; no state known yet shows unavailable. */
export function indicationFor(station: StationState | null, connectors: readonly (ConnectorState | null)[]): Indication {
  const ind = connectors.filter((s): s is ConnectorState => s !== null).map(indicationOf);
  if (station?.availability === 'Faulted') ind.push('faulted');
  return RANK.find((r) => ind.includes(r)) ?? 'unavailable';
}

export function bindStatusLeds(
  leds: LedsPort,
  station: ChargingStation,
  csms: { on(event: 'connected' | 'disconnected', l: () => void): unknown },
  settings: LedSettings,
): () => void {
  const unbindSettings = bindLedSettings(leds, settings);
  let shown: Indication | null = null;
  const update = (): void => {
    const indication = indicationFor(station.stationState(), station.evseIds().map((c) => station.connectorState(c)));
    // Neutral states change more often than what the LEDs show: only a new indication is applied.
    if (indication === shown) return;
    shown = indication;
    leds.setState(indication);
  };
  const unsubscribe = station.subscribe({
    connectorStateChanged: update,
    stationStateChanged: update,
    authorizationDecided: ({ accepted }) => leds.signal(accepted ? 'cardAccepted' : 'cardRejected'),
  });
  csms.on('connected', () => leds.setCsmsOnline(true));
  csms.on('disconnected', () => leds.setCsmsOnline(false));
  leds.setCsmsOnline(false);
  update();
  return () => {
    unbindSettings();
    unsubscribe();
    leds.stop();
  };
}
