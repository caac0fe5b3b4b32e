// THE firmware update contract (README, docs/firmware.md), end to end with real builds and no
// root nor systemd: `npm run release` makes the running build, `scripts/install.sh --destdir`
// installs it into a throwaway root, the launcher runs it from there in the foreground, and the
// bundle command makes the next builds (the same tree with a higher version, or patched so the
// program fails at start). They are served over HTTP and FTP from here; the CSMS is the DevCsms in
// strict mode; the controller a simulator process that outlives the agent like hardware.
// One installed root goes through every case in turn (each starts from the release the one before
// left running): a truncated download and a bundle with a wrong checksum (DownloadFailed, nothing
// installed), a release that fails at start (the old version boots again and says
// InstallationFailed), an update over HTTP (Downloading, Downloaded, Installing, the restart, the
// new version in BootNotification, Installed), one over FTP requested during a transaction (it waits
// for the end; the transaction is reported once), and signed updates with a bad then a good signature.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DevCsms } from '../../src/devtools/dev-csms.js';
import { CertificateStore } from '../../src/security/certificate-store.js';
import { TempDirs } from '../helpers/temp-dirs.js';
import { TestPki, type Issued } from '../helpers/test-pki.js';
import { waitFor } from '../helpers/wait.js';
import { craftBundle, manifestFor } from '../firmware/fixtures.js';
import { serveFtp, serveHttp, type FtpFiles, type HttpFiles } from '../firmware/file-servers.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const SIM_CLI = join(ROOT, 'dist/hal/sim/sim-cli.js');
const BASE = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const LONG = 60_000;
/** One case: an update and a restart or three on a busy machine, well within. */
const CASE = 120_000;
const CP = `CP-FW-${process.pid}`;
const CARD = 'A1B2C3D4';

const temp = new TempDirs();
const pki = new TestPki();
let csms: DevCsms;
let http: HttpFiles;
let ftp: FtpFiles;
let served: string;
let root: string;
let dataDir: string;
let sim: ChildProcess;
let launcher: ChildProcess;
let output = '';
let signer: Issued;
let manufacturer: Issued;

function run(cmd: string, args: string[], what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${what} failed (${code}): ${out}`))));
  });
}

/** A build of `version`: the release tree copied with that version, optionally broken at start. */
function tree(release: string, version: string, broken = false): string {
  const dir = join(temp.make('fw-tree-'), 'charger-agent');
  cpSync(release, dir, { recursive: true, verbatimSymlinks: true });
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ ...pkg, version }, null, 2));
  // The patch: `charger-agent run` loads the chunk holding main.js (dist/start-bundle.json says
  // which), which now throws, so the agent exits 1 at every start.
  if (broken) {
    const { files } = JSON.parse(readFileSync(join(dir, 'dist/start-bundle.json'), 'utf8')) as { files: { file: string; modules: string[] }[] };
    const main = files.find((f) => f.modules.includes('src/main.js'));
    if (main === undefined) throw new Error('no bundle file holds src/main.js');
    appendFileSync(join(dir, 'dist', main.file), "\nthrow new Error('this build is broken on purpose');\n");
  }
  return dir;
}

/** The bundle command, as an operator runs it. */
async function bundle(from: string, version: string, sign = false): Promise<string> {
  const out = join(served, `charger-agent-${version}.tar.gz`);
  const signing = sign ? ['--sign-key', signer.keyPath, '--sign-cert', signer.certPath] : [];
  await run(process.execPath, [join(ROOT, 'scripts/bundle.mjs'), '--version', version, '--out', out, '--from', from, ...signing], `bundle ${version}`);
  return out;
}

const fsn = (): string[] => csms.callsOf('FirmwareStatusNotification').map((c) => String(c.params['status']));
const sfsn = (): Array<Record<string, unknown>> => csms.callsOf('SignedFirmwareStatusNotification').map((c) => c.params);
const boots = (): string[] => csms.callsOf('BootNotification').map((c) => String(c.params['firmwareVersion']));
const current = (): string => readlinkSync(join(root, 'current'));
const releases = (): string[] => readdirSync(join(root, 'releases')).filter((n) => !n.startsWith('.'));
// A retrieve time already passed, by a margin: the agent's clock is the CSMS's time as it learnt
// it, a few milliseconds behind ours under load, and a retrieve time "now" could still lie ahead
// of it (a signed update then reports DownloadScheduled first, rightly).
const due = (): string => new Date(Date.now() - 60_000).toISOString();

async function registeredAs(version: string, bootsBefore: number): Promise<void> {
  await waitFor(() => boots().slice(bootsBefore).includes(version), LONG, `BootNotification of ${version}\n${output.slice(-3000)}`);
  await waitFor(() => csms.isConnected(CP), LONG, 'the connection');
}

/** A firmware status sequence to end with `last`, then exactly `expected` since `mark`. */
async function statusesSince(mark: number, last: string, expected: string[]): Promise<void> {
  await waitFor(() => fsn().slice(mark).includes(last), LONG, `${last}\n${output.slice(-3000)}`);
  expect(fsn().slice(mark)).toEqual(expected);
}

beforeAll(async () => {
  // The running build: the production tree, installed by install.sh into a throwaway root.
  const release = join(temp.make('fw-release-'), 'charger-agent');
  await run(process.execPath, [join(ROOT, 'scripts/release.mjs'), '--out', release], 'npm run release');
  const dest = temp.make('fw-destdir-');
  const inst = spawnSync('sh', [join(ROOT, 'scripts/install.sh'), '--destdir', dest, '--from', release, '--node', '/usr/bin/node'], { encoding: 'utf8', timeout: 120_000 });
  if (inst.status !== 0) throw new Error(`install.sh failed: ${inst.stderr}`);
  root = join(dest, 'opt/charger-agent');

  // The next builds, made with the bundle command (two at a time: the machine has two cores).
  served = temp.make('fw-served-');
  manufacturer = pki.root('Manufacturer Root');
  signer = pki.issue('Firmware Signer', manufacturer);
  await Promise.all([bundle(tree(release, `${BASE}-broken`, true), `${BASE}-broken`), bundle(tree(release, '90.1.0'), '90.1.0')]);
  await Promise.all([bundle(tree(release, '90.2.0'), '90.2.0'), bundle(tree(release, '90.3.0'), '90.3.0', true)]);
  // A bundle whose file does not match its manifest's SHA-256.
  const entries = [{ path: 'release/dist/src/cli.js', data: 'console.log(1)\n' }];
  const manifest = manifestFor('90.9.0', entries);
  await craftBundle(join(served, 'checksum.tar.gz'), manifest, [{ ...entries[0]!, data: 'console.log(2)\n' }]);

  http = await serveHttp(served);
  ftp = await serveFtp(served);
  csms = new DevCsms({ heartbeatIntervalS: 300 });
  await csms.start();

  // The controller: a simulator process with two connectors, which outlives the agent's restarts.
  sim = spawn(process.execPath, [SIM_CLI, '--quiet', '--connectors', '2', '--time-scale', '20'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let simOut = '';
  sim.stdout!.on('data', (c: Buffer) => (simOut += c.toString()));
  await waitFor(() => /agent side: (\S+)/.test(simOut), 15_000, 'the simulator');
  const simPath = /agent side: (\S+)/.exec(simOut)![1]!;

  dataDir = temp.make('fw-data-');
  const config = join(temp.make('fw-config-'), 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      chargePointId: CP,
      csms: { url: csms.url, securityProfile: 0, basicAuthPassword: null },
      controller: { port: simPath, baudRate: 115200 },
      dataDir,
      diagnosticsSocket: join(dataDir, 'diag.sock'),
      identity: { vendor: 'Acme', model: 'AC22' },
      logLevel: 'info',
    }),
  );
  // The contract: the launcher from the install root, in the foreground (it plays Restart=always).
  const env = { ...process.env };
  delete env['INVOCATION_ID'];
  launcher = spawn(process.execPath, [join(root, 'bin/launcher.js'), '--foreground', '--restart-delay', '100', 'run', '--config', config], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  launcher.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  launcher.stderr!.on('data', (c: Buffer) => (output += c.toString()));
}, 300_000);

afterAll(async () => {
  for (const child of [launcher, sim]) {
    if (child === undefined || child.exitCode !== null) continue;
    const exited = new Promise((r) => child.once('exit', r));
    if (child === sim) child.stdin!.end();
    else child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  }
  await ftp?.close();
  await http?.close();
  await csms?.stop();
  temp.removeAll();
  pki.cleanup();
}, 60_000);

describe('firmware update contract (install.sh --destdir, the launcher in the foreground, two real builds)', () => {
  it('the installed release runs and registers with its version', async () => {
    await registeredAs(BASE, 0);
    expect(current()).toBe(`releases/${BASE}`);
  }, CASE);

  it('a truncated download and a wrong checksum: DownloadFailed, nothing installed', async () => {
    let mark = fsn().length;
    http.truncateNext();
    await csms.call(CP, 'UpdateFirmware', { location: http.url('charger-agent-90.1.0.tar.gz'), retrieveDate: due(), retries: 0 });
    await statusesSince(mark, 'DownloadFailed', ['Downloading', 'DownloadFailed']);
    mark = fsn().length;
    await csms.call(CP, 'UpdateFirmware', { location: http.url('checksum.tar.gz'), retrieveDate: due(), retries: 0 });
    await statusesSince(mark, 'DownloadFailed', ['Downloading', 'DownloadFailed']);
    expect(releases()).toEqual([BASE]);
    expect(current()).toBe(`releases/${BASE}`);
    expect(readdirSync(join(dataDir, 'firmware'))).toEqual([]);
  }, CASE);

  it('a release that fails at start: the old version comes back and reports InstallationFailed', async () => {
    const mark = fsn().length;
    const bootsBefore = boots().length;
    await csms.call(CP, 'UpdateFirmware', { location: http.url(`charger-agent-${BASE}-broken.tar.gz`), retrieveDate: due(), retries: 0 });
    await statusesSince(mark, 'InstallationFailed', ['Downloading', 'Downloaded', 'Installing', 'InstallationFailed']);
    expect(boots().slice(bootsBefore)).toEqual([BASE]);
    expect(current()).toBe(`releases/${BASE}`);
    expect(output).toMatch(/failed its trial \(not marked healthy after 3 starts\)/);
  }, CASE);

  it('an update over HTTP: Downloading, Downloaded, Installing, the restart, BootNotification with the new version, Installed', async () => {
    const mark = fsn().length;
    const bootsBefore = boots().length;
    await csms.call(CP, 'UpdateFirmware', { location: http.url('charger-agent-90.1.0.tar.gz'), retrieveDate: due(), retries: 1, retryInterval: 5 });
    await statusesSince(mark, 'Installed', ['Downloading', 'Downloaded', 'Installing', 'Installed']);
    expect(boots().slice(bootsBefore)).toEqual(['90.1.0']);
    expect(current()).toBe('releases/90.1.0');
    // On trial, it copied the database before migrating it; healthy, the copy is gone.
    expect(output).toMatch(/database copied before this release on trial migrates it/);
    expect(existsSync(join(root, 'state/database-before-90.1.0.sqlite'))).toBe(false);
    // The trial ended with the health mark; the previous release stays for the next rollback.
    expect(JSON.parse(readFileSync(join(root, 'state/update.json'), 'utf8'))).toMatchObject({ trial: null, outcome: null });
    expect(releases().sort()).toEqual([BASE, '90.1.0'].sort());
  }, CASE);

  it('an update over FTP during a transaction waits for its end; the transaction is reported once', async () => {
    const mark = fsn().length;
    const callsBefore = csms.received.length;
    sim.stdin!.write(`plug 1\ncard ${CARD}\n`);
    await waitFor(() => csms.received.slice(callsBefore).some((c) => c.action === 'StartTransaction'), LONG, 'StartTransaction');
    const status = (connectorId: number): string | undefined =>
      csms.received.slice(callsBefore).filter((c) => c.action === 'StatusNotification' && c.params['connectorId'] === connectorId).map((c) => String(c.params['status'])).at(-1);
    sim.stdin!.write('charge 1\n');
    await waitFor(() => status(1) === 'Charging', LONG, 'Charging');
    await csms.call(CP, 'UpdateFirmware', { location: ftp.url('charger-agent-90.2.0.tar.gz'), retrieveDate: due(), retries: 0 });
    await waitFor(() => fsn().slice(mark).includes('Downloaded'), LONG, 'Downloaded');
    // The free connector goes Unavailable, the busy one charges on; nothing is installed yet.
    await waitFor(() => status(2) === 'Unavailable', LONG, 'connector 2 Unavailable');
    await new Promise((r) => setTimeout(r, 1500));
    expect(fsn().slice(mark)).toEqual(['Downloading', 'Downloaded']);
    expect(status(1)).toBe('Charging');
    const bootsBefore = boots().length;
    sim.stdin!.write('unplug 1\n');
    await statusesSince(mark, 'Installed', ['Downloading', 'Downloaded', 'Installing', 'Installed']);
    expect(boots().slice(bootsBefore)).toEqual(['90.2.0']);
    await waitFor(() => status(2) === 'Available', LONG, 'connector 2 Available again');
    await new Promise((r) => setTimeout(r, 1000));
    const tx = csms.received.slice(callsBefore).filter((c) => c.action === 'StartTransaction' || c.action === 'StopTransaction');
    expect(tx.map((c) => c.action)).toEqual(['StartTransaction', 'StopTransaction']);
  }, CASE);

  it('signed: a bad signature is refused with nothing installed, a good one installs', async () => {
    expect(new CertificateStore({ dataDir }).install('ManufacturerRootCertificate', manufacturer.cert)).toEqual({ status: 'Accepted' });
    const file = join(served, 'charger-agent-90.3.0.tar.gz');
    const signature = readFileSync(`${file}.sig`, 'utf8').trim();
    const signingCertificate = readFileSync(`${file}.cert.pem`, 'utf8');
    const forged = Buffer.from(signature, 'base64');
    forged[8] = forged[8]! ^ 0x01;
    const firmware = { location: http.url('charger-agent-90.3.0.tar.gz'), retrieveDateTime: due(), signingCertificate };
    let mark = sfsn().length;
    expect(await csms.call(CP, 'SignedUpdateFirmware', { requestId: 11, retries: 0, firmware: { ...firmware, signature: forged.toString('base64') } })).toEqual({ status: 'Accepted' });
    await waitFor(() => sfsn().slice(mark).some((p) => p['status'] === 'InvalidSignature'), LONG, 'InvalidSignature');
    expect(sfsn().slice(mark).map((p) => p['status'])).toEqual(['Downloading', 'Downloaded', 'InvalidSignature']);
    expect(current()).toBe('releases/90.2.0');

    mark = sfsn().length;
    const bootsBefore = boots().length;
    expect(await csms.call(CP, 'SignedUpdateFirmware', { requestId: 12, retries: 0, firmware: { ...firmware, signature } })).toEqual({ status: 'Accepted' });
    await waitFor(() => sfsn().slice(mark).some((p) => p['status'] === 'Installed'), LONG, `Installed\n${output.slice(-3000)}`);
    expect(sfsn().slice(mark)).toEqual(
      ['Downloading', 'Downloaded', 'SignatureVerified', 'Installing', 'InstallRebooting', 'Installed'].map((status) => ({ status, requestId: 12 })),
    );
    expect(boots().slice(bootsBefore)).toEqual(['90.3.0']);
    expect(current()).toBe('releases/90.3.0');
    expect(csms.strictFailures).toEqual([]);
  }, CASE);

  it('the launcher stops with the agent on SIGTERM', async () => {
    const exited = new Promise<number | null>((r) => launcher.once('exit', (code) => r(code)));
    launcher.kill('SIGTERM');
    expect(await exited).toBe(0);
    // No leftovers of the installs and refusals.
    expect(existsSync(join(root, 'staging')) ? readdirSync(join(root, 'staging')) : []).toEqual([]);
  }, CASE);
});
