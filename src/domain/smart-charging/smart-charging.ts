// Smart charging on the station: the installed profiles (profile-stack.ts), the offered current
// per EVSE (current-limiter.ts) applied through the station, and when to persist the profiles
// (profile-persistence-policy.ts). It recomputes when the profiles change, at the exact next
// period boundary (one timer, no polling), when a transaction starts, resumes or ends, when the
// cable's rating or the measured voltage/phases change, and when the CSMS link changes (fail-safe).
// Below 6 A the EVSE is paused (0 A offered, SuspendedEVSE) and resumed when the limit rises.
import type { Clock, TimerHandle } from '../../platform/clock.js';
import type { StationListener } from '../events.js';
import type { Transaction } from '../model/transaction.js';
import type { MeterReading } from '../ports.js';
import { LOOKAHEAD_MS, compositeSchedule, type CompositeSchedule, type Electrical, type TransactionRef } from './composite-schedule.js';
import { CurrentLimiter, type LimiterSettings, type Offer } from './current-limiter.js';
import { ProfilePersistencePolicy, compositeExposure, type PersistedProfiles } from './profile-persistence-policy.js';
import { ProfileStack, type ClearCriteria, type InstallResult, type StackLimits } from './profile-stack.js';
import { STATION, profileProblem, type ChargingProfile, type RateUnit } from './profile.js';

/** Where the installed profiles and the restart envelope are kept (store/ implements it). */
export interface ChargingProfileStore {
  load(): PersistedProfiles | null;
  /** One durable write of the whole set; returns the bytes it wrote (for the counters). */
  save(state: PersistedProfiles): number;
}

/** What the component needs of the station (ChargingStation fits it). */
export interface SmartStation {
  evseIds(): number[];
  transaction(evseId: number): Transaction | null;
  offeredCurrent(evseId: number): number;
  setOffered(evseId: number, amps: number): void;
  subscribe(listener: StationListener): () => void;
}

export interface SmartChargingOptions {
  clock: Clock;
  station: SmartStation;
  store: ChargingProfileStore;
  limits(): StackLimits;
  limiter(): LimiterSettings;
  writesPerDay: number;
  /** How long RemoteStartTransaction's profile waits for its transaction (1.6: ConnectionTimeOut); default 60 s. */
  remoteStartWindowMs?(): number;
  onError(err: unknown, context: string): void;
}

export interface SmartChargingCounters {
  profilesReceived: number;
  profilesIdentical: number;
  /** Durable writes of the profile set (budgeted and at shutdown). */
  profileWrites: number;
  profileBytesWritten: number;
  /** Distinct changes that did not cost a write of their own. */
  profilesCoalesced: number;
  /** Per EVSE: the limit (A per phase), what binds it, and the voltage and phases W is converted with. */
  limits: { evseId: number; limitA: number; offeredA: number; paused: boolean; binding: string; voltageV: number; phases: number; measured: boolean }[];
}

/**
 * How long a restored envelope holds at most: the policy's minimum envelope covers the lowered
 * limits of the 24 h before its write, so the window it stands for ends a day after that write.
 */
export const ENVELOPE_SPAN_MS = 86_400_000;

/** A step of the wall clock larger than this re-evaluates the limits (drift corrections are smaller). */
const CLOCK_STEP_MS = 1_000;

/** A measured voltage change smaller than this (relative) is the mains wandering, not news. */
const VOLTAGE_HYSTERESIS = 0.02;

export class SmartCharging {
  private readonly stack: ProfileStack;
  private readonly policy: ProfilePersistencePolicy;
  private readonly limiters = new Map<number, CurrentLimiter>();
  private readonly electrical = new Map<number, Electrical>();
  private readonly cable = new Map<number, number>();
  /** EVSEs this component paused (0 A): any other 0 A (an energy cap) is not undone here. */
  private readonly pausedHere = new Set<number>();
  /** RemoteStartTransaction's TxProfile, for the next transaction on that EVSE (0 = any). */
  private readonly pendingTx = new Map<number, { profile: ChargingProfile; atMs: number }>();
  private csmsDownSinceMs: number | undefined;
  private readonly envelopeUntilMs: number;
  /** The restored envelope, until the CSMS next changes a profile (or it expires: envelopeUntilMs). */
  private envelopeA: number | null;
  private timer: { handle: TimerHandle; dueMs: number } | null = null;
  private readonly counts = { received: 0, identical: 0, changes: 0, writes: 0, bytes: 0 };
  private unsubscribe: (() => void) | null = null;
  /** The wall clock's base at the last recompute: a CSMS time sync moves every boundary. */
  private clockBase = 0;
  /** The EVSEs the persistence policy weighs (known once the controller said how many). */
  private readonly evseIds: number[] = [];

  constructor(private readonly o: SmartChargingOptions) {
    this.stack = new ProfileStack(o.limits);
    let restored: PersistedProfiles | null = null;
    try {
      restored = o.store.load();
    } catch (err) {
      o.onError(err, 'load charging profiles');
    }
    if (restored) this.stack.load(restored.profiles);
    this.envelopeUntilMs = restored ? restored.writtenAtMs + ENVELOPE_SPAN_MS : -Infinity;
    this.envelopeA = restored?.envelopeA ?? null;
    this.csmsDownSinceMs = this.now();
    const exposure = compositeExposure({
      evseIds: this.evseIds,
      electrical: () => this.electricalOf(1),
      transactionOn: (id) => this.txRef(id),
      unlimitedA: o.limiter().configuredMaxA,
    });
    this.policy = new ProfilePersistencePolicy(
      {
        clock: o.clock,
        exposure,
        writesPerDay: o.writesPerDay,
        // A lowering is written at once: a debounce would be a window in which a power cut loses it.
        urgentDelayMs: 0,
        write: (state) => {
          this.counts.bytes += o.store.save(state);
          this.counts.writes++;
        },
        onError: (err) => o.onError(err, 'write charging profiles'),
      },
      restored ? { ...restored, profiles: [...this.stack.profiles()] } : null,
    );
  }

  /** Follows the station's transactions and meter readings. */
  start(): void {
    this.unsubscribe = this.o.station.subscribe({
      transactionStarted: () => this.recompute(),
      transactionResumed: () => this.recompute(),
      transactionEnded: ({ tx }) => this.transactionEnded(tx),
      meterSampled: ({ evseId, reading }) => this.measured(evseId, reading),
    });
    this.recompute();
  }

  // --- the CSMS's requests ------------------------------------------------------------

  /** SetChargingProfile: a Tx profile is bound to the transaction running on its EVSE. */
  install(profile: ChargingProfile): InstallResult {
    this.counts.received++;
    let p = profile;
    if (p.purpose === 'Tx' && p.transactionId === undefined) {
      const tx = this.o.station.transaction(p.evseId);
      if (tx) p = { ...p, transactionId: tx.localId };
    }
    const result = this.stack.install(p, { nowMs: this.now(), transactionOn: (id) => this.o.station.transaction(id)?.localId });
    if (result.status === 'Accepted') {
      if (result.identical) this.counts.identical++;
      else this.changed(true);
    }
    return result;
  }

  /** ClearChargingProfile: the profiles removed (none = nothing matched). */
  clear(criteria: ClearCriteria): ChargingProfile[] {
    const gone = this.stack.clear(criteria);
    if (gone.length > 0) this.changed(true);
    return gone;
  }

  /** Why a profile could not be installed whatever the transactions (malformed, beyond the station's limits), or null. */
  problemOf(p: ChargingProfile): string | null {
    const problem = profileProblem(p);
    if (problem) return problem;
    const lim = this.o.limits();
    if (p.stackLevel > lim.maxStackLevel) return `stack level ${p.stackLevel} > ${lim.maxStackLevel}`;
    if (p.schedule.periods.length > lim.maxPeriods) return `${p.schedule.periods.length} periods > ${lim.maxPeriods}`;
    if (!lim.allowedUnits.includes(p.schedule.unit)) return `unit ${p.schedule.unit} not allowed`;
    return null;
  }

  /** RemoteStartTransaction's TxProfile, installed when the transaction it starts begins. */
  forNextTransaction(evseId: number | undefined, profile: ChargingProfile): void {
    this.pendingTx.set(evseId ?? STATION, { profile, atMs: this.now() });
  }

  profiles(): readonly ChargingProfile[] {
    return this.stack.profiles();
  }

  /** GetCompositeSchedule from now over durationS, for an EVSE or the station (0). */
  composite(evseId: number, durationS: number, unit: RateUnit): CompositeSchedule {
    const startMs = Math.floor(this.now() / 1000) * 1000;
    const tx = evseId === STATION ? undefined : this.txRef(evseId);
    return compositeSchedule({
      profiles: this.stack.profiles(),
      evseId,
      startMs,
      durationS,
      unit,
      electrical: this.electricalOf(evseId),
      unlimitedA: this.o.limiter().configuredMaxA,
      ...(tx ? { transaction: tx } : {}),
    });
  }

  // --- the station's facts ------------------------------------------------------------

  /**
   * The current a transaction starting (or resuming) on this EVSE is offered first, so no
   * ENABLE ever goes out above the profiles. Installs RemoteStartTransaction's TxProfile.
   */
  offerAtStart(evseId: number): number {
    const tx = this.o.station.transaction(evseId);
    // A remote start that never led to a transaction (no EV in time) leaves its profile unused.
    const window = this.o.remoteStartWindowMs?.() ?? 60_000;
    for (const [k, v] of this.pendingTx) if (this.now() - v.atMs > window) this.pendingTx.delete(k);
    const pending = (this.pendingTx.get(evseId) ?? this.pendingTx.get(STATION))?.profile;
    if (tx && pending) {
      this.pendingTx.delete(evseId);
      this.pendingTx.delete(STATION);
      const result = this.install({ ...pending, evseId, transactionId: tx.localId });
      if (result.status === 'Rejected') this.o.onError(new Error(`remote start profile ${pending.id}: ${result.detail}`), 'remote start profile');
    }
    const { offer } = this.limiterOf(evseId).update(this.input(evseId));
    if (offer.paused) this.pausedHere.add(evseId);
    else this.pausedHere.delete(evseId);
    this.armTimer();
    return offer.currentA;
  }

  /** The controller read a new cable rating (PP) on this EVSE. */
  cableCapacity(evseId: number, amps: number): void {
    if (this.cable.get(evseId) === amps) return;
    this.cable.set(evseId, amps);
    this.recompute();
  }

  /** The CSMS link went up or down (the fail-safe counts from the moment it went down). */
  csmsReachable(up: boolean): void {
    if (up) this.csmsDownSinceMs = undefined;
    else this.csmsDownSinceMs ??= this.now();
    this.recompute();
  }

  counters(): SmartChargingCounters {
    const limits = this.o.station.evseIds().map((evseId) => {
      const offer = this.limiters.get(evseId)?.current() ?? this.offerNow(evseId);
      const e = offer.electrical;
      return {
        evseId,
        limitA: offer.limitA,
        offeredA: this.o.station.offeredCurrent(evseId),
        paused: offer.paused,
        binding: offer.binding,
        voltageV: e.voltageV,
        phases: e.phases,
        measured: !e.assumedVoltage && !e.assumedPhases,
      };
    });
    return {
      profilesReceived: this.counts.received,
      profilesIdentical: this.counts.identical,
      profileWrites: this.counts.writes,
      profileBytesWritten: this.counts.bytes,
      profilesCoalesced: Math.max(0, this.counts.changes - this.counts.writes),
      limits,
    };
  }

  /** Writes what is pending (whatever the budget) and stops the timer. */
  shutdown(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.cancelTimer();
    this.policy.shutdown();
  }

  // --- inside -------------------------------------------------------------------------

  /** byCsms: the CSMS spoke for itself, so the restored envelope is lifted. */
  private changed(byCsms: boolean): void {
    this.counts.changes++;
    if (byCsms) this.envelopeA = null;
    const ids = this.o.station.evseIds();
    if (ids.length !== this.evseIds.length) this.evseIds.splice(0, this.evseIds.length, ...ids);
    // The live limit first (the ENABLE goes out), the flash after.
    this.recompute();
    this.policy.changed(this.stack.profiles());
  }

  private transactionEnded(tx: Transaction): void {
    this.pausedHere.delete(tx.evseId);
    this.limiters.delete(tx.evseId);
    if (this.stack.transactionEnded(tx.evseId, tx.localId).length > 0) this.changed(false);
    else this.recompute();
  }

  private measured(evseId: number, m: MeterReading): void {
    // A sync of the wall clock with the CSMS (a board without RTC boots in 1970) moves every
    // boundary: seen at the next meter reading, which comes every second while an EV is plugged in.
    if (Math.abs(this.o.clock.wallMinusMonotonicMs - this.clockBase) > CLOCK_STEP_MS) this.recompute();
    const volts = m.voltageV.filter((v): v is number => v !== null && v > 0);
    if (volts.length === 0) return;
    const voltageV = volts.reduce((a, b) => a + b, 0) / volts.length;
    const phases = volts.length;
    const before = this.electrical.get(evseId);
    const same = before && before.phases === phases && Math.abs((before.voltageV ?? 0) - voltageV) < voltageV * VOLTAGE_HYSTERESIS;
    if (same) return;
    this.electrical.set(evseId, { voltageV, phases });
    this.recompute();
  }

  /** Applies the offer of every EVSE whose offer changed, then arms the one timer. */
  private recompute(): void {
    this.clockBase = this.o.clock.wallMinusMonotonicMs;
    const ids = this.o.station.evseIds();
    if (ids.length !== this.evseIds.length) this.evseIds.splice(0, this.evseIds.length, ...ids);
    for (const evseId of ids) {
      try {
        this.apply(evseId);
      } catch (err) {
        this.o.onError(err, `smart charging on EVSE ${evseId}`);
      }
    }
    this.armTimer();
  }

  private apply(evseId: number): void {
    const { offer, change } = this.limiterOf(evseId).update(this.input(evseId));
    const tx = this.o.station.transaction(evseId);
    if (!tx || change === 'none') return;
    // Someone else suspended this transaction (an energy cap): never resume it from here.
    if (this.o.station.offeredCurrent(evseId) === 0 && !this.pausedHere.has(evseId)) return;
    if (offer.paused) this.pausedHere.add(evseId);
    else this.pausedHere.delete(evseId);
    if (this.o.station.offeredCurrent(evseId) !== offer.currentA) this.o.station.setOffered(evseId, offer.currentA);
  }

  private offerNow(evseId: number): Offer {
    return new CurrentLimiter(this.o.limiter).update(this.input(evseId)).offer;
  }

  private input(evseId: number) {
    const now = this.now();
    const tx = this.txRef(evseId);
    const cable = this.cable.get(evseId);
    const envelope = this.envelopeA;
    return {
      profiles: this.stack.profiles(),
      nowMs: now,
      evseId,
      electrical: this.electricalOf(evseId),
      ...(tx ? { transaction: tx } : {}),
      ...(cable !== undefined && cable > 0 ? { cableRatingA: cable } : {}),
      ...(this.csmsDownSinceMs !== undefined ? { csmsUnreachableSinceMs: this.csmsDownSinceMs } : {}),
      ...(envelope !== null && now < this.envelopeUntilMs ? { envelopeA: envelope } : {}),
    };
  }

  private armTimer(): void {
    const now = this.now();
    let due = Infinity;
    for (const l of this.limiters.values()) {
      const next = l.current()?.nextCheckMs;
      if (next !== null && next !== undefined && next < due) due = next;
    }
    if (this.envelopeA !== null && this.envelopeUntilMs > now && this.envelopeUntilMs < due) due = this.envelopeUntilMs;
    // Boundaries are searched a week ahead: a profile that starts later is looked at again then.
    if (due === Infinity && this.stack.profiles().length > 0) due = now + LOOKAHEAD_MS;
    if (this.timer && this.timer.dueMs === due) return;
    this.cancelTimer();
    if (due === Infinity) return;
    const handle = this.o.clock.setTimeout(() => {
      this.timer = null;
      this.recompute();
    }, Math.max(1, due - now));
    this.timer = { handle, dueMs: due };
  }

  private cancelTimer(): void {
    if (this.timer) this.o.clock.clearTimeout(this.timer.handle);
    this.timer = null;
  }

  private limiterOf(evseId: number): CurrentLimiter {
    let l = this.limiters.get(evseId);
    if (!l) this.limiters.set(evseId, (l = new CurrentLimiter(this.o.limiter)));
    return l;
  }

  private txRef(evseId: number): TransactionRef | undefined {
    const tx = this.o.station.transaction(evseId);
    return tx ? { id: tx.localId, startMs: tx.startedAt.getTime() } : undefined;
  }

  /** This EVSE's measured values, else another's (one supply), else none (230 V assumed and reported). */
  private electricalOf(evseId: number): Electrical {
    return this.electrical.get(evseId) ?? this.electrical.values().next().value ?? {};
  }

  private now(): number {
    return this.o.clock.now().getTime();
  }
}
