// Test helper: a bare agent end for the simulator tests, a plain SerialPort plus
// the codec (controller-serial.md §Frame), independent of the real driver.
// Records every decoded frame in order and waits for frames by predicate.
import { SerialPort } from 'serialport';
import { decodeLine, encodeFrame } from '../../../hal/controller/protocol/frame-codec.js';
import type { CommandFrame, EventFrame, FrameOf } from '../../../hal/controller/protocol/frame-table.js';
import { LineFramer } from '../../../hal/controller/protocol/line-framer.js';

type Answer = FrameOf<'ACK'> | FrameOf<'NAK'>;
type CommandBody = CommandFrame extends infer F ? (F extends CommandFrame ? Omit<F, 'seq'> : never) : never;

interface Waiter {
  from: number;
  pred: (f: EventFrame) => boolean;
  resolve: (f: EventFrame) => void;
}

/** Failure timeout only (a hung test), never a timing assertion. */
const WAIT_MS = 8000;

export class WireAgent {
  /** Every well-formed frame received, in wire order. */
  readonly frames: EventFrame[] = [];
  /** Lines that did not decode. */
  readonly bad: string[] = [];
  closedByDevice = false;
  private readonly framer = new LineFramer();
  private waiters: Waiter[] = [];
  private seq = 0;

  private constructor(private readonly port: SerialPort) {
    port.on('data', (chunk: Buffer) => {
      for (const line of this.framer.push(chunk)) {
        const r = decodeLine(line.toString('latin1'), 'event');
        if (!r.ok) {
          this.bad.push(line.toString('latin1'));
          continue;
        }
        this.frames.push(r.frame as EventFrame);
        this.wake();
      }
    });
    port.on('close', (err: { disconnected?: boolean } | null) => {
      if (err?.disconnected) this.closedByDevice = true;
    });
    port.on('error', () => {});
  }

  static async open(path: string): Promise<WireAgent> {
    const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    return new WireAgent(port);
  }

  get isOpen(): boolean {
    return this.port.isOpen;
  }

  /** Index of the next frame to arrive. */
  mark(): number {
    return this.frames.length;
  }

  writeRaw(text: string | Buffer): void {
    this.port.write(text);
  }

  /** Send a command with the next seq (or the given one); returns the seq used. */
  send(body: CommandBody, seq?: number): number {
    const s = seq ?? (this.seq = (this.seq % 65535) + 1);
    this.port.write(encodeFrame({ ...body, seq: s } as CommandFrame));
    return s;
  }

  /** Send and wait for the ACK/NAK with that seq; `events` are the frames that arrived in between. */
  async command(body: CommandBody, seq?: number): Promise<{ answer: Answer; events: EventFrame[]; seq: number }> {
    const from = this.mark();
    const s = this.send(body, seq);
    const answer = (await this.waitFor((f) => (f.type === 'ACK' || f.type === 'NAK') && f.seq === s, from)) as Answer;
    const idx = this.frames.indexOf(answer, from);
    return { answer, events: this.frames.slice(from, idx), seq: s };
  }

  /** First frame at index >= from matching pred, waiting for it if needed. */
  waitFor(pred: (f: EventFrame) => boolean, from = 0, what = 'frame'): Promise<EventFrame> {
    const hit = this.frames.slice(from).find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise<EventFrame>((resolve, reject) => {
      const w: Waiter = { from, pred, resolve: (f) => (clearTimeout(t), resolve(f)) };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.frames.slice(from).map((f) => f.type))}`));
      }, WAIT_MS);
      this.waiters.push(w);
    });
  }

  waitType<T extends EventFrame['type']>(type: T, from = 0, pred: (f: FrameOf<T>) => boolean = () => true): Promise<FrameOf<T>> {
    return this.waitFor((f) => f.type === type && pred(f as FrameOf<T>), from, type) as Promise<FrameOf<T>>;
  }

  private wake(): void {
    this.waiters = this.waiters.filter((w) => {
      const hit = this.frames.slice(w.from).find(w.pred);
      if (hit) w.resolve(hit);
      return hit === undefined;
    });
  }

  async close(): Promise<void> {
    if (!this.port.isOpen) return;
    await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }
}
