// The authorization flow: an identifier presented (card at the reader, or a remote start)
// stops its holder's own transaction, or is authorized and starts one at once (EV already
// plugged in) or waits for a plug-in for ConnectionTimeOut seconds (card first / plug first).
import type { StationEventBus } from '../events.js';
import type { AuthorizationResult } from '../model/authorization.js';
import { isPlugged } from '../model/connector-state.js';
import type { EvseId, StationTarget } from '../model/evse.js';
import { sameIdToken, type IdToken } from '../model/id-token.js';
import type { Authorizer } from '../ports.js';
import type { Clock, TimerHandle } from '../../platform/clock.js';
import type { EvseRecord, Evses } from './evses.js';
import type { ReservationHolds } from './reservation-holds.js';
import type { TransactionLifecycle } from './transactions.js';

export interface AuthorizationFlowSettings {
  /** Seconds an authorization waits for a plug-in (1.6 ConnectionTimeOut, 2.0.1 EVConnectionTimeOut). */
  connectionTimeoutS(): number;
  /** A remote start is authorized like a card first (1.6 AuthorizeRemoteTxRequests). */
  authorizeRemoteTxRequests(): boolean;
}

export interface AuthorizationFlowDeps {
  evses: Evses;
  holds: ReservationHolds;
  lifecycle: TransactionLifecycle;
  authorizer: Authorizer;
  settings: AuthorizationFlowSettings;
  clock: Clock;
  bus: StationEventBus;
}

export type PresentOutcome = 'started' | 'waiting' | 'stopped' | 'rejected';

interface PendingAuthorization {
  idToken: IdToken;
  groupId?: IdToken;
  evseId: EvseId | null;
  timer: TimerHandle;
}

export class AuthorizationFlow {
  private pending: PendingAuthorization | null = null;

  constructor(private readonly d: AuthorizationFlowDeps) {}

  /**
   * Stops the holder's own transaction (same identifier or same group), else authorizes and
   * starts, or waits for a plug-in.
   */
  async present(raw: IdToken, opts: { evseId?: EvseId; remote?: boolean } = {}): Promise<PresentOutcome> {
    const { evses, lifecycle } = this.d;
    const idToken: IdToken = { value: raw.value.trim(), type: raw.type };
    const own = evses.activeTransactions().find((t) => sameIdToken(t.idToken, idToken));
    if (own && !opts.remote) {
      lifecycle.stop(own.evseId, 'LocalStop', idToken);
      this.decided(idToken, true, 'Accepted');
      return 'stopped';
    }
    const needsAuth = !opts.remote || this.d.settings.authorizeRemoteTxRequests();
    const result: AuthorizationResult = needsAuth ? await this.d.authorizer.authorize(idToken) : { status: 'Accepted' };
    if (!opts.remote) {
      const sameGroup = evses.activeTransactions().find((t) => t.groupId && sameIdToken(t.groupId, result.groupId));
      if (sameGroup && (result.status === 'Accepted' || result.status === 'ConcurrentTx')) {
        lifecycle.stop(sameGroup.evseId, 'LocalStop', idToken);
        this.decided(idToken, true, result.status);
        return 'stopped';
      }
    }
    if (result.status !== 'Accepted') {
      this.decided(idToken, false, result.status);
      return 'rejected';
    }
    const target = this.pick(opts.evseId, idToken, result.groupId);
    // No EVSE can take a transaction (inoperative, faulted, busy): waiting would never end in one.
    if (!target) {
      this.decided(idToken, false, result.status);
      return 'rejected';
    }
    this.decided(idToken, true, result.status);
    if (isPlugged(target.pilot)) return lifecycle.begin(target, idToken, result.groupId) ? 'started' : 'rejected';
    const p: Omit<PendingAuthorization, 'timer'> = { idToken, evseId: opts.evseId ?? null };
    if (result.groupId !== undefined) p.groupId = result.groupId;
    this.setPending(p);
    return 'waiting';
  }

  /** An EV was plugged in (plug after card): starts the waiting authorization here. True when it did. */
  plugged(e: EvseRecord): boolean {
    const p = this.pending;
    if (e.tx || !p || (p.evseId !== null && p.evseId !== e.id) || !this.d.holds.usableBy(e, p.idToken, p.groupId)) return false;
    this.setPending(null);
    this.d.lifecycle.begin(e, p.idToken, p.groupId);
    return true;
  }

  /** The EVSE shows the waiting authorization (an unspecified one shows on a single-EVSE station). */
  waitingFor(e: EvseRecord): boolean {
    const p = this.pending;
    if (!p) return false;
    const here = p.evseId === e.id || (p.evseId === null && this.d.evses.size === 1);
    return here && this.d.holds.usableBy(e, p.idToken, p.groupId);
  }

  /** A target just went Inoperative: a card waiting for a plug-in there gives up. */
  inoperative(target: StationTarget): void {
    const p = this.pending;
    if (!p) return;
    if (target.scope === 'station' || p.evseId === target.evseId || this.d.evses.size === 1) this.setPending(null);
  }

  private decided(idToken: IdToken, accepted: boolean, status: AuthorizationResult['status']): void {
    this.d.bus.emit('authorizationDecided', { idToken, accepted, status });
  }

  private pick(wanted: EvseId | undefined, idToken: IdToken, groupId?: IdToken): EvseRecord | null {
    const { evses, holds } = this.d;
    if (wanted !== undefined) {
      const e = evses.get(wanted);
      return e && holds.usableBy(e, idToken, groupId) ? e : null;
    }
    const candidates = evses.all().filter((e) => holds.usableBy(e, idToken, groupId));
    return candidates.find((e) => isPlugged(e.pilot) && !e.finished) ?? candidates[0] ?? null;
  }

  private setPending(p: Omit<PendingAuthorization, 'timer'> | null): void {
    const { clock } = this.d;
    if (this.pending) clock.clearTimeout(this.pending.timer);
    this.pending = null;
    if (p) {
      const timer = clock.setTimeout(() => {
        if (this.pending?.timer === timer) {
          this.pending = null;
          this.d.evses.refreshAll();
        }
      }, this.d.settings.connectionTimeoutS() * 1000);
      this.pending = { ...p, timer };
    }
    this.d.evses.refreshAll();
  }
}
