// Part of the composition root (with src/main.ts and controller.ts): the only src/ modules that load
// hal/ at run time. The status LEDs on GPIO, bound to the station's state (src/leds.ts).
import type { Logger } from 'pino';
import type { AgentConfig } from '../config/agent-config.js';
import { childLogger } from '../platform/logger.js';
import type { bindStatusLeds, LedSettings } from '../leds.js';
import type { ChargingStation } from '../domain/station/charging-station.js';

/** Binds the configured LEDs to the station and the CSMS link; returns the unbinding. */
export async function startLeds(
  cfg: AgentConfig,
  station: ChargingStation,
  csms: Parameters<typeof bindStatusLeds>[2],
  settings: LedSettings,
  log: Logger,
): Promise<() => void> {
  // No LEDs configured: do not even load the LED code and onoff (development machines, tests).
  if (Object.keys(cfg.leds).length === 0) return () => {};
  const ledLog = childLogger(log, 'leds');
  const [{ loadOnoffGpio }, { StatusLeds }, { bindStatusLeds: bind }] = await Promise.all([
    import('../../hal/gpio/onoff-gpio.js'),
    import('../../hal/gpio/status-leds.js'),
    import('../leds.js'),
  ]);
  const gpio = await loadOnoffGpio(ledLog);
  return gpio ? bind(new StatusLeds({ leds: cfg.leds, open: gpio.open, logger: ledLog }), station, csms, settings) : () => {};
}
