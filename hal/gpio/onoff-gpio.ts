// Real GPIO backend on onoff (sysfs + epoll). Loaded lazily so a machine without GPIO or
// without the epoll addon still runs: LEDs then go dark after ONE clear log line, never a
// crash (onoff README "static accessible"; the package is unmaintained since 2021).
import { errorText, type HalLogger } from '../log.js';
import { noopGpioLine, type GpioBackend, type GpioLine } from './gpio-line.js';

/** The part of onoff's `Gpio` class we use; tests pass an onoff-shaped fake. */
export interface OnoffGpioClass {
  new (pin: number, direction: 'out'): GpioLine;
  readonly accessible: boolean;
}

export type OnoffLoader = () => Promise<OnoffGpioClass>;

const importOnoff: OnoffLoader = async () => (await import('onoff')).Gpio;

/**
 * Load onoff and wrap it as a GpioBackend. Never rejects: when onoff cannot load, GPIO is not
 * accessible, or exporting a pin fails, it logs once and every line from then on is a no-op.
 */
export async function loadOnoffGpio(logger: HalLogger, load: OnoffLoader = importOnoff): Promise<GpioBackend> {
  let Gpio: OnoffGpioClass;
  try {
    Gpio = await load();
  } catch (err) {
    logger.warn({ err: errorText(err) }, 'GPIO not accessible (onoff failed to load): status LEDs disabled');
    return { accessible: false, open: () => noopGpioLine() };
  }
  if (!Gpio.accessible) {
    logger.warn('GPIO not accessible (no writable /sys/class/gpio): status LEDs disabled');
    return { accessible: false, open: () => noopGpioLine() };
  }
  let disabled = false;
  return {
    get accessible() {
      return !disabled;
    },
    open: (pin, direction) => {
      if (disabled) return noopGpioLine();
      try {
        return new Gpio(pin, direction);
      } catch (err) {
        // Usually all pins fail alike (permissions, a kernel without sysfs GPIO): say it once.
        disabled = true;
        logger.warn({ pin, err: errorText(err) }, 'GPIO not accessible (export failed): status LEDs disabled');
        return noopGpioLine();
      }
    },
  };
}
