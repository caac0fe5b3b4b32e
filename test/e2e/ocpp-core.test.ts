// OCPP 1.6J Core profile end to end: the real agent (simulated controller on a pty) against the
// DevCsms (ocpp-rpc strict mode, an independent schema check): every Core message both ways,
// both session orders and ConnectionTimeOut (§4.8), every stop reason we can produce (§7.45),
// idTag rules (§3.5), invalid frames (OCPP-J §4.2.3), a reconnect mid-session, Heartbeat
// interval (§4.6) and per-phase sampled MeterValues (§4.7).
import { statusOf } from '../../src/ocpp/v16/mappers.js';
import { isOperative16 } from '../helpers/domain-terms.js';
import { describe, expect, it } from 'vitest';
import { parsedFrames, type Harness } from '../helpers/agent-harness.js';
import { startCharging, useAgentFixture } from '../helpers/action-fixture.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { INCOMING_ACTIONS } from '../../src/ocpp/v16/actions/index.js';
import { waitFor } from '../helpers/wait.js';

/** Valid requests of actions from other feature profiles, for the NotSupported case. */

const CARD = '04A2B3C4';
const CARD2 = '04A2B3C5';
const STRANGER = '0A0B0C0D';

const fx = useAgentFixture();

/** The agent's answer (CALLRESULT or CALLERROR) to a CALL id. */
async function answerTo(x: Harness, id: string): Promise<unknown[]> {
  const find = (): unknown[] | undefined => parsedFrames(x, 'out').find((f) => f[1] === id && (f[0] === 3 || f[0] === 4));
  await waitFor(() => find() !== undefined, 8_000, `answer to ${id}`);
  return find()!;
}

function stopParams(x: Harness, i = 0): Record<string, unknown> {
  return x.csms.callsOf('StopTransaction')[i]!.params;
}

describe('every Core message, both ways, passes the CSMS schema check', () => {
  it('CP -> CSMS: Boot, Status, Authorize, Start, MeterValues, Heartbeat, DataTransfer, Stop', async () => {
    const clock = new FakeClock();
    const x = await fx.start({ clock, ocppConfig: { MeterValueSampleInterval: '10', StopTxnSampledData: 'Energy.Active.Import.Register' } });
    await startCharging(x, 1, CARD);
    await waitFor(() => (x.agent.station.lastMeter(1)?.powerW ?? 0) > 0, 8_000, 'power flowing');
    const m = x.mark();
    clock.advance(10_000);
    await x.waitCalls(m, 'MeterValues');
    await x.agent.session.heartbeat();
    await x.agent.csms.rpc.call('DataTransfer', { vendorId: 'com.acme' });
    x.sim.swipeCard(CARD);
    const [stop] = await x.waitCalls(m, 'StopTransaction');
    expect(stop!.params).toMatchObject({ transactionId: 1, idTag: CARD, reason: 'Local' });
    const data = stop!.params.transactionData as Array<{ sampledValue: Array<{ context: string }> }>;
    expect(data.map((d) => d.sampledValue[0]!.context)).toEqual(['Transaction.Begin', 'Sample.Periodic', 'Transaction.End']);
    const actions = new Set(x.csms.received.map((c) => c.action));
    for (const a of ['BootNotification', 'StatusNotification', 'Authorize', 'StartTransaction', 'MeterValues', 'Heartbeat', 'DataTransfer', 'StopTransaction']) {
      expect(actions, a).toContain(a);
    }
    expect(x.csms.strictFailures).toEqual([]);
  });

  it('CSMS -> CP: every Core request gets a schema-valid answer', async () => {
    const x = await fx.start();
    expect(await x.call('GetConfiguration', { key: ['HeartbeatInterval'] })).toMatchObject({ configurationKey: [{ key: 'HeartbeatInterval' }] });
    expect(await x.call('ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '30' })).toEqual({ status: 'Accepted' });
    expect(await x.call('DataTransfer', { vendorId: 'com.other' })).toEqual({ status: 'UnknownVendorId' });
    expect(await x.call('ChangeAvailability', { connectorId: 1, type: 'Operative' })).toEqual({ status: 'Accepted' });
    expect(await x.call('UnlockConnector', { connectorId: 1 })).toEqual({ status: 'Unlocked' });
    x.sim.plugIn(1);
    expect(await x.call('RemoteStartTransaction', { idTag: 'REMOTE', connectorId: 1 })).toEqual({ status: 'Accepted' });
    await x.waitCalls(0, 'StartTransaction');
    expect(await x.call('RemoteStopTransaction', { transactionId: 1 })).toEqual({ status: 'Accepted' });
    expect(await x.call('TriggerMessage', { requestedMessage: 'Heartbeat' })).toEqual({ status: 'Accepted' });
    expect(await x.call('Reset', { type: 'Soft' })).toEqual({ status: 'Accepted' });
    expect(x.csms.strictFailures).toEqual([]);
  });
});

describe('session orders (OCPP 1.6 §4.8, ConnectionTimeOut)', () => {
  it('plug first, then card: Preparing, Authorize, StartTransaction, Charging', async () => {
    const x = await fx.start();
    const m = x.mark();
    x.sim.plugIn(1);
    await x.waitStatus(1, 'Preparing');
    expect(x.sim.state(1).enabled).toBe(false); // nobody authorized yet: the controller offers nothing
    x.sim.swipeCard(CARD);
    const [start0] = await x.waitCalls(m, 'StartTransaction');
    expect(start0!.params).toMatchObject({ connectorId: 1, idTag: CARD });
    expect(x.callsSince(m, 'Authorize').map((c) => c.params.idTag)).toEqual([CARD]);
    x.sim.evRequestEnergy(1);
    await x.waitStatus(1, 'Charging');
    expect(x.sim.state(1).enabled).toBe(true);
    // Started in state B (SuspendedEV) until the EV draws current.
    expect(x.statusesSince(m, 1)).toEqual(['Preparing', 'SuspendedEV', 'Charging']);
  });

  it('card first, then plug: Preparing while waiting, StartTransaction on plug-in', async () => {
    const x = await fx.start();
    const m = x.mark();
    x.sim.swipeCard(CARD);
    await x.waitCalls(m, 'Authorize');
    await x.waitStatus(1, 'Preparing');
    expect(x.callsSince(m, 'StartTransaction')).toEqual([]);
    x.sim.plugIn(1);
    const [s] = await x.waitCalls(m, 'StartTransaction');
    expect(s!.params).toMatchObject({ connectorId: 1, idTag: CARD });
    x.sim.evRequestEnergy(1);
    await x.waitStatus(1, 'Charging');
  });

  it('card first and no plug-in within ConnectionTimeOut: back to Available, a later plug-in starts nothing', async () => {
    const clock = new FakeClock();
    const x = await fx.start({ clock, ocppConfig: { ConnectionTimeOut: '30' } });
    const m = x.mark();
    x.sim.swipeCard(CARD);
    await x.waitStatus(1, 'Preparing');
    clock.advance(29_000);
    expect(statusOf(x.agent.station, 1)).toBe('Preparing');
    clock.advance(1_000);
    await x.waitStatus(1, 'Available');
    x.sim.plugIn(1);
    await x.waitStatus(1, 'Preparing');
    await x.agent.session.heartbeat();
    await x.waitCalls(m, 'Heartbeat');
    expect(x.callsSince(m, 'StartTransaction')).toEqual([]);
    expect(x.agent.station.transaction(1)).toBeNull();
  });

  it('a refused card starts nothing', async () => {
    const x = await fx.start({ csms: { rejectedTags: [CARD] } });
    const m = x.mark();
    x.sim.plugIn(1);
    x.sim.swipeCard(CARD);
    await x.waitCalls(m, 'Authorize');
    await x.agent.session.heartbeat();
    await x.waitCalls(m, 'Heartbeat');
    expect(x.callsSince(m, 'StartTransaction')).toEqual([]);
    expect(statusOf(x.agent.station, 1)).toBe('Preparing');
  });
});

describe('stop reasons (OCPP 1.6 §7.45)', () => {
  it('Local: the same card again', async () => {
    const x = await fx.start();
    await startCharging(x, 1, CARD);
    x.sim.swipeCard(CARD);
    await x.waitCalls(0, 'StopTransaction');
    expect(stopParams(x)).toMatchObject({ transactionId: 1, idTag: CARD, reason: 'Local' });
    await x.waitStatus(1, 'Finishing');
  });

  it('EVDisconnected: the cable is pulled (StopTransactionOnEVSideDisconnect=true)', async () => {
    const x = await fx.start();
    await startCharging(x, 1, CARD);
    x.sim.evPause(1);
    x.sim.unplug(1);
    await x.waitCalls(0, 'StopTransaction');
    expect(stopParams(x)).toMatchObject({ transactionId: 1, reason: 'EVDisconnected' });
    expect(stopParams(x).idTag).toBeUndefined();
    await x.waitStatus(1, 'Available');
  });

  it('StopTransactionOnEVSideDisconnect=false: pulling the cable does not stop; the card does (Local)', async () => {
    const x = await fx.start({ ocppConfig: { StopTransactionOnEVSideDisconnect: 'false' } });
    await startCharging(x, 1, CARD);
    x.sim.unplug(1);
    await waitFor(() => statusOf(x.agent.station, 1) !== 'Charging', 8_000, 'not charging');
    expect(x.agent.station.transaction(1)).not.toBeNull();
    x.sim.swipeCard(CARD);
    await x.waitCalls(0, 'StopTransaction');
    expect(stopParams(x)).toMatchObject({ reason: 'Local', idTag: CARD });
  });

  it('Remote: RemoteStopTransaction', async () => {
    const x = await fx.start();
    await startCharging(x, 1, CARD);
    expect(await x.call('RemoteStopTransaction', { transactionId: 1 })).toEqual({ status: 'Accepted' });
    await x.waitCalls(0, 'StopTransaction');
    expect(stopParams(x)).toMatchObject({ transactionId: 1, reason: 'Remote' });
  });

  for (const type of ['Soft', 'Hard'] as const) {
    it(`${type}Reset: Reset ${type}`, async () => {
      const x = await fx.start();
      await startCharging(x, 1, CARD);
      expect(await x.call('Reset', { type })).toEqual({ status: 'Accepted' });
      await x.waitCalls(0, 'StopTransaction');
      expect(stopParams(x)).toMatchObject({ transactionId: 1, reason: `${type}Reset` });
    });
  }

  it('DeAuthorized: StartTransaction answered Invalid with StopTransactionOnInvalidId=true', async () => {
    const x = await fx.start({ csms: { rejectedTags: ['BLOCKED1'] }, ocppConfig: { AuthorizeRemoteTxRequests: 'false' } });
    x.sim.plugIn(1);
    x.sim.evRequestEnergy(1);
    expect(await x.call('RemoteStartTransaction', { idTag: 'BLOCKED1', connectorId: 1 })).toEqual({ status: 'Accepted' });
    await x.waitCalls(0, 'StopTransaction');
    expect(stopParams(x)).toMatchObject({ transactionId: 1, reason: 'DeAuthorized' });
    // The StopTransaction and the DISABLE leave together; the controller acts on the DISABLE a moment later.
    await waitFor(() => !x.sim.state(1).enabled && !x.sim.state(1).contactor, 8_000, 'controller disabled');
  });

  it('StopTransactionOnInvalidId=false: the refused transaction goes on, suspended by the EVSE', async () => {
    const x = await fx.start({ csms: { rejectedTags: ['BLOCKED1'] }, ocppConfig: { AuthorizeRemoteTxRequests: 'false', StopTransactionOnInvalidId: 'false' } });
    x.sim.plugIn(1);
    x.sim.evRequestEnergy(1);
    expect(await x.call('RemoteStartTransaction', { idTag: 'BLOCKED1', connectorId: 1 })).toEqual({ status: 'Accepted' });
    await x.waitCalls(0, 'StartTransaction');
    await x.waitStatus(1, 'SuspendedEVSE');
    expect(x.agent.station.transaction(1)).not.toBeNull();
    // The status follows the 0 A decision at once; the controller opens the contactor on the ENABLE that follows.
    await waitFor(() => x.sim.state(1).contactor === false, 8_000, 'contactor open');
  });

  it('UnlockCommand: UnlockConnector during a transaction', async () => {
    const x = await fx.start();
    await startCharging(x, 1, CARD);
    expect(await x.call('UnlockConnector', { connectorId: 1 })).toEqual({ status: 'Unlocked' });
    await x.waitCalls(0, 'StopTransaction');
    expect(stopParams(x)).toMatchObject({ transactionId: 1, reason: 'UnlockCommand' });
  });
});

describe('identifiers (OCPP 1.6 §3.5)', () => {
  it('compared trimmed and case-insensitively: a remote start for " 04a2b3c4 " is stopped by card 04A2B3C4', async () => {
    const x = await fx.start();
    x.sim.plugIn(1);
    expect(await x.call('RemoteStartTransaction', { idTag: ' 04a2b3c4 ', connectorId: 1 })).toEqual({ status: 'Accepted' });
    const [s] = await x.waitCalls(0, 'StartTransaction');
    expect(s!.params.idTag).toBe('04a2b3c4');
    const m = x.mark();
    x.sim.swipeCard(CARD);
    await x.waitCalls(m, 'StopTransaction');
    expect(stopParams(x)).toMatchObject({ reason: 'Local', idTag: CARD });
    // Stopping with one's own card needs no Authorize.
    expect(x.callsSince(m, 'Authorize')).toEqual([]);
  });

  it('a card with the same parentIdTag stops the transaction; a stranger does not', async () => {
    const x = await fx.start({ csms: { parentIdTags: { [CARD]: 'FLEET-1', [CARD2]: 'fleet-1 ' } } });
    await startCharging(x, 1, CARD);
    let m = x.mark();
    x.sim.swipeCard(STRANGER);
    await x.waitCalls(m, 'Authorize');
    await x.agent.session.heartbeat();
    await x.waitCalls(m, 'Heartbeat');
    expect(x.callsSince(m, 'StopTransaction')).toEqual([]);
    expect(x.agent.station.transaction(1)).not.toBeNull();
    m = x.mark();
    x.sim.swipeCard(CARD2);
    await x.waitCalls(m, 'StopTransaction');
    expect(stopParams(x)).toMatchObject({ transactionId: 1, reason: 'Local', idTag: CARD2 });
  });
});

describe('invalid frames from the CSMS (OCPP-J 1.6 §4.2.3)', () => {
  it('each gets the right CALLERROR, or is dropped with a log line when it cannot be answered', async () => {
    const x = await fx.start();
    const raw = (text: string): void => x.csms.sendRaw(x.cpId, text);
    // Every 1.6 and whitepaper action is handled now, so NotSupported (a known action without a
    // handler) cannot be provoked here; test/ocpp/rpc/rpc-client.test.ts covers that answer.
    expect(Object.entries(INCOMING_ACTIONS).filter(([, h]) => h === 'NotSupported')).toEqual([]);
    const cases: Array<[id: string, text: string, code: string]> = [
      ['nj-1', '[2,"nj-1","Reset",{"type":', 'FormationViolation'],
      ['short-1', '[2,"short-1","Reset"]', 'ProtocolError'],
      ['long-1', '[2,"long-1","Reset",{"type":"Soft"},"extra"]', 'FormationViolation'],
      ['pl-1', '[2,"pl-1","Reset","Soft"]', 'FormationViolation'],
      ['unk-1', '[2,"unk-1","Frobnicate",{}]', 'NotImplemented'],
      ['enum-1', '[2,"enum-1","Reset",{"type":"Sideways"}]', 'PropertyConstraintViolation'],
      ['req-1', '[2,"req-1","Reset",{}]', 'OccurenceConstraintViolation'],
      ['type-1', '[2,"type-1","ChangeAvailability",{"connectorId":"1","type":"Operative"}]', 'TypeConstraintViolation'],
      ['add-1', '[2,"add-1","UnlockConnector",{"connectorId":1,"force":true}]', 'PropertyConstraintViolation'],
      ['len-1', `[2,"len-1","ChangeConfiguration",{"key":"${'k'.repeat(51)}","value":"1"}]`, 'PropertyConstraintViolation'],
    ];
    for (const [, text] of cases) raw(text);
    for (const [id, , code] of cases) {
      const answer = await answerTo(x, id);
      expect(answer.slice(0, 3), id).toEqual([4, id, code]);
      expect(answer).toHaveLength(5);
    }
    // Over the 2 MiB frame limit, id readable from the head: answered, the limit named.
    raw(JSON.stringify([2, 'huge-1', 'DataTransfer', { vendorId: 'x', data: 'z'.repeat(2 * 1024 * 1024) }]));
    expect(await answerTo(x, 'huge-1')).toEqual([4, 'huge-1', 'FormationViolation', expect.stringMatching(/exceeds the 2097152-byte frame limit/), { maxBytes: 2097152 }]);
    // Nothing the agent did: no reset, no unlock, no availability change.
    expect(isOperative16(x.agent.station, 1)).toBe(true);

    // Unanswerable: not JSON without an id, not an array, unknown message type, oversized without an id, stray result.
    const before = x.logs.length;
    raw('hello there');
    raw('{"not":"an array"}');
    raw('[7,"mt-1",{}]');
    raw(`{"no id":"${'z'.repeat(2 * 1024 * 1024)}"}`);
    raw('[3,"nobody-asked",{}]');
    await waitFor(() => x.logs.slice(before).filter((l) => /malformed frame|too large|unknown or late/.test(l.msg ?? '')).length >= 5, 8_000, 'five drops logged');
    // Still alive and answering.
    expect(await x.call('GetConfiguration', { key: ['NumberOfConnectors'] })).toMatchObject({ configurationKey: [{ value: '1' }] });
    expect(parsedFrames(x, 'out').filter((f) => ['mt-1', 'nobody-asked'].includes(String(f[1])))).toEqual([]);
  });
});

describe('connection loss in the middle of a session', () => {
  it('the transaction goes on offline; its MeterValues and StopTransaction arrive in order after the reconnect', async () => {
    const clock = new FakeClock();
    const x = await fx.start({ clock, ocppConfig: { MeterValueSampleInterval: '10' } });
    await startCharging(x, 1, CARD);
    await waitFor(() => (x.agent.station.lastMeter(1)?.powerW ?? 0) > 0, 8_000, 'power flowing');
    const m = x.mark();
    // The CSMS goes away (not just the socket): the agent's reconnect, on real timers, would
    // otherwise race the offline part below and take the samples live.
    await x.csms.stop();
    await waitFor(() => !x.agent.csms.isConnected, 8_000, 'agent sees the loss');
    // Offline: charging continues, samples and the stop are kept for later.
    clock.advance(10_000);
    clock.advance(10_000);
    expect(x.agent.station.transaction(1)).not.toBeNull();
    expect(x.sim.state(1).contactor).toBe(true);
    const { localId } = x.agent.station.transaction(1)!;
    x.sim.evPause(1);
    x.sim.unplug(1);
    await waitFor(() => x.agent.station.transaction(1) === null, 8_000, 'stopped offline');
    // The Stop is queued (with the samples before it) once the register read after the contactor opened is in.
    await waitFor(() => x.agent.transactionStore.transaction(localId)?.stoppedAt !== undefined, 8_000, 'the Stop queued');
    expect(x.callsSince(m, 'MeterValues')).toEqual([]);

    await x.csms.start();
    // Safety net, not a timing: the reconnect comes after the backoff the refused attempts grew (full jitter, 1 s doubling).
    await waitFor(() => x.callsSince(m, 'BootNotification').length > 0, 30_000, 'BootNotification after the CSMS is back');
    const [stop] = await x.waitCalls(m, 'StopTransaction');
    expect(stop!.params).toMatchObject({ transactionId: 1, reason: 'EVDisconnected' });
    const after = x.csms.received.slice(m).filter((c) => c.action === 'MeterValues' || c.action === 'StopTransaction');
    // The two offline samples were stored with the Stop: replayed together in one MeterValues.req.
    expect(after.map((c) => c.action)).toEqual(['MeterValues', 'StopTransaction']);
    expect(after[0]!.params).toMatchObject({ transactionId: 1 });
    expect((after[0]!.params.meterValue as unknown[]).length).toBe(2);
    await x.waitStatus(1, 'Available');
    expect(x.csms.strictFailures).toEqual([]);
  });
});

describe('a whole session while the CSMS is away', () => {
  it('StartTransaction then StopTransaction (with the id the CSMS gives) after the reconnect', async () => {
    const x = await fx.start({ ocppConfig: { AllowOfflineTxForUnknownId: 'true' } });
    const m = x.mark();
    await x.csms.disconnect(x.cpId);
    await waitFor(() => !x.agent.csms.isConnected, 8_000, 'agent sees the loss');
    x.sim.plugIn(1);
    x.sim.swipeCard(CARD);
    await waitFor(() => x.agent.station.transaction(1) !== null, 8_000, 'offline start');
    x.sim.swipeCard(CARD);
    await waitFor(() => x.agent.station.transaction(1) === null, 8_000, 'offline stop');
    const [start0] = await x.waitCalls(m, 'StartTransaction');
    const [stop] = await x.waitCalls(m, 'StopTransaction');
    expect(start0!.params).toMatchObject({ connectorId: 1, idTag: CARD });
    expect(stop!.params).toMatchObject({ transactionId: 1, reason: 'Local', idTag: CARD });
    expect(Date.parse(String(stop!.params.timestamp))).toBeGreaterThanOrEqual(Date.parse(String(start0!.params.timestamp)));
    expect(x.csms.strictFailures).toEqual([]);
  });
});

describe('StatusNotification error codes (OCPP 1.6 §4.9, controller-serial.md fault table)', () => {
  it('a connector fault and a station fault are reported Faulted with the mapped errorCode, then cleared', async () => {
    const x = await fx.start();
    x.sim.raiseFault(1, 'GROUND_FAULT');
    await x.waitStatus(1, 'Faulted');
    expect(x.csms.callsOf('StatusNotification').at(-1)!.params).toMatchObject({ connectorId: 1, errorCode: 'GroundFailure', vendorErrorCode: 'GROUND_FAULT' });
    x.sim.clearFault(1, 'GROUND_FAULT');
    await x.waitStatus(1, 'Available');
    expect(x.csms.callsOf('StatusNotification').at(-1)!.params).toMatchObject({ connectorId: 1, errorCode: 'NoError' });

    x.sim.raiseFault(0, 'SOMETHING_ODD');
    await x.waitStatus(0, 'Faulted');
    expect(x.csms.callsOf('StatusNotification').filter((c) => c.params.connectorId === 0).at(-1)!.params).toMatchObject({
      errorCode: 'OtherError',
      vendorErrorCode: 'SOMETHING_ODD',
    });
    x.sim.clearFault(0, 'SOMETHING_ODD');
    await x.waitStatus(0, 'Available');
  });
});

describe('Heartbeat (OCPP 1.6 §4.6)', () => {
  it('at the interval from BootNotification.conf, then at the one set by ChangeConfiguration', async () => {
    const clock = new FakeClock();
    const x = await fx.start({ clock, csms: { heartbeatIntervalS: 120 } });
    expect(x.agent.config.get('HeartbeatInterval')).toBe('120');
    const heartbeatIds = (): unknown[] => parsedFrames(x, 'out').filter((f) => f[0] === 2 && f[2] === 'Heartbeat').map((f) => f[1]);
    const answered = (): number => parsedFrames(x, 'in').filter((f) => f[0] === 3 && heartbeatIds().includes(f[1])).length;
    // A Heartbeat due while another CALL is outstanding (a StatusNotification, a security event)
    // waits its turn: so wait until nothing is outstanding, and after a round trip the other way
    // once more, before counting what was sent.
    const outstanding = (): number => {
      const answeredIds = new Set(parsedFrames(x, 'in').filter((f) => f[0] === 3 || f[0] === 4).map((f) => f[1]));
      return parsedFrames(x, 'out').filter((f) => f[0] === 2 && !answeredIds.has(f[1])).length;
    };
    const sentAndAnswered = async (n: number): Promise<void> => {
      await waitFor(() => heartbeatIds().length >= n && answered() >= n && outstanding() === 0, 8_000, `${n} heartbeats answered`);
      await x.call('GetConfiguration', { key: ['HeartbeatInterval'] });
      await waitFor(() => outstanding() === 0, 8_000, 'no CALL outstanding');
      expect(heartbeatIds()).toHaveLength(n);
      expect(answered()).toBe(n);
    };
    clock.advance(119_000);
    await sentAndAnswered(0);
    clock.advance(1_000);
    await sentAndAnswered(1);

    expect(await x.call('ChangeConfiguration', { key: 'HeartbeatInterval', value: '30' })).toEqual({ status: 'Accepted' });
    clock.advance(29_000);
    await sentAndAnswered(1);
    clock.advance(1_000);
    await sentAndAnswered(2);
    clock.advance(30_000);
    await sentAndAnswered(3);

    expect(await x.call('ChangeConfiguration', { key: 'HeartbeatInterval', value: '0' })).toEqual({ status: 'Accepted' });
    clock.advance(600_000);
    await sentAndAnswered(3);
  });
});

describe('MeterValues (OCPP 1.6 §4.7)', () => {
  it('sampled every MeterValueSampleInterval, per phase on a three-phase controller', async () => {
    const clock = new FakeClock();
    const x = await fx.start({
      clock,
      ocppConfig: { MeterValueSampleInterval: '15', MeterValuesSampledData: 'Energy.Active.Import.Register,Current.Import,Voltage,Current.Offered' },
    });
    await startCharging(x, 1, CARD);
    await waitFor(() => (x.agent.station.lastMeter(1)?.currentA[2] ?? 0) > 0, 8_000, 'current on L3');
    const m = x.mark();
    clock.advance(14_000);
    await x.agent.session.heartbeat();
    await x.waitCalls(m, 'Heartbeat');
    expect(x.callsSince(m, 'MeterValues')).toEqual([]);
    clock.advance(1_000);
    const [mv] = await x.waitCalls(m, 'MeterValues');
    expect(mv!.params).toMatchObject({ connectorId: 1, transactionId: 1 });
    const sv = (mv!.params.meterValue as Array<{ sampledValue: Array<{ measurand: string; phase?: string; context: string; unit?: string }> }>)[0]!.sampledValue;
    expect(sv.every((v) => v.context === 'Sample.Periodic')).toBe(true);
    const phasesOf = (measurand: string): Array<string | undefined> => sv.filter((v) => v.measurand === measurand).map((v) => v.phase);
    expect(phasesOf('Current.Import')).toEqual(['L1', 'L2', 'L3']);
    expect(phasesOf('Voltage')).toEqual(['L1-N', 'L2-N', 'L3-N']);
    expect(phasesOf('Energy.Active.Import.Register')).toEqual([undefined]);
    expect(sv.find((v) => v.measurand === 'Current.Offered')).toMatchObject({ unit: 'A' });

    // Interval 0 disables sampling.
    expect(await x.call('ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '0' })).toEqual({ status: 'Accepted' });
    x.sim.swipeCard(CARD);
    await x.waitCalls(m, 'StopTransaction');
    const m2 = x.mark();
    x.sim.evPause(1);
    x.sim.unplug(1);
    x.sim.plugIn(1);
    x.sim.swipeCard(CARD);
    await x.waitCalls(m2, 'StartTransaction');
    clock.advance(120_000);
    await x.agent.session.heartbeat();
    await x.waitCalls(m2, 'Heartbeat');
    expect(x.callsSince(m2, 'MeterValues')).toEqual([]);
    expect(x.csms.strictFailures).toEqual([]);
  });
});
