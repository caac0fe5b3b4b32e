// Diagnostics archive bench (GetDiagnostics, GetLog): the time to build the archive from a full
// log ring (1000 lines, near its 512 KiB bound) and a real database, its size, and the time of one
// upload of it to a local HTTP server (multipart POST). Prints figures beside targets; asserts
// nothing. Runs against dist/ (build first).
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const { createLogger, logRingOf } = await import(join(root, 'dist/src/platform/logger.js'));
const { AgentDatabase } = await import(join(root, 'dist/src/store/database.js'));
const { ConfigurationStore } = await import(join(root, 'dist/src/ocpp/v16/configuration-store.js'));
const { SqliteConfigurationRepo } = await import(join(root, 'dist/src/store/configuration-repo.js'));
const { simulatedAgentConfig } = await import(join(root, 'dist/src/devtools/dev-config.js'));
const { archiveSources } = await import(join(root, 'dist/src/composition/diagnostics-upload-service.js'));
const { buildLogArchive } = await import(join(root, 'dist/src/diagnostics/log-archive.js'));
const { parseUploadLocation, uploadFile } = await import(join(root, 'dist/src/diagnostics/upload-transport.js'));
const { SystemClock } = await import(join(root, 'dist/src/platform/clock.js'));

const KiB = 1024;
const work = mkdtempSync(join(tmpdir(), 'diag-bench-'));
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.end('ok'));
});
try {
  const database = new AgentDatabase(join(work, 'charger-agent.db'));
  const config = new ConfigurationStore(new SqliteConfigurationRepo(database));
  const cfg = simulatedAgentConfig({ chargePointId: 'CP-BENCH', csmsUrl: 'ws://127.0.0.1:9/ocpp', dataDir: work });
  const log = createLogger({ level: 'debug', destination: { write: () => undefined } });
  // Lines like the agent's own at debug: an OCPP frame with a MeterValues payload.
  // Values vary as real ones do, so the compression figure is not flattered by identical lines.
  const r = () => (Math.random() * 100000).toFixed(1);
  for (let i = 0; i < 2000; i++) {
    const payload = { connectorId: 1 + (i % 2), transactionId: 40 + (i % 7), meterValue: [{ timestamp: new Date(Date.now() - i * 997).toISOString(), sampledValue: [{ value: r(), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }, { value: r(), measurand: 'Power.Active.Import', unit: 'W' }, { value: r(), measurand: 'Current.Import', phase: 'L1', unit: 'A' }] }] };
    log.debug({ direction: 'out', messageType: 'CALL', messageId: crypto.randomUUID(), action: 'MeterValues', payload }, 'OCPP -> CALL MeterValues');
  }
  const ring = logRingOf(log);
  const ringBytes = ring.tail().reduce((n, l) => n + l.length, 0);
  const sources = archiveSources(cfg, { database, config, messenger: { queueDepth: 0 }, station: { evseIds: () => [1, 2] }, controller: { info: null }, clock: new SystemClock() }, log);

  const times = [];
  let built;
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    built = await buildLogArchive({ kind: 'diagnostics', window: { fromMs: 0, toMs: Date.now() + 60_000 }, fileName: 'bench.tar.gz', createdAt: new Date() }, sources);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);

  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const target = parseUploadLocation(`http://127.0.0.1:${server.address().port}/up`);
  const ups = [];
  for (let i = 0; i < 10; i++) {
    const t = performance.now();
    await uploadFile(target, 'bench.tar.gz', built.data, { signal: new AbortController().signal, idleTimeoutMs: 10_000 });
    ups.push(performance.now() - t);
  }
  ups.sort((a, b) => a - b);
  database.close();

  const row = (what, value, target) => process.stdout.write(`${what.padEnd(44)} ${value.padStart(12)}   target ${target}\n`);
  process.stdout.write(`diagnostics archive of a full log ring (${ring.size} lines, ${(ringBytes / KiB).toFixed(0)} KiB)\n`);
  row('archive build time, window given (median/20)', `${times[10].toFixed(1)} ms`, '< 250 ms (the event loop is not held long)');
  row('archive build time, window given (worst/20)', `${times.at(-1).toFixed(1)} ms`, '< 500 ms');
  row('archive size (tar.gz)', `${(built.data.length / KiB).toFixed(1)} KiB`, '< 128 KiB (an upload over a cellular link)');
  row('upload to a local HTTP server (median)', `${ups[5].toFixed(1)} ms`, '< 100 ms');
} finally {
  server.close();
  rmSync(work, { recursive: true, force: true });
}
