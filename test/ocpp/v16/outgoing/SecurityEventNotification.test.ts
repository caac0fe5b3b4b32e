// Security whitepaper SecurityEventNotification against the real agent and the strict DevCsms:
// StartupOfTheDevice once per start; ResetOrReboot on an accepted Reset; SettingSystemTime when
// the CSMS time moves the clock, and what was stamped before it (log and notification) corrected; events of an outage arrive afterwards, in order with the
// transaction messages, with the time they happened; non-critical events (InvalidMessages,
// ReconfigurationOfSecurityParameters) only reach the security log.
import { describe, expect, it } from 'vitest';
import { startCharging, useAgentFixture } from '../../../helpers/action-fixture.js';
import type { Harness } from '../../../helpers/agent-harness.js';
import { FakeClock } from '../../../helpers/fake-clock.js';
import { waitFor } from '../../../helpers/wait.js';
import { securityEventNotificationRequest } from '../../../../src/ocpp/v16/outgoing/SecurityEventNotification.js';

const fx = useAgentFixture();

const eventsOf = (h: Harness, since = 0) => h.csms.received.slice(since).filter((c) => c.action === 'SecurityEventNotification').map((c) => c.params);
const logged = (h: Harness) => h.agent.security.log.entries().map((e) => e.type);

describe('SecurityEventNotification (security whitepaper)', () => {
  it('StartupOfTheDevice once per start, schema-valid for the strict CSMS', async () => {
    const h = await fx.start();
    await waitFor(() => eventsOf(h).length === 1, 10_000, 'StartupOfTheDevice');
    expect(eventsOf(h)[0]).toMatchObject({ type: 'StartupOfTheDevice' });
    await h.restart();
    await waitFor(() => eventsOf(h).length === 2, 10_000, 'StartupOfTheDevice after the restart');
    expect(eventsOf(h).map((e) => e.type)).toEqual(['StartupOfTheDevice', 'StartupOfTheDevice']);
    expect(h.csms.strictFailures).toEqual([]);
  });

  it('after an outage: the events arrive in order with the StopTransaction between them, stamped when they happened', async () => {
    const h = await fx.start();
    await waitFor(() => eventsOf(h).length === 1, 10_000, 'StartupOfTheDevice');
    await startCharging(h);
    await h.csms.stop();
    await waitFor(() => !h.agent.csms.isConnected, 10_000, 'agent offline');
    h.agent.security.events.clearLog('test'); // SecurityLogWasCleared: critical
    const localId = h.agent.station.transaction(1)!.localId;
    h.sim.unplug(1);
    await waitFor(() => h.agent.transactionStore.transaction(localId)?.stoppedAt !== undefined, 10_000, 'StopTransaction queued offline');
    h.agent.security.events.report('TamperDetectionActivated', 'enclosure opened');
    const happened = h.agent.security.log.entries().map((e) => e.atMs);
    const m = h.mark();
    await h.csms.start();
    await h.waitCalls(m, 'SecurityEventNotification', 2);
    await h.waitCalls(m, 'StopTransaction');
    const queued = new Set(['SecurityEventNotification', 'StartTransaction', 'StopTransaction']);
    const order = h.csms.received.slice(m).filter((c) => queued.has(c.action)).map((c) => (c.action === 'SecurityEventNotification' ? String(c.params.type) : c.action));
    expect(order).toEqual(['SecurityLogWasCleared', 'StopTransaction', 'TamperDetectionActivated']);
    const stamps = eventsOf(h, m).map((e) => Date.parse(String(e.timestamp)));
    expect(stamps).toEqual(happened);
    expect(eventsOf(h, m)[1]).toMatchObject({ techInfo: 'enclosure opened' });
    expect(h.csms.strictFailures).toEqual([]);
  });

  it('ResetOrReboot when a Reset is accepted, delivered before the restart', async () => {
    const seen: number[] = [];
    const x: { h: Harness | null } = { h: null };
    x.h = await fx.start({ onResetRequested: () => seen.push(eventsOf(x.h!).filter((e) => e.type === 'ResetOrReboot').length) });
    const h = x.h;
    expect(await h.call('Reset', { type: 'Soft' })).toEqual({ status: 'Accepted' });
    await waitFor(() => seen.length === 1, 10_000, 'restart request');
    expect(seen).toEqual([1]);
    expect(eventsOf(h).find((e) => e.type === 'ResetOrReboot')).toMatchObject({ techInfo: 'Soft reset requested by the CSMS' });
  });

  it('SettingSystemTime when the BootNotification time moves the clock', async () => {
    // The board's clock reads 2025-01-01; the CSMS says otherwise.
    const h = await fx.start({ clock: new FakeClock() });
    await waitFor(() => eventsOf(h).some((e) => e.type === 'SettingSystemTime'), 10_000, 'SettingSystemTime');
    const e = eventsOf(h).find((x) => x.type === 'SettingSystemTime')!;
    expect(String(e.techInfo)).toMatch(/^set from the CSMS time, moved by \d+\.\d s$/);
    expect(Date.parse(String(e.timestamp))).toBeGreaterThan(Date.UTC(2026, 0, 1));
    // StartupOfTheDevice was stamped before the sync, at the board's 2025: its notification and
    // its security-log entry were both corrected, to the same moment.
    const startup = h.agent.security.log.entries().find((x) => x.type === 'StartupOfTheDevice')!;
    const sent = eventsOf(h).find((x) => x.type === 'StartupOfTheDevice')!;
    expect(startup.atMs).toBeGreaterThan(Date.UTC(2026, 0, 1));
    expect(Date.parse(String(sent.timestamp))).toBe(startup.atMs);
  });

  it("with notifyEvents 'critical': InvalidMessages and ReconfigurationOfSecurityParameters go to the security log only", async () => {
    const h = await fx.start({ agentConfig: (cfg) => ({ ...cfg, security: { ...cfg.security, notifyEvents: 'critical' } }) });
    await waitFor(() => eventsOf(h).length === 1, 10_000, 'StartupOfTheDevice');
    h.csms.sendRaw(h.cpId, '[2,"bad-1","Reset",{"type":"Sideways"}]');
    await waitFor(() => logged(h).includes('InvalidMessages'), 10_000, 'InvalidMessages logged');
    expect(await h.call('ChangeConfiguration', { key: 'CpoName', value: 'Example CPO' })).toEqual({ status: 'Accepted' });
    await waitFor(() => logged(h).includes('ReconfigurationOfSecurityParameters'), 10_000, 'reconfiguration logged');
    const entry = h.agent.security.log.entries().find((e) => e.type === 'ReconfigurationOfSecurityParameters')!;
    expect(entry.techInfo).toBe('CpoName changed');
    // Queued for the CSMS synchronously when reported: only StartupOfTheDevice ever was.
    expect(h.agent.security.events.stats.forwarded).toBe(1);
    expect(eventsOf(h).map((e) => e.type)).toEqual(['StartupOfTheDevice']);
  });

  it("by default (notifyEvents 'all'): InvalidMessages and ReconfigurationOfSecurityParameters reach the CSMS too", async () => {
    const h = await fx.start();
    await waitFor(() => eventsOf(h).length === 1, 10_000, 'StartupOfTheDevice');
    h.csms.sendRaw(h.cpId, '[2,"bad-1","Reset",{"type":"Sideways"}]');
    expect(await h.call('ChangeConfiguration', { key: 'CpoName', value: 'Example CPO' })).toEqual({ status: 'Accepted' });
    await waitFor(() => eventsOf(h).length === 3, 10_000, 'three notifications');
    expect(eventsOf(h).map((e) => e.type)).toEqual(['StartupOfTheDevice', 'InvalidMessages', 'ReconfigurationOfSecurityParameters']);
    expect(eventsOf(h)[2]).toMatchObject({ techInfo: 'CpoName changed' });
    expect(h.csms.strictFailures).toEqual([]);
  });

  it('builds the request from an event (techInfo only when there is one)', () => {
    const at = new Date('2026-12-04T10:00:00Z');
    expect(securityEventNotificationRequest({ type: 'ResetOrReboot', at })).toEqual({ type: 'ResetOrReboot', timestamp: '2026-12-04T10:00:00.000Z' });
    expect(securityEventNotificationRequest({ type: 'ResetOrReboot', at, techInfo: 'x' }).techInfo).toBe('x');
  });
});
