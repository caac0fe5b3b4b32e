// The logging surface hal/ needs: a structural subset of pino's Logger, so hal/
// stays a leaf (src/main.ts passes a pino child; tests pass SILENT_LOGGER).

export interface LogFn {
  (obj: object, msg?: string): void;
  (msg: string): void;
}

export interface HalLogger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): HalLogger;
}

const noop = (): void => {};

export const SILENT_LOGGER: HalLogger = {
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => SILENT_LOGGER,
};

/** hal's one way to turn a thrown value into log text (the twin of src/platform/errors.ts; hal is a leaf). */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
