// Drives the status LEDs from the station, the CSMS link and the OCPP configuration: connector
// status -> indication, card answers -> one-shot flashes, BlinkRepeat / LightIntensity -> the
// LED engine. Takes an already built StatusLeds (hal/gpio) so only main.ts constructs hardware.
import type { ChargingStation } from './domain/station/charging-station.js';
import type { ConnectorStatus } from './domain/connector/connector-status.js';

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

const BY_STATUS: Readonly<Record<ConnectorStatus, Indication>> = {
  Available: 'available',
  Preparing: 'preparing',
  Charging: 'charging',
  SuspendedEV: 'suspended',
  SuspendedEVSE: 'suspended',
  Finishing: 'preparing',
  Reserved: 'preparing',
  Unavailable: 'unavailable',
  Faulted: 'faulted',
};

/** Rank so that, on a multi-connector station, the most important state wins the shared LEDs. */
const RANK: readonly Indication[] = ['faulted', 'charging', 'suspended', 'preparing', 'available', 'unavailable'];

export function indicationFor(statuses: readonly (ConnectorStatus | null)[]): Indication {
  const ind = statuses.filter((s): s is ConnectorStatus => s !== null).map((s) => BY_STATUS[s]);
  return RANK.find((r) => ind.includes(r)) ?? 'unavailable';
}

export function bindStatusLeds(
  leds: LedsPort,
  station: ChargingStation,
  csms: { on(event: 'connected' | 'disconnected', l: () => void): unknown },
  settings: LedSettings,
): () => void {
  const unbindSettings = bindLedSettings(leds, settings);
  const update = (): void => leds.setState(indicationFor([station.status(0) === 'Faulted' ? 'Faulted' : null, ...station.connectorIds().map((c) => station.status(c))]));
  const unsubscribe = station.subscribe({
    statusChanged: update,
    cardResult: (_tag, accepted) => leds.signal(accepted ? 'cardAccepted' : 'cardRejected'),
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
