// `npm run bench` (queue replay, issue 4): 10,000 queued transaction messages in a SQLite outbox
// replayed by the TransactionMessenger to a local CSMS over a real WebSocket (messages per second),
// against the floor: bare sequential CALL/CALLRESULT round trips to the same server over the same
// kind of socket. Prints figures; asserts nothing. Runs against dist/ (npm run bench builds first).
//   BENCH_MESSAGES (default 10000): queued messages, in transactions of 1,000 (Start, MeterValues, Stop).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';

const root = new URL('../..', import.meta.url).pathname;
const { AgentDatabase } = await import(join(root, 'dist/src/store/database.js'));
const { SqliteTransactionStore } = await import(join(root, 'dist/src/store/transaction-store.js'));
const { TransactionMessenger } = await import(join(root, 'dist/src/ocpp/v16/transaction-messages.js'));
const { connectCsms } = await import(join(root, 'dist/src/ocpp/v16/connection.js'));
const { parseAgentConfig } = await import(join(root, 'dist/src/config/agent-config.js'));
const { SystemClock } = await import(join(root, 'dist/src/platform/clock.js'));
const { DevCsms } = await import(join(root, 'dist/src/devtools/dev-csms.js'));

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 10_000);
const PER_TX = 1_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const quiet = { debug() {}, info() {}, warn() {}, error() {}, fatal() {}, trace() {}, child: () => quiet };

/** A directory on real storage: os.tmpdir() unless it is a RAM file system, else the repo's .bench-tmp/. */
function benchDir() {
  let base = tmpdir();
  if ([0x01021994, 0x858458f6].includes(statfsSync(base).type)) {
    base = join(root, '.bench-tmp');
    mkdirSync(base, { recursive: true });
  }
  return mkdtempSync(join(base, 'replay-'));
}

function writeBytes() {
  return Number(/write_bytes:\s*(\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? NaN);
}

/** Queues MESSAGES messages through the store, as an offline agent would have. */
function fillOutbox(store) {
  const t0 = Date.UTC(2025, 0, 1);
  let pos = store.nextPosition();
  const entry = (kind, localId, body, at) => ({ position: pos++, kind, localId, durability: kind === 'MeterValues' ? 'write-behind' : 'durable', payload: JSON.stringify(body), attempts: 0, createdAt: new Date(at).toISOString() });
  let made = 0;
  for (let t = 0; made < MESSAGES; t++) {
    const n = Math.min(PER_TX, MESSAGES - made);
    const startAt = t0 + t * 86_400_000;
    const tx = { localId: `bench-${t}`, evseId: 1, idToken: { value: `BENCH${t}`, type: 'ISO14443' }, startedAt: new Date(startAt), meterStartWh: t * 100_000 };
    store.write({ messages: [entry('StartTransaction', tx.localId, {}, startAt)], opened: { tx, bootId: null } }, 'fsync');
    const meters = [];
    for (let i = 1; i <= n - 2; i++) {
      const at = startAt + i * 10_000;
      const value = { timestamp: new Date(at).toISOString(), sampledValue: [{ value: String(tx.meterStartWh + i * 6), context: 'Sample.Periodic', measurand: 'Energy.Active.Import.Register', unit: 'Wh', location: 'Outlet' }] };
      meters.push(entry('MeterValues', tx.localId, { connector: 1, values: [value] }, at));
    }
    store.write({ messages: meters }, 'lazy');
    const stopAt = startAt + (n - 1) * 10_000;
    Object.assign(tx, { stoppedAt: new Date(stopAt), meterStopWh: tx.meterStartWh + (n - 1) * 6, stopReason: 'EVDisconnected' });
    store.write({ messages: [entry('StopTransaction', tx.localId, { transactionData: [] }, stopAt)], closed: tx }, 'fsync');
    made += n;
  }
  return made;
}

/** Bare sequential CALL/CALLRESULT round trips with a plain ws client: the floor. */
async function floor(url, count) {
  const ws = new WebSocket(`${url}/CP-BENCH-FLOOR`, ['ocpp1.6']);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let resolveOne = () => {};
  ws.on('message', () => resolveOne());
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const answered = new Promise((r) => (resolveOne = r));
    ws.send(JSON.stringify([2, `f${i}`, 'Heartbeat', {}]));
    await answered;
  }
  const seconds = (performance.now() - t0) / 1000;
  ws.close();
  return count / seconds;
}

const dir = benchDir();
const csms = new DevCsms();
await csms.start();

// The floor before (after a warm-up) and after the replay: the machine's load drifts.
await floor(csms.url, 500);
const floorBefore = await floor(csms.url, MESSAGES);

const database = new AgentDatabase(join(dir, 'replay.db'));
const store = new SqliteTransactionStore(database);
const queued = fillOutbox(store);
const cfg = parseAgentConfig({
  chargePointId: 'CP-BENCH-REPLAY',
  csms: { url: csms.url, securityProfile: 0, basicAuthPassword: null },
  controller: { port: '/dev/null' },
  dataDir: dir,
  diagnosticsSocket: join(dir, 'diag.sock'),
  identity: { vendor: 'Acme', model: 'AC22' },
});
// The agent's own link: ws transport plus the validating RPC client (src/ocpp/v16/connection.ts).
const link = connectCsms(cfg, { logger: quiet });
const messenger = new TransactionMessenger(
  link.rpc,
  store,
  { transactionMessageAttempts: () => 3, transactionMessageRetryIntervalS: () => 60 },
  new SystemClock(),
  quiet,
);
const connected = new Promise((r) => link.on('connected', r));
link.open();
await connected;

const before = { bytes: writeBytes(), stats: database.stats() };
const t0 = performance.now();
messenger.setOnline(true);
while (messenger.queueDepth > 0) await sleep(5);
const seconds = (performance.now() - t0) / 1000;
const after = { bytes: writeBytes(), stats: database.stats() };
const replayRate = queued / seconds;
const floorAfter = await floor(csms.url, MESSAGES);
const floorRate = (floorBefore + floorAfter) / 2;

const got = csms.received.filter((c) => c.identity === 'CP-BENCH-REPLAY');
const failures = csms.strictFailures.length;
console.log('queue replay: TransactionMessenger over SQLite -> ws -> DevCsms (ocpp-rpc, strict) on loopback');
console.log(`  ${queued} queued messages replayed in ${seconds.toFixed(2)} s: ${replayRate.toFixed(0)} messages/s`);
console.log(
  `  floor: ${MESSAGES} bare sequential Heartbeat CALL/CALLRESULT round trips (plain ws client): ${floorBefore.toFixed(0)} before, ${floorAfter.toFixed(0)} after, mean ${floorRate.toFixed(0)} round trips/s`,
);
const calls = got.filter((c) => ['StartTransaction', 'MeterValues', 'StopTransaction'].includes(c.action)).length;
const callRate = calls / seconds;
console.log(`  as OCPP CALLs: ${calls} (stored MeterValues of one transaction go up to 20 per MeterValues.req): ${callRate.toFixed(0)} CALLs/s`);
console.log(`  ratio queued messages / floor: ${(replayRate / floorRate).toFixed(2)}; CALLs / floor: ${(callRate / floorRate).toFixed(2)}`);
console.log(
  `  CSMS received ${got.filter((c) => c.action === 'StartTransaction').length} Start, ${got.filter((c) => c.action === 'MeterValues').length} MeterValues, ${got.filter((c) => c.action === 'StopTransaction').length} Stop`,
);
console.log(
  `  storage during replay: ${((after.bytes - before.bytes) / 1024).toFixed(0)} KiB written (${((after.bytes - before.bytes) / queued).toFixed(0)} B per message), ` +
    `${after.stats.durableCommits - before.stats.durableCommits} durable + ${after.stats.lazyCommits - before.stats.lazyCommits} lazy commits`,
);

if (failures > 0) console.log(`  WARNING: ${failures} frame(s) failed the CSMS's strict schema check`);
messenger.stop();
await link.close();
database.close();
await csms.stop();
rmSync(dir, { recursive: true, force: true });
