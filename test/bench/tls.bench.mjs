// `npm run bench` (TLS part): a security-profile-2 connection from the agent's transport to a local
// TLS CSMS: TLS handshake + our certificate checks + WebSocket upgrade (median, p99), for an EC P-256
// and an RSA-2048 server certificate, beside plain ws://; then the client's RSS delta per open TLS
// connection. The client runs in a child process (the server's memory is not counted). Then the
// idle agent itself (`cli.js run`, simulated controller) connected with security profile 0, 2 and 3
// to the dev CSMS: its RSS after BENCH_TLS_IDLE_SECONDS, the cost of TLS on the idle agent. Prints
// figures; asserts nothing. Runs against the compiled code in dist/ (build first).
// Env: BENCH_TLS_CONNECTS (default 100), BENCH_TLS_HOLD (connections held for the RSS figure, default 50),
// BENCH_TLS_IDLE_SECONDS (default 30).
import { execFileSync, fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttp } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const CONNECTS = Number(process.env.BENCH_TLS_CONNECTS ?? 100);
const HOLD = Number(process.env.BENCH_TLS_HOLD ?? 50);
const IDLE_S = Number(process.env.BENCH_TLS_IDLE_SECONDS ?? 30);
const KEY = '00112233445566778899aabbccddeeff';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const fmt = (ms) => `${ms.toFixed(2)} ms`;

async function client() {
  const { WsTransport } = await import(join(root, 'dist/src/ocpp/transport/ws-transport.js'));
  const { url, ca } = JSON.parse(process.argv[3]);
  const make = () =>
    new WsTransport({
      url,
      chargePointId: 'CP-BENCH-TLS',
      securityProfile: url.startsWith('wss:') ? 2 : 1,
      authorizationKey: 'bench-key-0123456789',
      ...(ca !== undefined ? { ca: [ca] } : {}),
      pingIntervalSeconds: 0,
      reconnect: { baseDelayMs: 60_000, maxDelayMs: 60_000 },
    });
  const openOne = async () => {
    const t = make();
    const opened = once(t, 'open');
    const started = performance.now();
    t.open();
    await opened;
    return { t, ms: performance.now() - started };
  };
  for (let i = 0; i < 5; i++) await (await openOne()).t.close(); // warm-up: JIT, OpenSSL tables
  const times = [];
  for (let i = 0; i < CONNECTS; i++) {
    const { t, ms } = await openOne();
    times.push(ms);
    await t.close();
  }
  global.gc();
  await new Promise((r) => setTimeout(r, 200));
  global.gc();
  const mem = () => {
    const m = process.memoryUsage();
    return { rss: m.rss, js: m.heapUsed + m.external };
  };
  const before = mem();
  const held = [];
  for (let i = 0; i < HOLD; i++) held.push((await openOne()).t);
  global.gc();
  await new Promise((r) => setTimeout(r, 200));
  global.gc();
  const after = mem();
  for (const t of held) await t.close();
  process.send({ times: times.sort((a, b) => a - b), rssPerConnection: (after.rss - before.rss) / HOLD, jsPerConnection: (after.js - before.js) / HOLD });
}

async function server(options) {
  const { WebSocketServer } = await import('ws');
  const srv = options === null ? createHttp() : createHttps(options);
  const wss = new WebSocketServer({ server: srv, handleProtocols: () => 'ocpp1.6' });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return { srv, wss, url: `${options === null ? 'ws' : 'wss'}://127.0.0.1:${srv.address().port}/ocpp` };
}

async function measure(label, options, ca) {
  const { srv, wss, url } = await server(options);
  const child = fork(new URL(import.meta.url).pathname, ['client', JSON.stringify({ url, ca })], { execArgv: ['--expose-gc'] });
  const [result] = await once(child, 'message');
  await once(child, 'exit');
  for (const c of wss.clients) c.terminate();
  srv.close();
  const t = result.times;
  console.log(
    `${label.padEnd(28)} connect+upgrade median ${fmt(pct(t, 50))}, p99 ${fmt(pct(t, 99))} (n=${t.length});` +
      ` per open connection: RSS ${(result.rssPerConnection / 1024).toFixed(0)} KiB, JS heap+external ${(result.jsPerConnection / 1024).toFixed(0)} KiB (${HOLD} held)`,
  );
}

/** The built agent idle on one security profile: RSS (median of the last 5 one-second samples). */
async function idleAgent(dir, profile) {
  const { DevCsms } = await import(join(root, 'dist/src/devtools/dev-csms.js'));
  const csms = new DevCsms({ security: { pkiDir: dir, authorizationKey: KEY } });
  await csms.start();
  const f = (n) => join(dir, n);
  const csmsCfg =
    profile === 0
      ? { url: csms.url, securityProfile: 0 }
      : profile === 2
        ? { url: csms.wssUrl, securityProfile: 2, basicAuthPassword: KEY, caFile: f('csms-root-ca.crt') }
        : { url: csms.wssUrl, securityProfile: 3, caFile: f('csms-root-ca.crt'), clientCertFile: f('charge-point-chain.crt'), clientKeyFile: f('charge-point.key') };
  const run = mkdtempSync(join(tmpdir(), `bench-tls-agent-${profile}-`));
  writeFileSync(
    join(run, 'config.json'),
    JSON.stringify({ chargePointId: 'CP-DEV-1', csms: csmsCfg, controller: { simulated: true }, dataDir: join(run, 'data'), diagnosticsSocket: join(run, 'diag.sock'), identity: { vendor: 'Acme', model: 'AC22' }, logLevel: 'warn' }),
  );
  const child = spawn(process.execPath, [join(root, 'dist/src/cli.js'), 'run', '--config', join(run, 'config.json')], { stdio: 'ignore' });
  try {
    const end = Date.now() + 30_000;
    while (csms.callsOf('BootNotification').length === 0) {
      if (Date.now() > end) throw new Error(`bench: the agent did not boot with profile ${profile}`);
      await sleep(50);
    }
    await sleep(Math.max(0, IDLE_S - 5) * 1000);
    const samples = [];
    for (let i = 0; i < 5; i++) {
      samples.push(Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]));
      await sleep(1000);
    }
    const admitted = csms.admissions.filter((a) => a.refused === undefined).at(-1);
    return { rssKiB: samples.sort((a, b) => a - b)[2], admitted };
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
    await csms.stop();
    rmSync(run, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'client') {
  await client();
} else {
  const dir = mkdtempSync(join(tmpdir(), 'bench-tls-'));
  try {
    execFileSync(join(root, 'certs/make-dev-pki.sh'), [dir], { stdio: 'ignore' });
    const f = (n) => join(dir, n);
    execFileSync('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('rsa.key'), '-out', f('rsa.csr'), '-subj', '/CN=localhost'], { stdio: 'ignore' });
    writeFileSync(f('rsa.ext'), 'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n');
    execFileSync('openssl', ['x509', '-req', '-in', f('rsa.csr'), '-CA', f('csms-root-ca.crt'), '-CAkey', f('csms-root-ca.key'), '-CAcreateserial', '-days', '30', '-extfile', f('rsa.ext'), '-out', f('rsa.crt')], { stdio: 'ignore' });
    const ca = readFileSync(f('csms-root-ca.crt'), 'utf8');
    console.log('TLS connection (security profile 2; budget: connect+upgrade well under 1 s on the board, RSS < 256 KiB per connection)');
    await measure('ws:// (profile 1, baseline)', null, undefined);
    await measure('wss:// EC P-256 server', { cert: readFileSync(f('csms-server.crt')), key: readFileSync(f('csms-server.key')) }, ca);
    await measure('wss:// RSA-2048 server', { cert: readFileSync(f('rsa.crt')), key: readFileSync(f('rsa.key')) }, ca);
    console.log(`Idle agent (cli.js run, simulated controller) connected to the dev CSMS, RSS after ${IDLE_S} s (budget: TLS adds < 4 MiB)`);
    const base = await idleAgent(dir, 0);
    console.log(`  profile 0 (ws://)               RSS ${(base.rssKiB / 1024).toFixed(1)} MiB`);
    for (const profile of [2, 3]) {
      const r = await idleAgent(dir, profile);
      const delta = (r.rssKiB - base.rssKiB) / 1024;
      console.log(`  profile ${profile} (${profile === 2 ? 'wss:// + Basic)      ' : 'wss:// + client cert)'} RSS ${(r.rssKiB / 1024).toFixed(1)} MiB, TLS costs ${delta >= 0 ? '+' : ''}${delta.toFixed(1)} MiB (admitted as profile ${r.admitted?.profile})`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
