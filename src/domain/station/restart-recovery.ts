// Restart recovery: transactions that were running when the agent last stopped go on if
// their EV is still plugged in once the controller reports (same transaction, meter
// continuous), else end with the best known reason and time.
import { isPlugged } from '../model/connector-state.js';
import type { StopReason } from '../model/stop-reason.js';
import type { Transaction } from '../model/transaction.js';
import type { Clock } from '../../platform/clock.js';
import type { EnergyCaps } from './energy-caps.js';
import type { Evses } from './evses.js';
import type { TransactionLifecycle } from './transactions.js';

/** A transaction that was open when the agent last stopped. */
export interface RestoredTransaction {
  tx: Transaction;
  /** The reason it is stopped with if its EV is gone (Reboot, PowerLoss). */
  reasonIfEnded: StopReason;
  /** Its best known end time if so. */
  endedAt: Date;
  /** The CSMS refused its identifier when it was reported. */
  refused?: boolean;
}

/** An open transaction as the journal kept it. */
export type OpenTransaction = Transaction & {
  /** The kernel boot it was recorded under. */
  bootId: string | null;
  /** The CSMS's authorization status in its answer to the start (null: not answered yet). */
  authorizationStatus: string | null;
};

/** The journal of transactions (the store implements it). */
export interface RecoveryJournal {
  openTransactions(): OpenTransaction[];
  /** The last time the agent is known to have been alive during it. */
  lastKnownAlive(localId: string): Date | null;
}

/**
 * Same kernel boot: only the agent restarted (crash, upgrade), moments ago: Reboot, ended now.
 * Another boot: the power went: PowerLoss, ended when the agent was last known alive.
 */
export function recoveryPlan(journal: RecoveryJournal, bootId: string | null, clock: Clock): RestoredTransaction[] {
  return journal.openTransactions().map((open) => {
    const { bootId: txBoot, authorizationStatus, ...tx } = open;
    const sameBoot = bootId !== null && txBoot === bootId;
    return {
      tx,
      reasonIfEnded: sameBoot ? 'Reboot' : 'PowerLoss',
      endedAt: sameBoot ? clock.now() : (journal.lastKnownAlive(tx.localId) ?? tx.startedAt),
      refused: authorizationStatus !== null && authorizationStatus !== 'Accepted',
    };
  });
}

export class RestartRecovery {
  /** Restored transactions waiting for the controller's view of their EVSE. */
  private readonly restoring = new Map<string, RestoredTransaction>();

  constructor(
    private readonly evses: Evses,
    private readonly lifecycle: TransactionLifecycle,
    private readonly caps: EnergyCaps,
  ) {}

  restore(list: ReadonlyArray<RestoredTransaction>): void {
    for (const r of list) {
      const e = this.evses.fromController(r.tx.evseId);
      if (!e || e.tx) {
        // No EVSE for it (gone, or a second open record of one): end it at once, never drop it.
        this.lifecycle.endWithoutEvse(r.tx, r.reasonIfEnded, r.endedAt);
        continue;
      }
      e.tx = r.tx;
      this.restoring.set(r.tx.localId, r);
    }
  }

  /** The controller reported (link up, states resynced): each restored transaction goes on or ends. */
  settle(): void {
    for (const e of this.evses.all()) {
      const tx = e.tx;
      const r = tx ? this.restoring.get(tx.localId) : undefined;
      if (!tx || !r) continue;
      this.restoring.delete(tx.localId);
      if (isPlugged(e.pilot)) {
        this.lifecycle.resume(e);
        // The CSMS had refused its identifier: suspended or capped again, not free energy after a restart.
        if (r.refused) this.caps.startRejected(tx.localId);
      } else {
        // No energy flows once unplugged: the register the controller reports now is the end.
        this.lifecycle.stop(e.id, r.reasonIfEnded, undefined, r.endedAt);
      }
    }
  }
}
