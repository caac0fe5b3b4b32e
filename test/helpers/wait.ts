// Waiting helpers for tests over real pty, sockets and processes: poll or await
// an event with a generous deadline, never assert on elapsed time.
import { createConnection } from 'node:net';
import type { ChargeController, ChargeControllerEvents } from '../../hal/controller/types.js';

export async function waitFor(cond: () => boolean, timeoutMs = 8_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Waits until a Unix socket accepts a connection. The file alone is not enough: it exists from
 * bind() on, and a loaded machine can hold the server between bind() and listen(), when a
 * connect is refused.
 */
export async function waitForListening(path: string, timeoutMs = 8_000, what = path): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const accepted = await new Promise<boolean>((resolve) => {
      const probe = createConnection(path);
      probe.once('connect', () => {
        probe.destroy();
        resolve(true);
      });
      probe.once('error', () => {
        probe.destroy();
        resolve(false);
      });
    });
    if (accepted) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} to accept connections`);
    await new Promise((r) => setTimeout(r, 20));
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
