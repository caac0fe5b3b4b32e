// A reset asked for by the CSMS: running transactions end with the reset's reason, the answer
// goes out first, their reports get a bounded wait to reach the CSMS (offline they are durable
// and go out after the restart), then the controller (Hard) and the agent restart.
import type { StopReason } from '../model/stop-reason.js';
import type { EvseId } from '../model/evse.js';
import type { Transaction } from '../model/transaction.js';
import type { DeliveryMonitor } from '../ports.js';
import type { Clock } from '../../platform/clock.js';

export type ResetType = 'Soft' | 'Hard';

/** How long a reset waits for the ended transactions' reports to be delivered. */
export const RESET_DELIVERY_WAIT_MS = 10_000;

/** How long a reset waits for the stop registers being read (the controller answers in milliseconds). */
export const STOP_READS_WAIT_MS = 1_500;

/** Lets the answer to the reset request go out before anything restarts. */
const ANSWER_FIRST_MS = 50;

export interface ResetDeps {
  station: {
    activeTransactions(): Transaction[];
    stopTransaction(evseId: EvseId, reason: StopReason): unknown;
    /** Resolves once the ended transactions have their stop registers (their reports carry them). */
    stopsSettled(): Promise<void>;
  };
  clock: Clock;
  delivery: DeliveryMonitor;
  /** The charge controller (a Hard reset restarts it too). */
  controller: { reset?(): Promise<void> };
  /** Restarts the agent (the process's owner does). */
  restart(type: ResetType): void;
  deliveryWaitMs?: number;
}

export class ResetRule {
  constructor(private readonly d: ResetDeps) {}

  /** Always accepted: transactions stop now, the restart follows. */
  request(type: ResetType): boolean {
    const { station, clock } = this.d;
    const reason: StopReason = type === 'Hard' ? 'HardReset' : 'SoftReset';
    for (const tx of station.activeTransactions()) station.stopTransaction(tx.evseId, reason);
    clock.setTimeout(() => void this.restartAfterDelivery(type), ANSWER_FIRST_MS);
    return true;
  }

  private async restartAfterDelivery(type: ResetType): Promise<void> {
    const { clock } = this.d;
    const waitMs = this.d.deliveryWaitMs ?? RESET_DELIVERY_WAIT_MS;
    await this.within(this.d.station.stopsSettled(), STOP_READS_WAIT_MS);
    await Promise.race([this.d.delivery.drain(), new Promise((r) => clock.setTimeout(() => r(undefined), waitMs))]);
    if (type === 'Hard') await this.d.controller.reset?.().catch(() => undefined);
    this.d.restart(type);
  }

  private within(p: Promise<void>, ms: number): Promise<unknown> {
    return Promise.race([p, new Promise((r) => this.d.clock.setTimeout(() => r(undefined), ms))]);
  }
}
