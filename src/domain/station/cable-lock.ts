// Cable unlock (1.6 UnlockConnector, 2.0.1 UnlockConnector): a transaction on the EVSE is
// stopped first, then the controller releases the lock and its `$LOCK` outcome is awaited.
import type { EvseId } from '../model/evse.js';
import type { ChargeControllerPort, LockState } from '../ports.js';
import type { Clock } from '../../platform/clock.js';
import type { Evses } from './evses.js';
import type { TransactionLifecycle } from './transactions.js';

/** The controller capability that says a connector has a cable lock (controller-serial.md `$HELLO`). */
export const LOCK_CAPABILITY = 'LOCK';

const UNLOCK_OUTCOME_TIMEOUT_MS = 5_000;

export type UnlockResult = 'Unlocked' | 'UnlockFailed' | 'NotSupported';

interface LockWaiter {
  evseId: EvseId;
  resolve: (state: LockState | 'timeout') => void;
}

export class CableLock {
  private waiters: LockWaiter[] = [];

  constructor(
    private readonly evses: Evses,
    private readonly lifecycle: TransactionLifecycle,
    private readonly controller: ChargeControllerPort,
    private readonly clock: Clock,
    private readonly onError: (err: unknown, context: string) => void,
    /** How long an unlock waits for the controller's `$LOCK` outcome after its ACK. */
    private readonly outcomeTimeoutMs = UNLOCK_OUTCOME_TIMEOUT_MS,
  ) {}

  async unlock(evseId: EvseId): Promise<UnlockResult> {
    const e = this.evses.get(evseId);
    if (!e) return 'NotSupported';
    const info = this.controller.info;
    if (info && !info.capabilities.includes(LOCK_CAPABILITY)) return 'NotSupported';
    if (e.tx) this.lifecycle.stop(evseId, 'UnlockCommand');
    if (!this.controller.isLinkUp) return 'UnlockFailed';
    // Listen before sending: the controller writes `$LOCK` right after its ACK.
    let resolveOutcome: (state: LockState | 'timeout') => void = () => {};
    const outcome = new Promise<LockState | 'timeout'>((resolve) => (resolveOutcome = resolve));
    const waiter: LockWaiter = { evseId, resolve: resolveOutcome };
    this.waiters.push(waiter);
    const timer = this.clock.setTimeout(() => resolveOutcome('timeout'), this.outcomeTimeoutMs);
    try {
      await this.controller.unlock(evseId);
      // A lock that is not 'locked' after an accepted UNLOCK is released ($LOCK unlocked).
      return (await outcome) === 'unlocked' ? 'Unlocked' : 'UnlockFailed';
    } catch (err) {
      this.onError(err, 'unlock');
      return 'UnlockFailed';
    } finally {
      this.clock.clearTimeout(timer);
      this.waiters = this.waiters.filter((w) => w !== waiter);
    }
  }

  /** The controller's `$LOCK` report. */
  reported(evseId: EvseId, state: LockState): void {
    // 'locked' is the ENABLE of a transaction, not the outcome of an UNLOCK.
    if (state === 'locked') return;
    for (const w of this.waiters.filter((x) => x.evseId === evseId)) w.resolve(state);
  }
}
