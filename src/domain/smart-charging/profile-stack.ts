// The installed charging profiles and their install/clear rules (OCPP 1.6 §3.13.2, §5.5
// ClearChargingProfile, §5.16 SetChargingProfile; 2.0.1 K01/K10):
//  - a profile replaces the installed one with the same id, and the one with the same
//    purpose, stack level and target (station or EVSE);
//  - a Tx profile is accepted only while a transaction runs on its EVSE (and, when it names
//    one, that transaction); it goes when the transaction ends;
//  - the station's limits (ChargeProfileMaxStackLevel, ChargingScheduleMaxPeriods,
//    MaxChargingProfilesInstalled, ChargingScheduleAllowedChargingRateUnit) reject with a reason;
//  - a profile whose content equals the one it would replace is reported identical, so the
//    caller writes nothing.
import { normalizeProfile, profileKey, profileProblem, type ChargingProfile, type ProfilePurpose, type RateUnit } from './profile.js';

export interface StackLimits {
  maxStackLevel: number;
  maxPeriods: number;
  maxInstalled: number;
  allowedUnits: readonly RateUnit[];
}

export type RejectReason = 'Invalid' | 'StackLevelTooHigh' | 'TooManyPeriods' | 'TooManyProfiles' | 'UnitNotAllowed' | 'NoTransaction' | 'WrongTransaction';

export type InstallResult =
  | { status: 'Accepted'; profile: ChargingProfile; replaced: ChargingProfile[]; identical: boolean }
  | { status: 'Rejected'; reason: RejectReason; detail: string };

export interface InstallContext {
  /** When the profile arrived (fixes the start of an Absolute profile without startSchedule). */
  nowMs: number;
  /** The transaction running on an EVSE, if any. */
  transactionOn(evseId: number): string | undefined;
}

/** Absent fields match anything; an id clears that profile only. */
export interface ClearCriteria {
  id?: number;
  evseId?: number;
  purpose?: ProfilePurpose;
  stackLevel?: number;
}

interface Entry {
  profile: ChargingProfile;
  /** The content as received (before normalization), for the identical check. */
  receivedKey: string;
}

export class ProfileStack {
  private entries: Entry[] = [];

  /** limits is read at each install: the configuration may change meanwhile. */
  constructor(private readonly limits: () => StackLimits) {}

  /** Restores profiles persisted earlier (already accepted then; kept as they were). */
  load(profiles: readonly ChargingProfile[]): void {
    this.entries = profiles.filter((p) => profileProblem(p) === null).map((p) => ({ profile: p, receivedKey: profileKey(p) }));
  }

  profiles(): readonly ChargingProfile[] {
    return this.entries.map((e) => e.profile);
  }

  /** The installed profiles the new one would replace. */
  private replacedBy(p: ChargingProfile): Entry[] {
    return this.entries.filter(
      (e) => e.profile.id === p.id || (e.profile.purpose === p.purpose && e.profile.stackLevel === p.stackLevel && e.profile.evseId === p.evseId),
    );
  }

  /** True when installing p would change nothing (same content as what it replaces, id included). */
  isIdentical(p: ChargingProfile): boolean {
    const replaced = this.replacedBy(p);
    return replaced.length === 1 && (replaced[0] as Entry).receivedKey === profileKey(p);
  }

  install(p: ChargingProfile, ctx: InstallContext): InstallResult {
    const problem = profileProblem(p);
    if (problem) return reject('Invalid', problem);
    const lim = this.limits();
    if (p.stackLevel > lim.maxStackLevel) return reject('StackLevelTooHigh', `stack level ${p.stackLevel} > ${lim.maxStackLevel}`);
    if (p.schedule.periods.length > lim.maxPeriods) return reject('TooManyPeriods', `${p.schedule.periods.length} periods > ${lim.maxPeriods}`);
    if (!lim.allowedUnits.includes(p.schedule.unit)) return reject('UnitNotAllowed', `unit ${p.schedule.unit} not in ${lim.allowedUnits.join(',')}`);
    if (p.purpose === 'Tx') {
      const tx = ctx.transactionOn(p.evseId);
      if (tx === undefined) return reject('NoTransaction', `no transaction on EVSE ${p.evseId}`);
      if (p.transactionId !== undefined && p.transactionId !== tx) return reject('WrongTransaction', `transaction ${p.transactionId} is not the one on EVSE ${p.evseId}`);
    }
    const replaced = this.replacedBy(p);
    if (replaced.length === 1 && (replaced[0] as Entry).receivedKey === profileKey(p)) {
      return { status: 'Accepted', profile: (replaced[0] as Entry).profile, replaced: [], identical: true };
    }
    if (this.entries.length - replaced.length + 1 > lim.maxInstalled) return reject('TooManyProfiles', `already ${this.entries.length} profiles installed (max ${lim.maxInstalled})`);
    const profile = normalizeProfile(p, ctx.nowMs);
    this.entries = this.entries.filter((e) => !replaced.includes(e));
    this.entries.push({ profile, receivedKey: profileKey(p) });
    return { status: 'Accepted', profile, replaced: replaced.map((e) => e.profile), identical: false };
  }

  /** Removes the matching profiles; an empty result means nothing matched (1.6: Unknown). */
  clear(c: ClearCriteria): ChargingProfile[] {
    const match = (p: ChargingProfile) =>
      c.id !== undefined
        ? p.id === c.id
        : (c.evseId === undefined || p.evseId === c.evseId) && (c.purpose === undefined || p.purpose === c.purpose) && (c.stackLevel === undefined || p.stackLevel === c.stackLevel);
    return this.remove(match);
  }

  /** A transaction ended: its Tx profiles go (1.6 §3.13.1 TxProfile). */
  transactionEnded(evseId: number, transactionId: string): ChargingProfile[] {
    return this.remove((p) => p.purpose === 'Tx' && p.evseId === evseId && (p.transactionId === undefined || p.transactionId === transactionId));
  }

  private remove(match: (p: ChargingProfile) => boolean): ChargingProfile[] {
    const gone = this.entries.filter((e) => match(e.profile));
    if (gone.length > 0) this.entries = this.entries.filter((e) => !gone.includes(e));
    return gone.map((e) => e.profile);
  }
}

function reject(reason: RejectReason, detail: string): InstallResult {
  return { status: 'Rejected', reason, detail };
}
