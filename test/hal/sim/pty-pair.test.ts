// hal/sim/pty-pair.ts: a raw pty pair for the simulator (controller-serial.md §Link:
// 8-bit clean bytes) that can vanish and come back (§Link health), with the socat
// backend (auto, when installed) and the python fallback.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, existsSync, lstatSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { commandOnPath, openPtyPair, relayScriptPath, type PtyBackend, type PtyPair } from '../../../hal/sim/pty-pair.js';
import { SerialPort } from 'serialport';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function openPort(path: string): Promise<SerialPort> {
  const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
  port.on('error', () => {});
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  cleanups.push(async () => {
    if (port.isOpen) await new Promise<void>((r) => port.close(() => r()));
  });
  return port;
}

function collect(port: SerialPort, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let got = 0;
  return new Promise((resolve) => {
    const onData = (c: Buffer): void => {
      chunks.push(c);
      got += c.length;
      if (got >= n) {
        port.off('data', onData);
        resolve(Buffer.concat(chunks));
      }
    };
    port.on('data', onData);
  });
}

function linkPresent(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function open(backend: PtyBackend | 'auto'): Promise<PtyPair> {
  const pair = await openPtyPair({ backend });
  cleanups.push(() => pair.close());
  return pair;
}

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

describe('openPtyPair', () => {
  it('auto picks socat exactly when it is on PATH', async () => {
    const pair = await open('auto');
    expect(pair.backend).toBe(commandOnPath('socat') ? 'socat' : 'python');
  });

  it('finds the python relay script from the TS sources', () => {
    expect(relayScriptPath()).toMatch(/hal\/sim\/pty-relay\.py$/);
    expect(existsSync(relayScriptPath())).toBe(true);
  });

  for (const backend of ['auto', 'python'] as const) {
    describe(`backend ${backend}`, () => {
      it('carries every byte value unchanged in both directions (raw, no echo)', async () => {
        const pair = await open(backend);
        const agent = await openPort(pair.agentPath);
        const ctrl = await openPort(pair.controllerPath);
        const atCtrl = collect(ctrl, 256);
        agent.write(ALL_BYTES);
        expect(await atCtrl).toEqual(ALL_BYTES);
        const atAgent = collect(agent, 256);
        ctrl.write(ALL_BYTES);
        expect(await atAgent).toEqual(ALL_BYTES);
        // No echo: the agent got exactly the controller's 256 bytes, nothing of its own.
        const more = collect(agent, 3);
        ctrl.write('ok\n');
        expect((await more).toString()).toBe('ok\n');
      });

      it('sets VMIN 1 / VTIME 0 on both ends, so an idle non-blocking read waits instead of returning 0', async () => {
        const pair = await open(backend);
        for (const p of [pair.agentPath, pair.controllerPath]) {
          const out = execFileSync('python3', [
            '-c',
            'import os,sys,termios\nfd=os.open(sys.argv[1],os.O_RDWR|os.O_NOCTTY)\nc=termios.tcgetattr(fd)[6]\nn=lambda v: v if isinstance(v,int) else v[0]\nprint(n(c[termios.VMIN]),n(c[termios.VTIME]))',
            p,
          ]).toString();
          expect(out.trim()).toBe('1 0');
        }
      });

      it('kill() makes both paths vanish and hangs up open ends; restart() brings them back', async () => {
        const pair = await open(backend);
        // A plain non-blocking fd on the agent end: EAGAIN while the pair lives, EOF/EIO once hung up.
        const fd = openSync(pair.agentPath, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
        cleanups.push(async () => closeSync(fd));
        expect(readState(fd)).toBe('EAGAIN');
        pair.kill();
        expect(linkPresent(pair.agentPath)).toBe(false);
        expect(linkPresent(pair.controllerPath)).toBe(false);
        await until(() => readState(fd) === 'hung-up', 'hang-up of the open agent end');

        await pair.restart();
        expect(linkPresent(pair.agentPath)).toBe(true);
        expect(linkPresent(pair.controllerPath)).toBe(true);
        const a2 = await openPort(pair.agentPath);
        const c2 = await openPort(pair.controllerPath);
        const got = collect(c2, 6);
        a2.write('again\n');
        expect((await got).toString()).toBe('again\n');
      });

      it('close() ends the relay process and removes the links and its temp dir', async () => {
        const pair = await openPtyPair({ backend });
        const pid = pair.pid;
        expect(pid).toBeTypeOf('number');
        expect(processAlive(pid!)).toBe(true);
        await pair.close();
        expect(processAlive(pid!)).toBe(false);
        expect(linkPresent(pair.agentPath)).toBe(false);
        expect(existsSync(pair.agentPath.replace(/\/agent$/, ''))).toBe(false);
        await pair.close(); // idempotent
      });
    });
  }

  it('the python relay exits and removes its links when its parent dies (no orphan)', async () => {
    // A plain node parent spawns the relay as pty-pair does (stdin a pipe), then is SIGKILLed.
    const script = `
      const { spawn } = require('node:child_process');
      const fs = require('node:fs');
      const dir = fs.mkdtempSync(require('node:os').tmpdir() + '/pty-orphan-');
      const c = spawn('python3', [${JSON.stringify(relayScriptPath())}, dir + '/agent', dir + '/controller'], { stdio: ['pipe', 'ignore', 'inherit'] });
      const t = setInterval(() => { if (fs.existsSync(dir + '/agent')) { clearInterval(t); console.log(c.pid + ' ' + dir); } }, 10);
    `;
    const parent = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
    const [pidText, dir] = line.split(' ');
    const relayPid = Number(pidText);
    expect(processAlive(relayPid)).toBe(true);
    expect(linkPresent(`${dir}/agent`)).toBe(true);
    parent.kill('SIGKILL');
    await until(() => !processAlive(relayPid) || isZombie(relayPid), 'relay exit');
    expect(linkPresent(`${dir}/agent`)).toBe(false);
    expect(linkPresent(`${dir}/controller`)).toBe(false);
    rmSync(dir!, { recursive: true, force: true });
  });
});

/** What a non-blocking read of a tty fd says: no data yet, data, or hung up (EOF or EIO). */
function readState(fd: number): 'EAGAIN' | 'data' | 'hung-up' {
  try {
    return readSync(fd, Buffer.alloc(64)) === 0 ? 'hung-up' : 'data';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN') return 'EAGAIN';
    if (code === 'EIO') return 'hung-up';
    throw err;
  }
}

/** An exited child of a dead parent may linger as a zombie until reparented and reaped. */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.split(') ')[1]?.startsWith('Z') ?? false;
  } catch {
    return true;
  }
}
