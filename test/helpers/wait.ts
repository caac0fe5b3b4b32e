// Waiting helpers for tests over real pty, sockets and processes: poll or await
// an event with a generous deadline, never assert on elapsed time.

export async function waitFor(cond: () => boolean, timeoutMs = 8_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

type Listener = (...args: never[]) => void;
interface OnOff<L> {
  on<E extends keyof L & string>(event: E, listener: L[E]): unknown;
  off<E extends keyof L & string>(event: E, listener: L[E]): unknown;
}

/** Resolves with the first argument of the first matching event. */
export function waitForEvent<L extends { [K in keyof L]: Listener }, E extends keyof L & string>(
  emitter: OnOff<L>,
  event: E,
  match: (...args: Parameters<L[E]>) => boolean = () => true,
  timeoutMs = 8_000,
): Promise<Parameters<L[E]>[0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener as L[E]);
      reject(new Error(`timed out waiting for event ${event}`));
    }, timeoutMs);
    const listener = (...args: Parameters<L[E]>): void => {
      if (!match(...args)) return;
      clearTimeout(timer);
      emitter.off(event, listener as L[E]);
      resolve(args[0]);
    };
    emitter.on(event, listener as L[E]);
  });
}
