// Reconnect delay policy for the CSMS connection: exponential backoff with full random jitter
// (delay uniform in [0, min(max, base * 2^attempt))), reset only once a connection proved stable.
// Pure and injectable (random), so the policy is unit-tested without sockets or clocks.

export interface ReconnectOptions {
  /** Cap of the first delay. */
  readonly baseDelayMs: number;
  /** Upper bound of every delay. */
  readonly maxDelayMs: number;
  /** A connection must stay up this long before the backoff starts over. */
  readonly stableAfterMs: number;
}

export const DEFAULT_RECONNECT: ReconnectOptions = { baseDelayMs: 1_000, maxDelayMs: 60_000, stableAfterMs: 30_000 };

export class ReconnectBackoff {
  readonly options: ReconnectOptions;
  readonly #random: () => number;
  #attempts = 0;

  constructor(options: Partial<ReconnectOptions> = {}, random: () => number = Math.random) {
    this.options = { ...DEFAULT_RECONNECT, ...options };
    if (!(this.options.baseDelayMs > 0) || !(this.options.maxDelayMs >= this.options.baseDelayMs)) {
      throw new RangeError('reconnect: need 0 < baseDelayMs <= maxDelayMs');
    }
    this.#random = random;
  }

  /** Delays handed out since the last reset. */
  get attempts(): number {
    return this.#attempts;
  }

  /** The upper bound of the next delay (before jitter). */
  get currentCapMs(): number {
    // Math.min first keeps 2^attempts from overflowing into Infinity after many failures.
    const exp = Math.min(this.#attempts, 30);
    return Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** exp);
  }

  /** Next delay in ms: full jitter over the current cap; grows the cap for the attempt after. */
  next(): number {
    const cap = this.currentCapMs;
    this.#attempts += 1;
    const r = Math.min(Math.max(this.#random(), 0), 1);
    return Math.floor(r * cap);
  }

  reset(): void {
    this.#attempts = 0;
  }
}
