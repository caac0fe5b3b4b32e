// The CSMS's answer to a started transaction: its identifier info is learnt, and a refused
// identifier either ends the transaction (Deauthorized, 1.6 StopTransactionOnInvalidId) or
// lets it take at most MaxEnergyOnInvalidId Wh before it is suspended (0 A offered).
import type { AuthorizationInfo } from '../model/authorization.js';
import type { EvseId } from '../model/evse.js';
import type { IdToken } from '../model/id-token.js';
import type { Evses } from './evses.js';
import type { TransactionLifecycle } from './transactions.js';

export interface EnergyCapSettings {
  stopTransactionOnInvalidId(): boolean;
  /** Energy (Wh) a transaction whose identifier the CSMS refused may still take (0 = none). */
  maxEnergyOnInvalidIdWh?(): number;
}

/** Where identifier info from the CSMS's answers is kept (the authorization cache). */
export interface AuthorizationLearner {
  learn(idToken: IdToken, info: AuthorizationInfo): void;
}

export class EnergyCaps {
  /** Refused transactions allowed MaxEnergyOnInvalidId: localId -> register (Wh) at which they suspend. */
  private readonly caps = new Map<string, number>();

  constructor(
    private readonly evses: Evses,
    private readonly lifecycle: TransactionLifecycle,
    private readonly settings: EnergyCapSettings,
    private readonly learner?: AuthorizationLearner,
  ) {}

  /** The CSMS answered the start of a transaction with this identifier info. */
  startAnswered(localId: string, idToken: IdToken, info: AuthorizationInfo): void {
    this.learner?.learn(idToken, info);
    if (info.status !== 'Accepted') this.startRejected(localId);
  }

  /** The CSMS refused the identifier of a running transaction (also again after a restart). */
  startRejected(localId: string): void {
    const tx = this.evses.activeTransactions().find((t) => t.localId === localId);
    if (!tx) return;
    if (this.settings.stopTransactionOnInvalidId()) {
      this.lifecycle.stop(tx.evseId, 'Deauthorized');
      return;
    }
    const allowance = this.settings.maxEnergyOnInvalidIdWh?.() ?? 0;
    if (allowance > 0) this.caps.set(localId, tx.meterStartWh + allowance);
    this.enforce(tx.evseId);
  }

  /** A new meter reading on this EVSE. */
  metered(evseId: EvseId): void {
    const tx = this.evses.get(evseId)?.tx;
    if (tx && this.caps.has(tx.localId)) this.enforce(evseId);
  }

  /** Suspends a refused transaction once it has taken its allowance, or at once without one. */
  private enforce(evseId: EvseId): void {
    const e = this.evses.get(evseId);
    const tx = e?.tx;
    if (!e || !tx) return;
    const cap = this.caps.get(tx.localId);
    const energy = e.lastMeter?.energyWh ?? tx.meterStartWh;
    if (cap === undefined || energy >= cap) {
      this.caps.delete(tx.localId);
      if (e.offeredA !== 0) this.lifecycle.setOffered(evseId, 0);
    }
  }
}
