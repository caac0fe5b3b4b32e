// A pair of connected raw pseudo-terminals (agent end, controller end) as a child
// process: socat when installed, else hal/sim/pty-relay.py. Lets the real serial
// driver talk to the simulator (controller-serial.md §Link) and lets tests make
// the device vanish and come back (§Link health: "it may vanish and come back").
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, lstatSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type PtyBackend = 'socat' | 'python';

export interface PtyPairOptions {
  /** Directory for the two links `agent` and `controller`; a fresh temp dir (removed on close) by default. */
  dir?: string;
  /** `auto` (default): socat when on PATH, else the python relay. */
  backend?: PtyBackend | 'auto';
  /** How long to wait for the links to appear (default 5000 ms). */
  readyTimeoutMs?: number;
}

export interface PtyPair {
  /** Open this with the serial driver. */
  readonly agentPath: string;
  /** Open this with the simulated controller. */
  readonly controllerPath: string;
  readonly backend: PtyBackend;
  /** Process id of the running relay (undefined after kill()/close()). */
  readonly pid: number | undefined;
  /** Stop the relay and remove the links (and the temp dir if we made it). Idempotent. */
  close(): Promise<void>;
  /** Simulate the device vanishing: the relay dies now, both paths disappear, open ends see a hang-up. */
  kill(): void;
  /** Bring the pair back at the same paths (after kill()). */
  restart(): Promise<void>;
}

const DEFAULT_READY_TIMEOUT_MS = 5000;

/** True when `cmd` is an executable file in a PATH directory. */
export function commandOnPath(cmd: string): boolean {
  for (const d of (process.env['PATH'] ?? '').split(delimiter)) {
    if (d === '') continue;
    try {
      accessSync(join(d, cmd), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

/**
 * Path of pty-relay.py: next to this module if present, else under the package root
 * (compiled JS runs from dist/hal/sim/, where the .py is not copied).
 */
export function relayScriptPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = join(here, 'pty-relay.py');
  if (existsSync(beside)) return beside;
  let dir = here;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) {
      const p = join(dir, 'hal', 'sim', 'pty-relay.py');
      if (existsSync(p)) return p;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`pty-relay.py not found above ${here}`);
    dir = up;
  }
}

function linkExists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function removeLink(p: string): void {
  try {
    unlinkSync(p);
  } catch {
    // already gone
  }
}

// Pairs still open when the process exits are killed: no orphan relays, no stale links.
const livePairs = new Set<ChildPtyPair>();
let exitHookInstalled = false;
function track(pair: ChildPtyPair): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const p of livePairs) p.killAndForget();
    });
  }
  livePairs.add(pair);
}

class ChildPtyPair implements PtyPair {
  readonly agentPath: string;
  readonly controllerPath: string;
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly dir: string,
    private readonly ownsDir: boolean,
    readonly backend: PtyBackend,
    private readonly readyTimeoutMs: number,
  ) {
    this.agentPath = join(dir, 'agent');
    this.controllerPath = join(dir, 'controller');
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async startChild(): Promise<void> {
    // Stale links from a relay that was SIGKILLed would look "ready" at once.
    removeLink(this.agentPath);
    removeLink(this.controllerPath);
    // min=1,time=0: socat's `raw` leaves VMIN 0, and a non-blocking read of an idle tty
    // with VMIN 0 returns 0 instead of EAGAIN: serialport then re-reads in a busy loop
    // and never notices the hang-up when the pair is killed.
    const pty = (link: string): string => `PTY,link=${link},raw,echo=0,min=1,time=0`;
    const child =
      this.backend === 'socat'
        ? spawn('socat', ['-d', '-d', pty(this.agentPath), pty(this.controllerPath)], { stdio: ['ignore', 'ignore', 'pipe'] })
        : // stdin is a pipe the relay watches: when this process dies, the relay sees EOF and exits.
          spawn('python3', [relayScriptPath(), this.agentPath, this.controllerPath], { stdio: ['pipe', 'ignore', 'pipe'] });
    this.child = child;
    track(this);
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (s: string) => {
      if (stderr.length < 4096) stderr += s;
    });
    let exitInfo: string | null = null;
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exitInfo = `code ${String(code)} signal ${String(signal)}`;
        resolve();
      });
      child.once('error', (err) => {
        exitInfo = err.message;
        resolve();
      });
    });
    const deadline = Date.now() + this.readyTimeoutMs;
    while (!(linkExists(this.agentPath) && linkExists(this.controllerPath))) {
      if (exitInfo !== null) throw new Error(`${this.backend} pty relay exited (${exitInfo}): ${stderr.trim()}`);
      if (Date.now() > deadline) {
        this.kill();
        throw new Error(`${this.backend} pty relay: links did not appear within ${this.readyTimeoutMs} ms: ${stderr.trim()}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  kill(): void {
    const child = this.child;
    this.child = null;
    // SIGKILL, not SIGTERM: on SIGTERM socat restores the ptys' termios, which
    // waits for output to drain and can block its exit for many seconds while
    // the other end is still open. The links are removed here instead, so the
    // vanishing is visible as soon as kill() returns.
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    removeLink(this.agentPath);
    removeLink(this.controllerPath);
  }

  /** Synchronous teardown for process exit: kill, remove links and our temp dir. */
  killAndForget(): void {
    this.closed = true;
    this.kill();
    if (this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }

  async restart(): Promise<void> {
    if (this.closed) throw new Error('pty pair is closed');
    this.kill();
    // The old relay's exit cleanup must not race the new relay's links.
    await this.exited;
    await this.startChild();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.kill();
    await this.exited;
    livePairs.delete(this);
    if (this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Open a connected pair of raw ptys; resolves once both links exist. */
export async function openPtyPair(opts: PtyPairOptions = {}): Promise<PtyPair> {
  const wanted = opts.backend ?? 'auto';
  const backend: PtyBackend = wanted === 'auto' ? (commandOnPath('socat') ? 'socat' : 'python') : wanted;
  const ownsDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'charger-pty-'));
  const pair = new ChildPtyPair(dir, ownsDir, backend, opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
  try {
    await pair.startChild();
  } catch (err) {
    await pair.close();
    throw err;
  }
  return pair;
}
