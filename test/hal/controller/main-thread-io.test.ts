// Serial reads and writes run on the main thread (main-thread-io.ts), not in libuv's thread
// pool: with every pool thread held up, the driver still sends, gets its answers and keeps the
// link. The simulator runs in its own process (sim-cli from dist/, so build first) so that only
// the driver's I/O shares this process's pool.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, mkdtempSync, open, openSync, stat } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialController } from '../../../hal/controller/serial-controller.js';
import { waitFor, waitForEvent } from '../../helpers/wait.js';

const SIM_CLI = join(new URL('../../..', import.meta.url).pathname, 'dist/hal/sim/sim-cli.js');

let sim: ChildProcess | null = null;
let driver: SerialController | null = null;
let release: (() => void) | null = null;

afterEach(async () => {
  release?.();
  release = null;
  await driver?.stop();
  driver = null;
  if (sim && sim.exitCode === null) {
    const exited = new Promise((r) => sim!.once('exit', r));
    sim.kill('SIGTERM');
    await exited;
  }
  sim = null;
});

/** The simulator in a child process; resolves with the agent end of its pty. */
async function simulatorProcess(): Promise<string> {
  const child = spawn(process.execPath, [SIM_CLI, '--quiet', '--stay', '--connectors', '1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  sim = child;
  let out = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (s: string) => (out += s));
  await waitFor(() => /agent side: (\S+)/.test(out) || child.exitCode !== null, 15_000, 'simulator process');
  const path = /agent side: (\S+)/.exec(out)?.[1];
  if (!path) throw new Error(`sim-cli did not start: ${out}`);
  return path;
}

/** Holds every thread of this process's libuv pool in open(2) of a FIFO that has no writer yet. */
function fillThreadPool(): () => void {
  const size = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  const dir = mkdtempSync(join(tmpdir(), 'ca-pool-'));
  const fifos: string[] = [];
  for (let i = 0; i < size; i++) {
    const fifo = join(dir, `f${i}`);
    execFileSync('mkfifo', [fifo]);
    fifos.push(fifo);
    open(fifo, 'r', (err, fd) => {
      if (!err) closeSync(fd);
    });
  }
  return () => {
    // A writer lets each blocked open return.
    for (const f of fifos) closeSync(openSync(f, constants.O_WRONLY | constants.O_NONBLOCK));
  };
}

describe('serial I/O on the main thread', () => {
  it('keeps commands answered and the link up while the thread pool is full', async () => {
    const path = await simulatorProcess();
    const d = new SerialController({ path });
    driver = d;
    const linkUp = waitForEvent(d, 'linkUp');
    await d.start();
    await linkUp;
    let acks = 0;
    d.on('wire', (dir, line) => {
      if (dir === 'rx' && line.startsWith('$ACK')) acks++;
    });

    release = fillThreadPool();
    let poolWorked = false;
    stat(path, () => (poolWorked = true));
    await d.readMeter(1);
    const before = acks;
    // Keep-alive PINGs answered while the pool stays full.
    await waitFor(() => acks >= before + 3, 10_000, 'three more answers');
    expect(poolWorked).toBe(false); // the pool really was full all along
    expect(d.isLinkUp).toBe(true);
    expect(d.counters().linkDowns).toBe(0);
    release();
    release = null;
    await waitFor(() => poolWorked, 10_000, 'pool free again');
  });

  it('mainThreadIo false keeps serialport\'s own thread-pool I/O', async () => {
    const path = await simulatorProcess();
    const d = new SerialController({ path, mainThreadIo: false });
    driver = d;
    const linkUp = waitForEvent(d, 'linkUp');
    await d.start();
    await linkUp;
    release = fillThreadPool();
    await expect(d.readMeter(1)).rejects.toThrow(/no answer|link/);
  });
});
