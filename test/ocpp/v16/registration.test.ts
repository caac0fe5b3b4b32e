// OCPP 1.6 §4.2 BootNotification registration states on the real agent (FakeClock for the
// retry interval): while Pending the CP sends nothing but BootNotification and what a
// TriggerMessage asks for, and answers the CSMS; while Rejected it sends nothing until the
// interval has passed and answers nothing at all.
import { statusOf } from '../../../src/ocpp/v16/mappers.js';
import { afterEach, describe, expect, it } from 'vitest';
import { parsedFrames, startHarness, type Harness } from '../../helpers/agent-harness.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { waitFor } from '../../helpers/wait.js';

let h: Harness | null = null;
afterEach(async () => {
  await h?.stop();
  h = null;
});

/** Actions of the CALLs the agent has put on the wire so far. */
function sentActions(x: Harness): string[] {
  return parsedFrames(x, 'out')
    .filter((f) => f[0] === 2)
    .map((f) => String(f[2]));
}

async function linkAndStation(x: Harness): Promise<void> {
  await waitFor(() => x.agent.controller.isLinkUp && statusOf(x.agent.station, 1) === 'Available', 10_000, 'controller link');
}

describe('BootNotification Pending (OCPP 1.6 §4.2)', () => {
  it('sends only BootNotification and triggered messages, answers the CSMS, then registers at the interval', async () => {
    const clock = new FakeClock();
    h = await startHarness({ clock, waitReady: false, csms: { bootStatus: 'Pending', heartbeatIntervalS: 30 } });
    await waitFor(() => h!.agent.session.registrationStatus === 'Pending', 10_000, 'Pending');
    await linkAndStation(h);
    h.sim.plugIn(1);
    await waitFor(() => statusOf(h!.agent.station, 1) === 'Preparing', 8_000, 'Preparing');
    await h.agent.session.heartbeat(); // an unprompted heartbeat is not allowed: nothing goes out
    expect(sentActions(h)).toEqual(['BootNotification']);

    // The CSMS may configure the charger meanwhile; the charger answers.
    const conf = await h.call('GetConfiguration', { key: ['HeartbeatInterval'] });
    expect(conf.configurationKey).toEqual([{ key: 'HeartbeatInterval', readonly: false, value: '86400' }]);
    expect(await h.call('ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '15' })).toEqual({ status: 'Accepted' });

    // Messages the CSMS asks for are sent.
    const m = h.mark();
    expect(await h.call('TriggerMessage', { requestedMessage: 'Heartbeat' })).toEqual({ status: 'Accepted' });
    await h.waitCalls(m, 'Heartbeat');
    expect(await h.call('TriggerMessage', { requestedMessage: 'StatusNotification', connectorId: 1 })).toEqual({ status: 'Accepted' });
    await h.waitStatus(1, 'Preparing');
    expect(sentActions(h)).toEqual(['BootNotification', 'Heartbeat', 'StatusNotification']);

    // The next BootNotification comes at the interval (30 s), not before.
    h.csms.setBootStatus('Accepted');
    clock.advance(29_999);
    expect(sentActions(h).filter((a) => a === 'BootNotification')).toHaveLength(1);
    clock.advance(1);
    await waitFor(() => h!.agent.session.registrationStatus === 'Accepted', 8_000, 'Accepted');
    await h.waitStatus(0, 'Available');
    expect(h.statusesSince(0, 1).at(-1)).toBe('Preparing');
    // Accepted: the interval of this answer is the heartbeat interval.
    expect(h.agent.config.get('HeartbeatInterval')).toBe('30');
  });

  it('a TriggerMessage(BootNotification) while Pending registers at once', async () => {
    const clock = new FakeClock();
    h = await startHarness({ clock, waitReady: false, csms: { bootStatus: 'Pending', heartbeatIntervalS: 300 } });
    await waitFor(() => h!.agent.session.registrationStatus === 'Pending', 10_000, 'Pending');
    h.csms.setBootStatus('Accepted');
    expect(await h.call('TriggerMessage', { requestedMessage: 'BootNotification' })).toEqual({ status: 'Accepted' });
    await waitFor(() => h!.agent.session.registrationStatus === 'Accepted', 8_000, 'Accepted');
    expect(h.csms.callsOf('BootNotification')).toHaveLength(2);
  });
});

describe('BootNotification Rejected (OCPP 1.6 §4.2)', () => {
  it('sends nothing until the interval, answers no CSMS request, then boots again', async () => {
    const clock = new FakeClock();
    h = await startHarness({ clock, waitReady: false, csms: { bootStatus: 'Rejected', heartbeatIntervalS: 60 } });
    await waitFor(() => h!.agent.session.registrationStatus === 'Rejected', 10_000, 'Rejected');
    await linkAndStation(h);
    h.sim.plugIn(1);
    await waitFor(() => statusOf(h!.agent.station, 1) === 'Preparing', 8_000, 'Preparing');

    // Valid, unknown and malformed requests alike get no answer.
    h.csms.sendRaw(h.cpId, '[2,"rej-1","GetConfiguration",{}]');
    h.csms.sendRaw(h.cpId, '[2,"rej-2","NoSuchAction",{}]');
    h.csms.sendRaw(h.cpId, '[2,"rej-3","Reset",{"type":"Sideways"}]');
    await waitFor(() => h!.logs.filter((l) => /registration Rejected/.test(l.msg ?? '')).length === 3, 8_000, 'requests ignored');
    expect(h.frames.filter((f) => f.direction === 'out' && /"rej-/.test(f.text))).toEqual([]);
    expect(sentActions(h)).toEqual(['BootNotification']);

    h.csms.setBootStatus('Accepted');
    clock.advance(59_999);
    expect(sentActions(h)).toEqual(['BootNotification']);
    clock.advance(1);
    expect(sentActions(h)).toEqual(['BootNotification', 'BootNotification']);
    await waitFor(() => h!.agent.session.registrationStatus === 'Accepted', 8_000, 'Accepted');
    await h.waitStatus(1, 'Preparing');
    // Accepted now: requests are answered again.
    const conf = await h.call('GetConfiguration', { key: ['NumberOfConnectors'] });
    expect(conf.configurationKey).toEqual([{ key: 'NumberOfConnectors', readonly: true, value: '1' }]);
    expect(h.frames.filter((f) => f.direction === 'out' && /"rej-/.test(f.text))).toEqual([]);
  });

  it('a reconnect does not cut the interval short: still silent, next BootNotification at the interval', async () => {
    const clock = new FakeClock();
    h = await startHarness({ clock, waitReady: false, csms: { bootStatus: 'Rejected', heartbeatIntervalS: 600 } });
    await waitFor(() => h!.agent.session.registrationStatus === 'Rejected', 10_000, 'Rejected');
    clock.advance(100_000);
    // The CSMS frees its resources by closing the refused charger's connection; the charger comes back.
    await h.csms.disconnect(h.cpId);
    await waitFor(() => !h!.agent.csms.isConnected, 8_000, 'disconnected');
    await waitFor(() => h!.agent.csms.isConnected && h!.csms.isConnected(h!.cpId), 10_000, 'reconnected');
    expect(sentActions(h)).toEqual(['BootNotification']);
    expect(h.agent.session.registrationStatus).toBe('Rejected');
    h.csms.sendRaw(h.cpId, '[2,"rej-9","GetConfiguration",{}]');
    await waitFor(() => h!.logs.some((l) => /registration Rejected/.test(l.msg ?? '')), 8_000, 'request ignored');

    h.csms.setBootStatus('Accepted');
    clock.advance(499_999);
    expect(sentActions(h)).toEqual(['BootNotification']);
    clock.advance(1);
    expect(sentActions(h)).toEqual(['BootNotification', 'BootNotification']);
    await waitFor(() => h!.agent.session.registrationStatus === 'Accepted', 8_000, 'Accepted');
  });
});
