// `npm run bench` (time before the clock is set): the first CSMS sync rewrites every queued message
// stamped before it (one commit). Figures: time of that correction for a full queue (20,000
// messages, DEFAULT_MAX_QUEUED_MESSAGES) on real storage, and the bytes it writes. Prints figures;
// asserts nothing. Runs against dist/ (npm run bench builds first).
//   BENCH_MESSAGES (default 20000): queued messages, in transactions of 1,000 (Start, MeterValues, Stop).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const { AgentDatabase } = await import(join(root, 'dist/src/store/database.js'));
const { SqliteTransactionStore } = await import(join(root, 'dist/src/store/transaction-store.js'));
const { SqliteTimeBaseRepo } = await import(join(root, 'dist/src/store/time-base-repo.js'));
const { TransactionMessenger } = await import(join(root, 'dist/src/ocpp/v16/transaction-messages.js'));
const { TimeCorrector } = await import(join(root, 'dist/src/ocpp/outbox/time-correction.js'));
const { shiftPayload } = await import(join(root, 'dist/src/ocpp/v16/time-correction.js'));
const { SystemClock } = await import(join(root, 'dist/src/platform/clock.js'));

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20_000);
const PER_TX = 1_000;
/** Target: the sync must not hold the event loop long on the board (a status or a card waits meanwhile). */
const TARGET_MS = 2_000;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function benchDir() {
  let base = tmpdir();
  if ([0x01021994, 0x858458f6].includes(statfsSync(base).type)) {
    base = join(root, '.bench-tmp');
    mkdirSync(base, { recursive: true });
  }
  return mkdtempSync(join(base, 'restamp-'));
}

function writeBytes() {
  return Number(/write_bytes:\s*(\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? NaN);
}

const dir = benchDir();
try {
  const db = new AgentDatabase(join(dir, 'agent.db'));
  const store = new SqliteTransactionStore(db);
  // A board at 1970: system time and monotonic time driven by hand.
  let mono = 60_000;
  const clock = new SystemClock({ systemNowMs: () => Date.UTC(1970, 0, 1) + mono, monotonicMs: () => mono });
  const time = new TimeCorrector(clock, new SqliteTimeBaseRepo(db, shiftPayload), 'bench-boot', quiet);
  time.resume();
  const settings = { transactionMessageAttempts: () => 3, transactionMessageRetryIntervalS: () => 60 };
  const rpc = { call: async () => ({}) };
  const messenger = new TransactionMessenger(rpc, store, settings, clock, quiet, {}, { bootId: 'bench-boot', time, maxQueuedMessages: MESSAGES + 10 });
  let queued = 0;
  for (let t = 0; queued < MESSAGES; t++) {
    const tx = { localId: `tx-${t}`, evseId: 1, idToken: { value: 'BENCH', type: 'ISO14443' }, startedAt: clock.now(), meterStartWh: 0 };
    messenger.started(tx);
    queued++;
    for (let i = 0; i < PER_TX - 2 && queued < MESSAGES - 1; i++, queued++) {
      mono += 10_000;
      const wh = i * 10;
      messenger.meter(tx, [{ timestamp: clock.now().toISOString(), sampledValue: [{ value: String(wh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }]);
    }
    messenger.flush();
    messenger.stopped({ ...tx, stoppedAt: clock.now(), meterStopWh: 1, stopReason: 'LocalStop' }, []);
    queued++;
  }
  clock.setOffsetFrom(new Date());
  const bytes = writeBytes();
  const t0 = performance.now();
  messenger.clockSynced();
  const ms = performance.now() - t0;
  const written = writeBytes() - bytes;
  messenger.stop();
  db.close();
  console.log(`clock sync correction: ${messenger.queueDepth} queued messages corrected in ${ms.toFixed(0)} ms (target < ${TARGET_MS} ms), ${(written / 1e6).toFixed(1)} MB written`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
