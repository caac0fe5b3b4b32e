// onoff-shaped GPIO fake (sysfs GPIO cannot run here: the one allowed mock) that records
// every write with the time it happened, plus a HalLogger that records what was logged.
import type { BinaryValue, GpioLine } from '../../hal/gpio/gpio-line.js';
import type { HalLogger } from '../../hal/log.js';

export interface RecordedWrite {
  value: BinaryValue;
  atMs: number;
}

export class FakeGpio implements GpioLine {
  readonly writes: RecordedWrite[] = [];
  value: BinaryValue = 0;
  unexported = false;

  constructor(
    readonly pin: number,
    readonly direction: string,
    private readonly nowMs: () => number = () => 0,
  ) {}

  writeSync(value: BinaryValue): void {
    // sysfs after unexport: the value file is gone.
    if (this.unexported) throw new Error(`EBADF: pin ${this.pin} is unexported`);
    this.writes.push({ value, atMs: this.nowMs() });
    this.value = value;
  }

  readSync(): BinaryValue {
    return this.value;
  }

  unexport(): void {
    this.unexported = true;
  }

  /** Times at which the pin went from 0 to 1. */
  risingEdges(): number[] {
    const out: number[] = [];
    let prev: BinaryValue = 0;
    for (const w of this.writes) {
      if (w.value === 1 && prev === 0) out.push(w.atMs);
      prev = w.value;
    }
    return out;
  }
}

/** A GpioLineFactory over FakeGpio, keeping every line it opened by pin. */
export function fakeGpioFactory(nowMs: () => number = () => 0) {
  const pins = new Map<number, FakeGpio>();
  const open = (pin: number, direction: 'out'): FakeGpio => {
    const g = new FakeGpio(pin, direction, nowMs);
    pins.set(pin, g);
    return g;
  };
  const pin = (n: number): FakeGpio => {
    const g = pins.get(n);
    if (g === undefined) throw new Error(`pin ${n} was never opened`);
    return g;
  };
  return { open, pins, pin };
}

export interface LogRecord {
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  obj: object | undefined;
  msg: string | undefined;
}

export function recordingLogger(): HalLogger & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  const fn =
    (level: LogRecord['level']) =>
    (objOrMsg: object | string, msg?: string): void => {
      if (typeof objOrMsg === 'string') records.push({ level, obj: undefined, msg: objOrMsg });
      else records.push({ level, obj: objOrMsg, msg });
    };
  const logger: HalLogger & { records: LogRecord[] } = {
    records,
    trace: fn('trace'),
    debug: fn('debug'),
    info: fn('info'),
    warn: fn('warn'),
    error: fn('error'),
    child: () => logger,
  };
  return logger;
}
