// Authorization end to end (issue 5; OCPP 1.6 §3.5 local authorization and offline behaviour,
// §5.13 reservations): the real agent on the simulator against the DevCsms, the CSMS taken down
// for the offline branches, the answers of StartTransaction feeding the cache, and the local
// list, the cache and reservations surviving an agent restart on the same data dir.
import { statusOf } from '../../src/ocpp/v16/mappers.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { simulatedAgentConfig } from '../../src/devtools/dev-config.js';
import { DevCsms } from '../../src/devtools/dev-csms.js';
import { startAgent, type RunningAgent } from '../../src/main.js';
import type { AuthorizationData } from '../../src/ocpp/v16/generated/types.js';
import type { Harness } from '../helpers/agent-harness.js';
import { useAgentFixture } from '../helpers/action-fixture.js';
import { waitFor } from '../helpers/wait.js';

/** Card UIDs as the reader sends them (8 hex digits). */
const LISTED = 'A1A1A1A1';
const BLOCKED = 'B1B1B1B1';
const STALE = 'E1E1E1E1';
const CACHED = 'C1C1C1C1';
const UNKNOWN = 'F1F1F1F1';
const REFUSED = 'DEADBEEF';

const fx = useAgentFixture();
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function swipe(agent: RunningAgent, tag: string): Promise<boolean> {
  const results: boolean[] = [];
  const off = agent.station.subscribe({ authorizationDecided: ({ idToken: { value: t }, accepted: accepted }) => t === tag && results.push(accepted) });
  agent.simulator!.swipeCard(tag);
  await waitFor(() => results.length > 0, 10_000, `card result for ${tag}`);
  off();
  return results[0]!;
}

async function sendList(x: Harness, version: number, entries: AuthorizationData[]): Promise<void> {
  expect(await x.call('SendLocalList', { listVersion: version, updateType: 'Full', localAuthorizationList: entries })).toEqual({ status: 'Accepted' });
}

async function csmsDown(x: Harness): Promise<void> {
  await x.csms.stop();
  await waitFor(() => !x.agent.csms.isConnected, 10_000, 'agent offline');
}

describe('decision order online', () => {
  it('LocalPreAuthorize: a listed Accepted card starts at once, without Authorize.req (TC_008)', async () => {
    const h = await fx.start({ ocppConfig: { LocalPreAuthorize: 'true' } });
    await sendList(h, 1, [{ idTag: LISTED, idTagInfo: { status: 'Accepted' } }]);
    const m = h.mark();
    h.sim.plugIn(1);
    await h.waitStatus(1, 'Preparing');
    expect(await swipe(h.agent, LISTED)).toBe(true);
    const [start] = await h.waitCalls(m, 'StartTransaction');
    expect(start!.params).toMatchObject({ idTag: LISTED, connectorId: 1 });
    expect(h.callsSince(m, 'Authorize')).toEqual([]);
  });

  it('without LocalPreAuthorize the CSMS decides, even for a listed card; its answer is cached', async () => {
    const h = await fx.start({ csms: { rejectedTags: [LISTED] } });
    await sendList(h, 1, [{ idTag: LISTED, idTagInfo: { status: 'Accepted' } }]);
    const m = h.mark();
    expect(await swipe(h.agent, LISTED)).toBe(false); // the CSMS says Invalid
    expect(h.callsSince(m, 'Authorize')).toHaveLength(1);
    expect(h.agent.authorization.cache.get(LISTED)).toBeNull(); // listed identifiers are never cached
    expect(await swipe(h.agent, CACHED)).toBe(true);
    expect(h.agent.authorization.cache.get(CACHED)).toEqual({ status: 'Accepted' });
  });
});

describe('decision order offline (CSMS down)', () => {
  it('list Accepted and cached cards charge; Blocked, expired and unknown cards are refused', async () => {
    const h = await fx.start();
    expect(await swipe(h.agent, CACHED)).toBe(true); // learnt online
    const expired = new Date(Date.now() - 60_000).toISOString();
    await sendList(h, 1, [
      { idTag: LISTED, idTagInfo: { status: 'Accepted', expiryDate: new Date(Date.now() + 86_400_000).toISOString() } },
      { idTag: BLOCKED, idTagInfo: { status: 'Blocked' } },
      { idTag: STALE, idTagInfo: { status: 'Accepted', expiryDate: expired } },
    ]);
    await csmsDown(h);
    expect(await swipe(h.agent, LISTED)).toBe(true);
    expect(await swipe(h.agent, CACHED)).toBe(true);
    expect(await swipe(h.agent, BLOCKED)).toBe(false);
    expect(await swipe(h.agent, STALE)).toBe(false);
    expect(await swipe(h.agent, UNKNOWN)).toBe(false);

    // AllowOfflineTxForUnknownId: unknown cards charge; known-bad ones still do not.
    expect(h.agent.config.change('AllowOfflineTxForUnknownId', 'true').result).toBe('Accepted');
    expect(await swipe(h.agent, UNKNOWN)).toBe(true);
    expect(await swipe(h.agent, BLOCKED)).toBe(false);
    expect(await swipe(h.agent, STALE)).toBe(false);

    // LocalAuthorizeOffline false: list and cache do not authorize; everything counts as unknown.
    h.agent.config.change('AllowOfflineTxForUnknownId', 'false');
    h.agent.config.change('LocalAuthorizeOffline', 'false');
    expect(await swipe(h.agent, LISTED)).toBe(false);
    expect(await swipe(h.agent, CACHED)).toBe(false);
  });

  it('a session started offline on an unknown card; the StartTransaction answer (Invalid) feeds the cache', async () => {
    const h = await fx.start({ csms: { rejectedTags: [REFUSED] }, ocppConfig: { AllowOfflineTxForUnknownId: 'true', StopTransactionOnInvalidId: 'false' } });
    await csmsDown(h);
    h.sim.plugIn(1);
    await waitFor(() => statusOf(h.agent.station, 1) === 'Preparing', 10_000, 'Preparing');
    expect(await swipe(h.agent, REFUSED)).toBe(true);
    await waitFor(() => h.agent.station.transaction(1) !== null, 10_000, 'offline transaction');
    const m = h.mark();
    await h.csms.start(); // same port: the agent reconnects and delivers the queued start
    await h.waitCalls(m, 'StartTransaction');
    await waitFor(() => h.agent.authorization.cache.get(REFUSED)?.status === 'Invalid', 10_000, 'cache learns Invalid');
    // Offline again: now known as Invalid, so AllowOfflineTxForUnknownId no longer lets it in.
    h.sim.unplug(1);
    await csmsDown(h);
    expect(await swipe(h.agent, REFUSED)).toBe(false);
  });
});

describe('the cache learns from transaction answers', () => {
  it('StopTransaction.conf idTagInfo refreshes the cache entry of the card that stopped', async () => {
    const h = await fx.start();
    const m = h.mark();
    h.sim.plugIn(1);
    await h.waitStatus(1, 'Preparing');
    expect(await swipe(h.agent, CACHED)).toBe(true);
    await h.waitCalls(m, 'StartTransaction');
    expect(await h.call('ClearCache', {})).toEqual({ status: 'Accepted' });
    expect(h.agent.authorization.cache.get(CACHED)).toBeNull();
    expect(await swipe(h.agent, CACHED)).toBe(true); // stops its own transaction: no Authorize.req
    const [stop] = await h.waitCalls(m, 'StopTransaction');
    expect(stop!.params).toMatchObject({ idTag: CACHED, reason: 'Local' });
    expect(h.callsSince(m, 'Authorize')).toHaveLength(1);
    await waitFor(() => h.agent.authorization.cache.get(CACHED)?.status === 'Accepted', 10_000, 'cache refreshed from StopTransaction.conf');
  });
});

describe('parentIdTag groups', () => {
  it('a card of the transaction owner\'s group stops it; the group comes from the local list', async () => {
    const h = await fx.start();
    await sendList(h, 1, [
      { idTag: LISTED, idTagInfo: { status: 'Accepted', parentIdTag: 'FLEET-7' } },
      { idTag: CACHED, idTagInfo: { status: 'Accepted', parentIdTag: 'fleet-7 ' } },
    ]);
    await csmsDown(h);
    h.sim.plugIn(1);
    await waitFor(() => statusOf(h.agent.station, 1) === 'Preparing', 10_000, 'Preparing');
    expect(await swipe(h.agent, LISTED)).toBe(true);
    await waitFor(() => h.agent.station.transaction(1) !== null, 10_000, 'transaction');
    expect(h.agent.station.transaction(1)?.groupId?.value).toBe('FLEET-7');
    expect(await swipe(h.agent, CACHED)).toBe(true); // same group: stops it
    await waitFor(() => h.agent.station.transaction(1) === null, 10_000, 'stopped by the group');
  });
});

describe('across a restart (same data dir)', () => {
  it('the local list, the cache and a reservation survive; Reserved is reported again', async () => {
    const csms = new DevCsms();
    await csms.start();
    const dataDir = mkdtempSync(join(tmpdir(), 'ca-auth-e2e-'));
    cleanups.push(async () => {
      await csms.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const cpId = `CP-AUTH-${process.pid}`;
    const boot = async (): Promise<RunningAgent> => {
      const cfg = simulatedAgentConfig({ chargePointId: cpId, csmsUrl: csms.url, dataDir });
      const agent = await startAgent(cfg, { logger: pino({ level: 'silent' }) });
      cleanups.push(() => agent.stop());
      await waitFor(() => agent.session.registrationStatus === 'Accepted' && agent.controller.isLinkUp && statusOf(agent.station, 1) !== null, 10_000, 'agent ready');
      return agent;
    };
    const lastStatus = (from: number): string | undefined =>
      csms.received
        .slice(from)
        .filter((c) => c.action === 'StatusNotification' && c.params.connectorId === 1)
        .map((c) => String(c.params.status))
        .at(-1);

    const first = await boot();
    expect(await csms.call(cpId, 'SendLocalList', { listVersion: 9, updateType: 'Full', localAuthorizationList: [{ idTag: LISTED, idTagInfo: { status: 'Accepted' } }] })).toEqual({
      status: 'Accepted',
    });
    const expiryDate = new Date(Date.now() + 3_600_000).toISOString();
    expect(await csms.call(cpId, 'ReserveNow', { connectorId: 1, expiryDate, idTag: LISTED, reservationId: 77 })).toEqual({ status: 'Accepted' });
    await waitFor(() => lastStatus(0) === 'Reserved', 10_000, 'Reserved');
    // Accepted by the CSMS (and cached, written behind) but the only connector is reserved for another card.
    expect(await swipe(first, CACHED)).toBe(false);
    expect(first.authorization.cache.get(CACHED)).toEqual({ status: 'Accepted' });
    await first.stop();

    const mark = csms.received.length;
    const second = await boot();
    expect(await csms.call(cpId, 'GetLocalListVersion', {})).toEqual({ listVersion: 9 });
    expect(second.authorization.localList.lookup(LISTED)).toEqual({ status: 'Accepted' });
    expect(second.authorization.cache.get(CACHED)).toEqual({ status: 'Accepted' });
    expect(second.reservations.active().map((r) => [r.id, r.evseId ?? 0, r.idToken.value])).toEqual([[77, 1, LISTED]]);
    await waitFor(() => lastStatus(mark) === 'Reserved', 10_000, 'Reserved reported after the restart');
    // The reserved card uses it: StartTransaction carries the reservationId.
    second.simulator!.plugIn(1);
    expect(await swipe(second, LISTED)).toBe(true);
    await waitFor(() => csms.callsOf('StartTransaction').length > 0, 10_000, 'StartTransaction');
    expect(csms.callsOf('StartTransaction')[0]!.params).toMatchObject({ idTag: LISTED, reservationId: 77 });
    expect(csms.strictFailures).toEqual([]);
  });
});
