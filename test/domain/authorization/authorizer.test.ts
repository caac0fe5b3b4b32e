// The authorization decision order (OCPP 1.6 §3.5, §4.1) over the real SQLite-backed local
// list and cache, with a scripted CSMS answer: every branch online (LocalPreAuthorize on/off)
// and offline (LocalAuthorizeOffline, AllowOfflineTxForUnknownId), expiry, list over cache.
import { afterEach, describe, expect, it } from 'vitest';
import { AuthorizationService, type AuthorizationSettings } from '../../../src/domain/authorization/authorizer.js';
import { AuthorizationCache } from '../../../src/domain/authorization/authorization-cache.js';
import { LocalAuthorizationList } from '../../../src/domain/authorization/local-list.js';
import type { AuthorizationInfo } from '../../../src/domain/model/authorization.js';
import type { IdToken } from '../../../src/domain/model/id-token.js';
import { SqliteAuthCacheRepo } from '../../../src/store/auth-cache-repo.js';
import { SqliteLocalListRepo } from '../../../src/store/local-list-repo.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { TempDatabases } from '../../helpers/temp-agent-db.js';

const dbs = new TempDatabases();
afterEach(() => dbs.cleanup());

/** A card read at the reader. */
const card = (value: string): IdToken => ({ value, type: 'ISO14443' });

type Settings = { -readonly [K in keyof AuthorizationSettings]: boolean } & { listEnabled: boolean };

function setup(over: Partial<Settings> = {}) {
  const s: Settings = {
    localPreAuthorize: false,
    localAuthorizeOffline: true,
    allowOfflineTxForUnknownId: false,
    authorizationCacheEnabled: true,
    listEnabled: true,
    ...over,
  };
  const { db } = dbs.open();
  const clock = new FakeClock();
  const list = new LocalAuthorizationList(new SqliteLocalListRepo(db), { enabled: () => s.listEnabled, maxEntries: () => 100, maxUpdateEntries: () => 100 });
  const cache = new AuthorizationCache(new SqliteAuthCacheRepo(db), clock);
  /** The CSMS: 'offline', or its answer per normalized tag (unknown tags Invalid). */
  const csms = { online: true, answers: new Map<string, AuthorizationInfo>(), calls: [] as string[] };
  const service = new AuthorizationService({
    remote: {
      authorizeRemote: async ({ value: idTag }) => {
        if (!csms.online) return 'offline';
        csms.calls.push(idTag);
        return csms.answers.get(idTag.trim().toUpperCase()) ?? { status: 'Invalid' };
      },
    },
    list,
    cache,
    settings: {
      localPreAuthorize: () => s.localPreAuthorize,
      localAuthorizeOffline: () => s.localAuthorizeOffline,
      allowOfflineTxForUnknownId: () => s.allowOfflineTxForUnknownId,
      authorizationCacheEnabled: () => s.authorizationCacheEnabled,
    },
    clock,
  });
  const listed = (...entries: Array<[string, AuthorizationInfo]>) => list.update({ type: 'Full', version: 1, entries: entries.map(([idTag, info]) => ({ idTag, info })) });
  return { s, clock, list, cache, csms, service, listed };
}

describe('online', () => {
  it('without LocalPreAuthorize the CSMS decides, even for a listed identifier', async () => {
    const t = setup();
    t.listed(['LISTED', { status: 'Accepted' }]);
    t.csms.answers.set('LISTED', { status: 'Blocked' });
    expect(await t.service.decide(card('LISTED'))).toEqual({ status: 'Blocked', source: 'csms' });
    expect(t.csms.calls).toEqual(['LISTED']);
  });

  it.each(['Accepted', 'Blocked', 'Expired', 'Invalid', 'ConcurrentTx'] as const)('the CSMS answer %s is passed on (with parentIdTag) and cached', async (status) => {
    const t = setup();
    t.csms.answers.set('CARD', { status, groupId: { value: 'FLEET', type: 'Central' } });
    expect(await t.service.decide(card('card'))).toEqual({ status, groupId: { value: 'FLEET', type: 'Central' }, source: 'csms' });
    expect(t.cache.get('CARD')).toEqual({ status, groupId: { value: 'FLEET', type: 'Central' } });
  });

  it('LocalPreAuthorize: a valid Accepted list entry starts at once, no Authorize.req', async () => {
    const t = setup({ localPreAuthorize: true });
    t.listed(['LISTED', { status: 'Accepted', groupId: { value: 'GRP', type: 'Central' } }]);
    expect(await t.service.decide(card(' listed '))).toEqual({ status: 'Accepted', groupId: { value: 'GRP', type: 'Central' }, source: 'local-list' });
    expect(t.csms.calls).toEqual([]);
  });

  it('LocalPreAuthorize: a valid Accepted cache entry starts at once, no Authorize.req', async () => {
    const t = setup({ localPreAuthorize: true });
    t.csms.answers.set('CARD', { status: 'Accepted' });
    await t.service.decide(card('CARD')); // learnt from the CSMS
    expect(await t.service.decide(card('CARD'))).toEqual({ status: 'Accepted', source: 'cache' });
    expect(t.csms.calls).toEqual(['CARD']);
  });

  it('LocalPreAuthorize: a local entry that is not valid (Blocked, or expired) is asked about', async () => {
    const t = setup({ localPreAuthorize: true });
    t.listed(['BLOCKED', { status: 'Blocked' }], ['STALE', { status: 'Accepted', expiresAt: new Date(t.clock.now().getTime() + 1_000) }]);
    t.clock.advance(1_000);
    t.csms.answers.set('BLOCKED', { status: 'Accepted' });
    t.csms.answers.set('STALE', { status: 'Accepted' });
    expect(await t.service.decide(card('BLOCKED'))).toEqual({ status: 'Accepted', source: 'csms' });
    expect(await t.service.decide(card('STALE'))).toEqual({ status: 'Accepted', source: 'csms' });
    expect(t.csms.calls).toEqual(['BLOCKED', 'STALE']);
  });

  it('LocalPreAuthorize: the list wins over the cache', async () => {
    const t = setup({ localPreAuthorize: true });
    t.cache.put('CARD', { status: 'Accepted' });
    t.listed(['CARD', { status: 'Blocked' }]);
    t.csms.answers.set('CARD', { status: 'Invalid' });
    expect(await t.service.decide(card('CARD'))).toEqual({ status: 'Invalid', source: 'csms' });
  });

  it('an identifier in the local list is never cached (§3.5.3)', async () => {
    const t = setup();
    t.listed(['LISTED', { status: 'Accepted' }]);
    t.csms.answers.set('LISTED', { status: 'Accepted' });
    await t.service.decide(card('LISTED'));
    t.service.learn(card('LISTED'), { status: 'Accepted' }); // e.g. a StartTransaction answer
    expect(t.cache.get('LISTED')).toBeNull();
  });

  it('AuthorizationCacheEnabled false: answers are not cached and the cache is not consulted', async () => {
    const t = setup({ authorizationCacheEnabled: false, localPreAuthorize: true });
    t.csms.answers.set('CARD', { status: 'Accepted' });
    await t.service.decide(card('CARD'));
    expect(t.cache.size).toBe(0);
    t.cache.put('OTHER', { status: 'Accepted' });
    t.csms.answers.set('OTHER', { status: 'Blocked' });
    expect(await t.service.decide(card('OTHER'))).toEqual({ status: 'Blocked', source: 'csms' });
  });
});

describe('offline', () => {
  it('LocalAuthorizeOffline: a valid Accepted list entry authorizes', async () => {
    const t = setup();
    t.csms.online = false;
    t.listed(['LISTED', { status: 'Accepted', groupId: { value: 'GRP', type: 'Central' } }]);
    expect(await t.service.decide(card('listed'))).toEqual({ status: 'Accepted', groupId: { value: 'GRP', type: 'Central' }, source: 'local-list' });
  });

  it('LocalAuthorizeOffline: a valid Accepted cache entry authorizes', async () => {
    const t = setup();
    t.csms.answers.set('CARD', { status: 'Accepted' });
    await t.service.decide(card('CARD'));
    t.csms.online = false;
    expect(await t.service.decide(card('CARD'))).toEqual({ status: 'Accepted', source: 'cache' });
  });

  it.each(['Blocked', 'Expired', 'Invalid', 'ConcurrentTx'] as const)('a %s list entry refuses, even with AllowOfflineTxForUnknownId', async (status) => {
    const t = setup({ allowOfflineTxForUnknownId: true });
    t.csms.online = false;
    t.listed(['CARD', { status }]);
    expect(await t.service.decide(card('CARD'))).toEqual({ status, source: 'local-list' });
  });

  it('a cached Blocked answer refuses, even with AllowOfflineTxForUnknownId', async () => {
    const t = setup({ allowOfflineTxForUnknownId: true });
    t.cache.put('CARD', { status: 'Blocked' });
    t.csms.online = false;
    expect(await t.service.decide(card('CARD'))).toEqual({ status: 'Blocked', source: 'cache' });
  });

  it('an Accepted entry past its expiryDate counts as Expired, never Accepted (list and cache)', async () => {
    const t = setup({ allowOfflineTxForUnknownId: true });
    const soon = new Date(t.clock.now().getTime() + 5_000);
    t.listed(['LISTED', { status: 'Accepted', expiresAt: soon }]);
    t.cache.put('CACHED', { status: 'Accepted', expiresAt: soon });
    t.csms.online = false;
    expect((await t.service.decide(card('LISTED'))).status).toBe('Accepted');
    t.clock.advance(5_000);
    expect(await t.service.decide(card('LISTED'))).toEqual({ status: 'Expired', source: 'local-list' });
    expect(await t.service.decide(card('CACHED'))).toEqual({ status: 'Expired', source: 'cache' });
  });

  it('the list wins over the cache', async () => {
    const t = setup();
    t.cache.put('A', { status: 'Accepted' });
    t.cache.put('B', { status: 'Blocked' });
    t.listed(['A', { status: 'Blocked' }], ['B', { status: 'Accepted' }]);
    t.csms.online = false;
    expect(await t.service.decide(card('A'))).toEqual({ status: 'Blocked', source: 'local-list' });
    expect(await t.service.decide(card('B'))).toEqual({ status: 'Accepted', source: 'local-list' });
  });

  it('an unknown identifier: Invalid, or Accepted with AllowOfflineTxForUnknownId', async () => {
    const t = setup();
    t.csms.online = false;
    expect(await t.service.decide(card('NOBODY'))).toEqual({ status: 'Invalid', source: 'offline' });
    t.s.allowOfflineTxForUnknownId = true;
    expect(await t.service.decide(card('NOBODY'))).toEqual({ status: 'Accepted', source: 'unknown-offline' });
  });

  it('LocalAuthorizeOffline false: local Accepted entries do not authorize; everything is unknown', async () => {
    const t = setup({ localAuthorizeOffline: false });
    t.listed(['LISTED', { status: 'Accepted' }], ['BAD', { status: 'Blocked' }]);
    t.csms.online = false;
    expect(await t.service.decide(card('LISTED'))).toEqual({ status: 'Invalid', source: 'offline' });
    t.s.allowOfflineTxForUnknownId = true;
    expect(await t.service.decide(card('LISTED'))).toEqual({ status: 'Accepted', source: 'unknown-offline' });
    // A known-bad identifier still never charges.
    expect(await t.service.decide(card('BAD'))).toEqual({ status: 'Blocked', source: 'local-list' });
  });

  it('a disabled list is not consulted (the cache still is)', async () => {
    const t = setup({ listEnabled: true });
    t.listed(['CARD', { status: 'Accepted' }]);
    t.cache.put('CARD', { status: 'Blocked' });
    t.s.listEnabled = false;
    t.csms.online = false;
    expect(await t.service.decide(card('CARD'))).toEqual({ status: 'Blocked', source: 'cache' });
  });

  it('authorize() gives the station the status and parentIdTag only', async () => {
    const t = setup();
    t.listed(['LISTED', { status: 'Accepted', groupId: { value: 'GRP', type: 'Central' }, expiresAt: new Date('2099-01-01T00:00:00Z') }]);
    t.csms.online = false;
    expect(await t.service.authorize(card('LISTED'))).toEqual({ status: 'Accepted', groupId: { value: 'GRP', type: 'Central' } });
  });
});
