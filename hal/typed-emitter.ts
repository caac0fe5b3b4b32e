// A small typed wrapper over node:events so event names and listener
// signatures are checked by tsc across the hal/ boundary.
import { EventEmitter } from 'node:events';

/** An interface whose members are listener signatures, e.g. `{ data: (x: number) => void }`. */
export type ListenerMap<L> = { [K in keyof L]: (...args: never[]) => void };

type AnyListener = (...args: unknown[]) => void;

export class TypedEmitter<L extends ListenerMap<L>> {
  private readonly ee = new EventEmitter();

  constructor() {
    // Several subscribers (domain, LEDs, diagnostics, demo printer) are normal.
    this.ee.setMaxListeners(50);
  }

  on<E extends keyof L & string>(event: E, listener: L[E]): this {
    this.ee.on(event, listener as unknown as AnyListener);
    return this;
  }

  once<E extends keyof L & string>(event: E, listener: L[E]): this {
    this.ee.once(event, listener as unknown as AnyListener);
    return this;
  }

  off<E extends keyof L & string>(event: E, listener: L[E]): this {
    this.ee.off(event, listener as unknown as AnyListener);
    return this;
  }

  /** Listener exceptions are the listener's bug: they must not break the emitter's state machine. */
  protected emit<E extends keyof L & string>(event: E, ...args: Parameters<L[E]>): void {
    for (const listener of this.ee.listeners(event)) {
      try {
        (listener as AnyListener)(...(args as unknown[]));
      } catch (err) {
        this.onListenerError(event, err);
      }
    }
  }

  protected onListenerError(_event: string, _err: unknown): void {}
}
