// Local authorization list (OCPP 1.6 §3.5.2, §5.10, §5.15) over the real SQLite store: Full and
// Differential updates, versions, VersionMismatch, Failed and NotSupported leaving the old list
// whole, removal by an entry without idTagInfo, the two length limits, lookups normalized.
import { afterEach, describe, expect, it } from 'vitest';
import { LocalAuthorizationList, type LocalListUpdate } from '../../../src/domain/authorization/local-list.js';
import { SqliteLocalListRepo } from '../../../src/store/local-list-repo.js';
import { TempDatabases } from '../../helpers/temp-agent-db.js';

const dbs = new TempDatabases();
afterEach(() => dbs.cleanup());

function setup(limits: { maxEntries?: number; maxUpdateEntries?: number } = {}) {
  const settings = { on: true, maxEntries: limits.maxEntries ?? 100, maxUpdateEntries: limits.maxUpdateEntries ?? 50 };
  const { db, dir } = dbs.open();
  const list = new LocalAuthorizationList(new SqliteLocalListRepo(db), {
    enabled: () => settings.on,
    maxEntries: () => settings.maxEntries,
    maxUpdateEntries: () => settings.maxUpdateEntries,
  });
  return { list, settings, db, dir };
}

const accepted = (idTag: string, parentIdTag?: string) => ({ idTag, info: parentIdTag ? { status: 'Accepted' as const, groupId: { value: parentIdTag, type: 'Central' as const } } : { status: 'Accepted' as const } });
const full = (version: number, ...entries: LocalListUpdate['entries']): LocalListUpdate => ({ type: 'Full', version, entries });
const diff = (version: number, ...entries: LocalListUpdate['entries']): LocalListUpdate => ({ type: 'Differential', version, entries });

describe('LocalAuthorizationList', () => {
  it('GetLocalListVersion: 0 while empty, the update version after, -1 when disabled', () => {
    const { list, settings } = setup();
    expect(list.version()).toBe(0);
    expect(list.update(full(3, accepted('AAA')))).toEqual({ status: 'Accepted' });
    expect(list.version()).toBe(3);
    settings.on = false;
    expect(list.version()).toBe(-1);
    expect(list.lookup('AAA')).toBeNull(); // a disabled list authorizes nobody
  });

  it('Full replaces the list; lookups are trimmed and case-insensitive', () => {
    const { list } = setup();
    list.update(full(1, accepted('old')));
    expect(list.update(full(2, accepted(' 04a2b3 ', 'Fleet'), { idTag: 'bad', info: { status: 'Blocked' } }))).toEqual({ status: 'Accepted' });
    expect(list.lookup('OLD')).toBeNull();
    expect(list.lookup('04A2B3')).toEqual({ status: 'Accepted', groupId: { value: 'Fleet', type: 'Central' } });
    expect(list.lookup('  04a2B3')).toEqual({ status: 'Accepted', groupId: { value: 'Fleet', type: 'Central' } });
    expect(list.lookup('BAD')).toEqual({ status: 'Blocked' });
    expect(list.size()).toBe(2);
  });

  it('a Full update with an empty list empties it (version 0 = empty)', () => {
    const { list } = setup();
    list.update(full(4, accepted('AAA')));
    expect(list.update(full(5))).toEqual({ status: 'Accepted' });
    expect(list.size()).toBe(0);
    expect(list.version()).toBe(0);
  });

  it('Differential adds, updates and, for an entry without idTagInfo, removes', () => {
    const { list } = setup();
    list.update(full(1, accepted('AAA'), accepted('BBB')));
    const r = list.update(diff(2, { idTag: 'aaa', info: { status: 'Blocked' } }, { idTag: 'BBB', info: null }, accepted('CCC')));
    expect(r).toEqual({ status: 'Accepted' });
    expect(list.lookup('AAA')).toEqual({ status: 'Blocked' });
    expect(list.lookup('BBB')).toBeNull();
    expect(list.lookup('CCC')).toEqual({ status: 'Accepted' });
    expect(list.version()).toBe(2);
  });

  it('Differential not newer than the list: VersionMismatch, nothing applied', () => {
    const { list } = setup();
    list.update(full(5, accepted('AAA')));
    expect(list.update(diff(5, accepted('BBB'))).status).toBe('VersionMismatch');
    expect(list.update(diff(4, accepted('BBB'))).status).toBe('VersionMismatch');
    expect(list.lookup('BBB')).toBeNull();
    expect(list.version()).toBe(5);
    expect(list.update(diff(6, accepted('BBB'))).status).toBe('Accepted');
  });

  it('a list emptied by a Differential reports version 0 but still refuses an older Differential', () => {
    const { list } = setup();
    list.update(full(7, accepted('AAA')));
    expect(list.update(diff(8, { idTag: 'AAA', info: null })).status).toBe('Accepted');
    expect(list.version()).toBe(0);
    expect(list.update(diff(3, accepted('BBB'))).status).toBe('VersionMismatch');
    expect(list.lookup('BBB')).toBeNull();
    expect(list.update(diff(9, accepted('BBB'))).status).toBe('Accepted');
  });

  it.each<[string, LocalListUpdate]>([
    ['a Full entry without idTagInfo', full(9, accepted('NEW'), { idTag: 'X', info: null })],
    ['duplicate idTags (case-insensitive)', full(9, accepted('NEW'), accepted('new '))],
    ['duplicate idTags in a Differential', diff(9, accepted('NEW'), { idTag: 'NEW', info: null })],
    ['a non-empty Full list with version 0', full(0, accepted('NEW'))],
    ['more entries than SendLocalListMaxLength', full(9, ...Array.from({ length: 6 }, (_, i) => accepted(`T${i}`)))],
    ['a Full list longer than LocalAuthListMaxLength', full(9, ...Array.from({ length: 5 }, (_, i) => accepted(`T${i}`)))],
    ['a Differential making the list longer than LocalAuthListMaxLength', diff(9, accepted('N1'), accepted('N2'), accepted('N3'))],
    ['an empty idTag', full(9, accepted('  '))],
  ])('Failed for %s, and the old list stays whole', (_what, update) => {
    const { list } = setup({ maxEntries: 4, maxUpdateEntries: 5 });
    list.update(full(2, accepted('KEEP1'), { idTag: 'KEEP2', info: { status: 'Invalid' } }));
    expect(list.update(update).status).toBe('Failed');
    expect(list.version()).toBe(2);
    expect(list.size()).toBe(2);
    expect(list.lookup('KEEP1')).toEqual({ status: 'Accepted' });
    expect(list.lookup('KEEP2')).toEqual({ status: 'Invalid' });
    expect(list.lookup('NEW')).toBeNull();
  });

  it('disabled (LocalAuthListEnabled false): SendLocalList is NotSupported and changes nothing', () => {
    const { list, settings } = setup();
    list.update(full(2, accepted('KEEP')));
    settings.on = false;
    expect(list.update(full(3, accepted('NEW'))).status).toBe('NotSupported');
    settings.on = true;
    expect(list.version()).toBe(2);
    expect(list.lookup('NEW')).toBeNull();
    expect(list.lookup('KEEP')).not.toBeNull();
  });

  it('persists across a restart', () => {
    const { list, db, dir } = setup();
    list.update(full(7, { idTag: 'TAG', info: { status: 'Accepted', expiresAt: new Date('2031-01-01T00:00:00Z'), groupId: { value: 'P', type: 'Central' } } }));
    const again = new LocalAuthorizationList(new SqliteLocalListRepo(dbs.reopen(db, dir)), { enabled: () => true, maxEntries: () => 10, maxUpdateEntries: () => 10 });
    expect(again.version()).toBe(7);
    expect(again.lookup('tag')).toEqual({ status: 'Accepted', expiresAt: new Date('2031-01-01T00:00:00Z'), groupId: { value: 'P', type: 'Central' } });
  });
});
