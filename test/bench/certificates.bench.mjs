// `npm run bench` (certificate management and security events): what a small board pays for
// a CSR (key pair + PKCS#10, RSA 2048 and EC P-256), for verifying and installing a
// CertificateSigned chain, for GetInstalledCertificateIds over a full store (20 roots), and for
// one security-log append at the 10,000-entry bound (the trim in the same commit), with the
// bytes written per append. Prints figures beside targets; asserts nothing.
// Runs against the compiled code in dist/ (npm run bench builds first); CA_DIST overrides the path.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const dist = process.env.CA_DIST ?? join(root, 'dist');
const { createCsr } = await import(join(dist, 'src/security/csr.js'));
const { CertificateStore } = await import(join(dist, 'src/security/certificate-store.js'));
const { AgentDatabase, processWriteBytes } = await import(join(dist, 'src/store/database.js'));
const { SqliteSecurityLog } = await import(join(dist, 'src/store/security-log-repo.js'));

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const ms = (x) => `${x.toFixed(1)} ms`;
const us = (x) => `${(x * 1000).toFixed(0)} µs`;
const line = (label, figure, target) => console.log(`  ${label.padEnd(58)} ${figure.padEnd(26)} ${target}`);

async function timeAsync(n, fn) {
  const t = [];
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await fn(i);
    t.push(performance.now() - s);
  }
  return t.sort((a, b) => a - b);
}

const dir = mkdtempSync(join(tmpdir(), 'bench-certs-'));
const ssl = (args) => execFileSync('openssl', args, { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] }).toString();
try {
  console.log('certificates and security events');
  for (const keyType of ['rsa2048', 'ec-p256']) {
    const t = await timeAsync(ROUNDS, () => createCsr({ commonName: 'CP-BENCH', organization: 'Bench CPO', keyType }));
    line(`CSR ${keyType} (key pair + request), ${ROUNDS} rounds`, `median ${ms(pct(t, 50))}, worst ${ms(t.at(-1))}`, 'target < 2 s on the board');
  }

  // A CA under an installed root signs each CSR (openssl), then the store verifies and installs it.
  ssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'root.key', '-out', 'root.crt', '-days', '30', '-subj', '/CN=Bench Root', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  writeFileSync(join(dir, 'leaf.ext'), 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
  const store = new CertificateStore({ dataDir: dir });
  store.install('CentralSystemRootCertificate', readFileSync(join(dir, 'root.crt'), 'utf8'));
  const installs = [];
  for (let i = 0; i < ROUNDS; i++) {
    const csr = await createCsr({ commonName: 'CP-BENCH', keyType: 'ec-p256' });
    store.savePendingKey(csr.keyPem);
    writeFileSync(join(dir, 'r.csr'), csr.csrPem);
    const leaf = ssl(['x509', '-req', '-in', 'r.csr', '-CA', 'root.crt', '-CAkey', 'root.key', '-set_serial', String(1000 + i), '-days', '20', '-extfile', 'leaf.ext']);
    const s = performance.now();
    const r = store.installChargePointCertificate(leaf, { commonName: 'CP-BENCH' });
    installs.push(performance.now() - s);
    if (r.status !== 'Accepted') throw new Error(`bench: install refused: ${r.reason}`);
  }
  installs.sort((a, b) => a - b);
  line('CertificateSigned: verify chain + key, atomic install', `median ${ms(pct(installs, 50))}, worst ${ms(installs.at(-1))}`, 'target < 100 ms');

  for (let i = store.count('CentralSystemRootCertificate'); i < 20; i++) {
    ssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `r${i}.key`, '-out', `r${i}.crt`, '-days', '30', '-subj', `/CN=Root ${i}`, '-addext', 'basicConstraints=critical,CA:TRUE']);
    store.install(i % 2 ? 'ManufacturerRootCertificate' : 'CentralSystemRootCertificate', readFileSync(join(dir, `r${i}.crt`), 'utf8'));
  }
  const lists = await timeAsync(ROUNDS * 5, () => store.list('CentralSystemRootCertificate'));
  line('GetInstalledCertificateIds over a full store (20 roots)', `median ${ms(pct(lists, 50))}, worst ${ms(lists.at(-1))}`, 'target < 50 ms');

  const db = new AgentDatabase(join(dir, 'agent.db'));
  const log = new SqliteSecurityLog(db);
  for (let i = 0; i < 10_000; i++) log.append({ atMs: i, type: 'InvalidMessages', techInfo: 'warm-up' });
  const before = processWriteBytes();
  const appends = [];
  const N = 2_000;
  for (let i = 0; i < N; i++) {
    const s = performance.now();
    log.append({ atMs: 10_000 + i, type: 'SettingSystemTime', techInfo: 'set from the CSMS time, moved by 3.2 s' });
    appends.push(performance.now() - s);
  }
  const after = processWriteBytes();
  appends.sort((a, b) => a - b);
  line(`security log append at the 10,000 bound (${N} appends)`, `median ${us(pct(appends, 50))}, p99 ${us(pct(appends, 99))}`, 'target < 1 ms');
  if (before !== null && after !== null) line('  bytes written per append (lazy commit, WAL)', `${Math.round((after - before) / N)} B`, 'target < 4 KiB');
  line('  rows kept', String(log.size()), '10000');
  db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
