// Waiting helpers for tests over real pty, sockets and processes: poll or await
// an event with a generous deadline, never assert on elapsed time.
import type { ChargeController, ChargeControllerEvents } from '../../hal/controller/types.js';

export async function waitFor(cond: () => boolean, timeoutMs = 8_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

type Events = ChargeControllerEvents;

/** Resolves with the first argument of the first matching controller event. */
export function waitForEvent<E extends keyof Events>(
  emitter: ChargeController,
  event: E,
  match: (...args: Parameters<Events[E]>) => boolean = () => true,
  timeoutMs = 8_000,
): Promise<Parameters<Events[E]>[0]> {
  return new Promise((resolve, reject) => {
    const listener = ((...args: Parameters<Events[E]>): void => {
      if (!match(...args)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(args[0]);
    }) as unknown as Events[E];
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out waiting for event ${event}`));
    }, timeoutMs);
    emitter.on(event, listener);
  });
}
