// `npm run bench` (local authorization list, issue 5): a Full SendLocalList of 10,000 worst-case
// entries over a real WebSocket to its CALLRESULT (answer time, peak RSS growth, beside targets);
// applying a Full of 10,000 entries (and a Differential) to the SQLite store, lookups in the
// list (median/p99), cache hits, and the decision order end to end. Prints figures; asserts nothing.
// Runs against the compiled code in dist/ (npm run bench builds first); CA_DIST overrides the path.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const dist = process.env.CA_DIST ?? join(root, 'dist');
const { AgentDatabase } = await import(join(dist, 'src/store/database.js'));
const { SqliteLocalListRepo } = await import(join(dist, 'src/store/local-list-repo.js'));
const { SqliteAuthCacheRepo } = await import(join(dist, 'src/store/auth-cache-repo.js'));
const { LocalAuthorizationList } = await import(join(dist, 'src/domain/authorization/local-list.js'));
const { AuthorizationCache } = await import(join(dist, 'src/domain/authorization/authorization-cache.js'));
const { AuthorizationService } = await import(join(dist, 'src/domain/authorization/authorizer.js'));
const { idToken } = await import(join(dist, 'src/domain/model/id-token.js'));
const { SendLocalList } = await import(join(dist, 'src/ocpp/v16/actions/SendLocalList.js'));
const { SystemClock } = await import(join(dist, 'src/platform/clock.js'));
const { WsTransport } = await import(join(dist, 'src/ocpp/transport/ws-transport.js'));
const { createV16RpcClient } = await import(join(dist, 'src/ocpp/rpc/rpc-client.js'));
const { WebSocketServer } = await import('ws');

const ENTRIES = Number(process.env.BENCH_LIST_ENTRIES ?? 10_000);
const LOOKUPS = Number(process.env.BENCH_LOOKUPS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const ms = (x) => `${x.toFixed(1)} ms`;
const us = (x) => `${(x * 1000).toFixed(1)} µs`;
const tag = (i) => `04${i.toString(16).toUpperCase().padStart(12, '0')}`;
const entry = (i) => ({
  idTag: tag(i),
  idTagInfo: { status: i % 50 === 0 ? 'Blocked' : 'Accepted', expiryDate: '2031-01-01T00:00:00.000Z', ...(i % 10 === 0 ? { parentIdTag: `FLEET${i % 7}` } : {}) },
});

/** Times each call of fn, in ms. */
function timeEach(n, fn) {
  const t = [];
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    fn(i);
    t.push(performance.now() - s);
  }
  return t.sort((a, b) => a - b);
}

/**
 * The CSMS sends one Full SendLocalList of `entries` worst-case entries (20-character tags, parent
 * and expiry on each) as a raw CALL; time from the send to the agent's CALLRESULT, through the
 * real transport, frame parse, schema check, handler and one SQLite transaction.
 */
async function overTheWire(list, texts) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => 'ocpp1.6' });
  await new Promise((r) => wss.once('listening', r));
  const connected = new Promise((r) => wss.once('connection', r));
  const transport = new WsTransport({ url: `ws://127.0.0.1:${wss.address().port}/ocpp`, chargePointId: 'BENCH', securityProfile: 0, pingIntervalSeconds: 0 });
  const rpc = createV16RpcClient({ transport });
  rpc.handle('SendLocalList', (req) => SendLocalList(req, { authorization: { localList: list } }));
  transport.open();
  const socket = await connected;
  const worst = (i) => ({
    idTag: `T${String(i).padStart(19, '0')}`,
    idTagInfo: { status: 'ConcurrentTx', expiryDate: '2031-01-01T00:00:00.000+00:00', parentIdTag: 'P'.repeat(20) },
  });
  const results = [];
  for (const text of texts(worst)) {
    const answered = new Promise((r) => socket.once('message', (data) => r(String(data))));
    const rssBefore = process.resourceUsage().maxRSS;
    const s = performance.now();
    socket.send(text);
    const answer = await answered;
    const elapsed = performance.now() - s;
    const rssGrowthMiB = (process.resourceUsage().maxRSS - rssBefore) / 1024;
    results.push({ bytes: Buffer.byteLength(text), answer: answer.slice(0, 60), elapsed, rssGrowthMiB });
  }
  rpc.dispose();
  await transport.close();
  await new Promise((r) => wss.close(r));
  return results;
}

const dir = mkdtempSync(join(tmpdir(), 'bench-local-list-'));
try {
  const db = new AgentDatabase(join(dir, 'agent.db'));
  const settings = { enabled: () => true, maxEntries: () => ENTRIES, maxUpdateEntries: () => ENTRIES };
  const list = new LocalAuthorizationList(new SqliteLocalListRepo(db), settings);
  const ctx = { authorization: { localList: list } };

  // First, while the process is fresh, so the peak RSS growth is this message's alone.
  const fullList = (worst, n) => JSON.stringify([2, `full-${n}`, 'SendLocalList', { listVersion: 1, updateType: 'Full', localAuthorizationList: Array.from({ length: n }, (_, i) => worst(i)) }]);
  const [wire, over] = await overTheWire(list, (worst) => [fullList(worst, ENTRIES), fullList(worst, 2 * ENTRIES)]);
  const mib = (b) => `${(b / 1024 / 1024).toFixed(2)} MiB`;
  console.log(
    `SendLocalList Full over WebSocket, ${ENTRIES} worst-case entries (${mib(wire.bytes)} frame): ` +
      `answered ${wire.answer} in ${ms(wire.elapsed)} (target < 2000 ms here; CSMS timeouts are 30 s+), ` +
      `peak RSS growth ${wire.rssGrowthMiB.toFixed(1)} MiB (target < 64 MiB on a 512 MB board)`,
  );
  console.log(`oversize CALL (${mib(over.bytes)}, over the 2 MiB frame limit): answered ${over.answer}… in ${ms(over.elapsed)} (target: answered, not a timeout)`);
  const full = { listVersion: 1, updateType: 'Full', localAuthorizationList: Array.from({ length: ENTRIES }, (_, i) => entry(i)) };

  // Full apply through the SendLocalList handler (idTagInfo mapping, validation, one durable transaction).
  const applies = [];
  let written = null;
  for (let r = 0; r < ROUNDS; r++) {
    full.listVersion = r + 1;
    const before = db.stats().processWriteBytes;
    const s = performance.now();
    const res = SendLocalList(full, ctx);
    applies.push(performance.now() - s);
    const after = db.stats().processWriteBytes;
    if (res.status !== 'Accepted') throw new Error(`SendLocalList Full: ${res.status}`);
    if (before !== null && after !== null) written = after - before;
  }
  applies.sort((a, b) => a - b);
  const fileKiB = Math.round(statSync(join(dir, 'agent.db')).size / 1024);
  console.log(`SendLocalList Full, ${ENTRIES} entries: median ${ms(pct(applies, 50))}, worst ${ms(applies.at(-1))} (${ROUNDS} rounds); db file ${fileKiB} KiB${written !== null ? `, ${Math.round(written / 1024)} KiB written per apply` : ''}`);

  // A Differential of 400 entries (a typical incremental update).
  const diffSize = 400;
  const diffs = [];
  for (let r = 0; r < ROUNDS; r++) {
    const req = { listVersion: 100 + r, updateType: 'Differential', localAuthorizationList: Array.from({ length: diffSize }, (_, i) => entry((i * 17 + r) % ENTRIES)) };
    const s = performance.now();
    if (SendLocalList(req, ctx).status !== 'Accepted') throw new Error('Differential refused');
    diffs.push(performance.now() - s);
  }
  diffs.sort((a, b) => a - b);
  console.log(`SendLocalList Differential, ${diffSize} entries: median ${ms(pct(diffs, 50))}`);

  // Lookups: hits (random listed tags, varied case/whitespace) and misses.
  const hits = timeEach(LOOKUPS, (i) => list.lookup(` ${tag((i * 7919) % ENTRIES).toLowerCase()} `));
  const misses = timeEach(LOOKUPS, (i) => list.lookup(`FF${i.toString(16).padStart(12, '0')}`));
  console.log(`list lookup hit (${ENTRIES} entries): median ${us(pct(hits, 50))}, p99 ${us(pct(hits, 99))}`);
  console.log(`list lookup miss: median ${us(pct(misses, 50))}, p99 ${us(pct(misses, 99))}`);

  // Authorization cache: a full cache (1,000 entries), hits with LRU touch.
  const clock = new SystemClock();
  const cache = new AuthorizationCache(new SqliteAuthCacheRepo(db), clock);
  for (let i = 0; i < 1_000; i++) cache.put(`CA${i.toString(16).padStart(6, '0')}`, { status: 'Accepted' });
  const cacheHits = timeEach(LOOKUPS, (i) => cache.get(`CA${(i % 1_000).toString(16).padStart(6, '0')}`));
  console.log(`cache hit (${cache.size} entries): median ${us(pct(cacheHits, 50))}, p99 ${us(pct(cacheHits, 99))}`);
  const s = performance.now();
  cache.flush();
  console.log(`cache write-behind batch of 1,000 entries (one transaction): ${ms(performance.now() - s)}`);

  // The decision order offline: list lookup, then cache (what a card at the reader costs when the CSMS is down).
  const service = new AuthorizationService({
    remote: { authorizeRemote: async () => 'offline' },
    list,
    cache,
    settings: { localPreAuthorize: () => false, localAuthorizeOffline: () => true, allowOfflineTxForUnknownId: () => false, authorizationCacheEnabled: () => true },
    clock,
  });
  const decisions = [];
  for (let i = 0; i < 2_000; i++) {
    const t0 = performance.now();
    await service.decide(idToken(i % 2 === 0 ? tag(i % ENTRIES) : `CA${(i % 1_000).toString(16).padStart(6, '0')}`, 'ISO14443'));
    decisions.push(performance.now() - t0);
  }
  decisions.sort((a, b) => a - b);
  console.log(`offline decision (list or cache): median ${us(pct(decisions, 50))}, p99 ${us(pct(decisions, 99))}`);
  cache.stop();
  db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
