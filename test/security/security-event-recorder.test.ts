// The SecurityEventSink over a real SQLite security log and the FakeClock: every event is logged,
// only the whitepaper's critical ones are forwarded, with their own time; repeats of a type are
// forwarded once per window (the rest logged, counted in the next one); early events wait for the
// forwarder; a failing store never throws at the reporter.
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { SecurityEventRecorder, type ForwardedSecurityEvent } from '../../src/security/security-event-recorder.js';
import { CRITICAL_SECURITY_EVENTS, SECURITY_EVENT_TYPES } from '../../src/security/security-events.js';
import { SqliteSecurityLog } from '../../src/store/security-log-repo.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { TempDatabases } from '../helpers/temp-agent-db.js';

const dbs = new TempDatabases();
afterEach(() => dbs.cleanup());
const silent = pino({ level: 'silent' });

function rig() {
  const clock = new FakeClock({ systemTime: Date.UTC(2026, 11, 4, 12) });
  const log = new SqliteSecurityLog(dbs.open().db);
  const forwarded: ForwardedSecurityEvent[] = [];
  const recorder = new SecurityEventRecorder(log, clock, silent);
  return { clock, log, forwarded, recorder, attach: () => recorder.forwardTo({ forward: (e) => forwarded.push(e) }) };
}

describe('SecurityEventRecorder', () => {
  it('the critical events are the whitepaper seven', () => {
    expect([...CRITICAL_SECURITY_EVENTS].sort()).toEqual(
      ['FirmwareUpdated', 'MemoryExhaustion', 'ResetOrReboot', 'SecurityLogWasCleared', 'SettingSystemTime', 'StartupOfTheDevice', 'TamperDetectionActivated'].sort(),
    );
    expect(SECURITY_EVENT_TYPES).toHaveLength(18);
  });

  it('logs every event, forwards only the critical ones with the time they happened', () => {
    const r = rig();
    r.attach();
    r.recorder.report('InvalidChargePointCertificate', 'chain does not verify');
    const at = r.clock.now();
    r.recorder.report('ResetOrReboot', 'Soft reset');
    expect(r.log.entries().map((e) => e.type)).toEqual(['InvalidChargePointCertificate', 'ResetOrReboot']);
    expect(r.forwarded).toEqual([{ type: 'ResetOrReboot', at, techInfo: 'Soft reset' }]);
  });

  it('forwards a type at most once a minute; at the end of the window the last one held back follows, with the count', () => {
    const r = rig();
    r.attach();
    const times: Date[] = [];
    for (let i = 0; i < 5; i++) {
      times.push(r.clock.now());
      r.recorder.report('SettingSystemTime', `#${i}`);
      r.clock.advance(1_000);
    }
    expect(r.forwarded.map((e) => e.techInfo)).toEqual(['#0']);
    r.recorder.report('StartupOfTheDevice'); // another type has its own window
    expect(r.forwarded).toHaveLength(2);
    r.clock.advance(54_999);
    expect(r.forwarded).toHaveLength(2);
    r.clock.advance(1); // the window of #0 ends: #4 goes, with its own time, counting #1..#3
    expect(r.forwarded.at(-1)).toEqual({ type: 'SettingSystemTime', at: times[4], techInfo: '#4 (3 more since the last report)' });
    // The flush opened the next window: #5 waits for its end, then goes alone.
    r.clock.advance(1_000);
    r.recorder.report('SettingSystemTime', '#5');
    expect(r.forwarded).toHaveLength(3);
    r.clock.advance(60_000);
    expect(r.forwarded.at(-1)!.techInfo).toBe('#5');
    expect(r.log.entries().filter((e) => e.type === 'SettingSystemTime')).toHaveLength(6);
    expect(r.recorder.stats.heldBack).toBe(5);
    // Nothing held back: the window just ends.
    r.clock.advance(120_000);
    expect(r.forwarded).toHaveLength(4);
  });

  it('stop() cancels a pending end-of-window send', () => {
    const r = rig();
    r.attach();
    r.recorder.report('ResetOrReboot', 'a');
    r.recorder.report('ResetOrReboot', 'b');
    r.recorder.stop();
    r.clock.advance(120_000);
    expect(r.forwarded.map((e) => e.techInfo)).toEqual(['a']);
  });

  it('coalesces InvalidMessages in the log too (a CSMS can send them at will)', () => {
    const r = rig();
    for (let i = 0; i < 100; i++) r.recorder.report('InvalidMessages', 'FormationViolation');
    expect(r.log.entries()).toHaveLength(1);
    r.clock.advance(61_000);
    r.recorder.report('InvalidMessages', 'FormationViolation');
    expect(r.log.entries().at(-1)!.techInfo).toBe('FormationViolation (99 more since the last report)');
  });

  it("with notifyEvents 'all': every event is forwarded, the early ones too, each type still once a window", () => {
    const r = rig();
    r.recorder.report('InvalidCentralSystemCertificate', 'early, before the outbox');
    r.recorder.forwardTo({ forward: (e) => r.forwarded.push(e) }, 'all');
    r.recorder.report('InvalidTLSVersion', 'TLSv1.1 only');
    r.recorder.report('InvalidTLSVersion', 'again');
    r.recorder.report('ResetOrReboot');
    expect(r.forwarded.map((e) => e.type)).toEqual(['InvalidCentralSystemCertificate', 'InvalidTLSVersion', 'ResetOrReboot']);
    expect(r.log.entries()).toHaveLength(4);
  });

  it("with 'critical': an early non-critical event stays in the log only", () => {
    const r = rig();
    r.recorder.report('InvalidCentralSystemCertificate');
    r.recorder.report('StartupOfTheDevice');
    r.attach();
    expect(r.forwarded.map((e) => e.type)).toEqual(['StartupOfTheDevice']);
    expect(r.log.entries().map((e) => e.type)).toEqual(['InvalidCentralSystemCertificate', 'StartupOfTheDevice']);
  });

  it('holds events reported before the forwarder exists and sends them in order once attached', () => {
    const r = rig();
    r.recorder.report('StartupOfTheDevice');
    r.recorder.report('SecurityLogWasCleared');
    expect(r.forwarded).toEqual([]);
    r.attach();
    expect(r.forwarded.map((e) => e.type)).toEqual(['StartupOfTheDevice', 'SecurityLogWasCleared']);
  });

  it('clearing the log leaves one entry, SecurityLogWasCleared, which is forwarded', () => {
    const r = rig();
    r.attach();
    for (let i = 0; i < 3; i++) r.recorder.report('InvalidCentralSystemCertificate');
    expect(r.recorder.clearLog('requested by the operator')).toBe(3);
    expect(r.log.entries().map((e) => [e.type, e.techInfo])).toEqual([['SecurityLogWasCleared', '3 entries removed: requested by the operator']]);
    expect(r.forwarded.map((e) => e.type)).toEqual(['SecurityLogWasCleared']);
  });

  it('cuts techInfo at 255 characters and never throws when the store or the outbox fails', () => {
    const r = rig();
    r.recorder.forwardTo({
      forward: () => {
        throw new Error('disk full');
      },
    });
    r.recorder.report('StartupOfTheDevice', 'x'.repeat(400));
    expect(r.log.entries()[0]!.techInfo).toHaveLength(255);
    expect(r.recorder.stats.failures).toBe(1);
    const broken = new SecurityEventRecorder({ append: () => { throw new Error('I/O error'); }, clear: () => 0 }, r.clock, silent);
    expect(() => broken.report('ResetOrReboot')).not.toThrow();
    expect(broken.stats.failures).toBe(1);
  });
});
