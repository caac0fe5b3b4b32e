// GPIO seam shaped like onoff's Gpio (writeSync/readSync/unexport), so the real backend is
// a one-file swap and the test fake teaches nothing false. Only outputs (status LEDs) for now.

export type BinaryValue = 0 | 1;

/** One exported GPIO line, as onoff's Gpio instance. */
export interface GpioLine {
  writeSync(value: BinaryValue): void;
  readSync(): BinaryValue;
  /** Release the line (sysfs unexport); the pin keeps its last value. */
  unexport(): void;
}

/** Opens (exports) a line; as `new Gpio(pin, 'out')`. */
export type GpioLineFactory = (pin: number, direction: 'out') => GpioLine;

export interface GpioBackend {
  /** False when the board has no usable GPIO: open() then returns lines that do nothing. */
  readonly accessible: boolean;
  readonly open: GpioLineFactory;
}

/** A line that drives nothing but remembers what was written (GPIO not accessible). */
export function noopGpioLine(): GpioLine {
  let value: BinaryValue = 0;
  return {
    writeSync: (v) => {
      value = v;
    },
    readSync: () => value,
    unexport: () => {},
  };
}

/** The backend when GPIO is absent or disabled. */
export const NOOP_GPIO: GpioBackend = { accessible: false, open: () => noopGpioLine() };
