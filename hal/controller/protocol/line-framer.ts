// controller-serial.md §Link: one frame per `\n`-terminated line; a line longer
// than 256 bytes is discarded whole. Bounded, unlike @serialport/parser-readline,
// which buffers without limit and flushes a partial remainder: this framer only ever
// yields complete lines of at most MAX_LINE_BYTES (the driver feeds it the port's chunks).
import { Transform, type TransformCallback } from 'node:stream';
import { MAX_LINE_BYTES } from './frame-codec.js';

const NL = 0x0a;
const CR = 0x0d;

/** Splits bytes into lines; pure state machine, no streams. */
export class LineFramer {
  private buf: Buffer;
  private len = 0;
  private discarding = false;
  /** Lines discarded for being longer than the limit. */
  overlongCount = 0;

  constructor(private readonly maxLineBytes = MAX_LINE_BYTES) {
    // +1 for a `\r` that precedes the `\n` and does not count.
    this.buf = Buffer.alloc(maxLineBytes + 1);
  }

  /** Feed bytes; returns the complete lines they finish (without `\r\n`). */
  push(chunk: Uint8Array): Buffer[] {
    const out: Buffer[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === NL) {
        if (this.discarding) {
          this.discarding = false;
        } else {
          let end = this.len;
          if (end > 0 && this.buf[end - 1] === CR) end--;
          if (end > this.maxLineBytes) this.overlongCount++;
          else out.push(Buffer.from(this.buf.subarray(0, end)));
        }
        this.len = 0;
        continue;
      }
      if (this.discarding) continue;
      if (this.len >= this.buf.length) {
        // Too long even allowing for a `\r`: drop everything up to the next `\n`.
        this.discarding = true;
        this.overlongCount++;
        this.len = 0;
        continue;
      }
      this.buf[this.len++] = b;
    }
    return out;
  }

  /** Forget a partial line (e.g. after the port reopens: a half line is noise). */
  reset(): void {
    this.len = 0;
    this.discarding = false;
  }
}

/**
 * Stream form of LineFramer: forwards each complete line with its `\n`, so a
 * ReadlineParser behind it never holds more than one bounded line. A partial
 * line at end of stream is dropped, not flushed.
 */
export class BoundedLineStream extends Transform {
  readonly framer: LineFramer;

  constructor(maxLineBytes = MAX_LINE_BYTES) {
    super();
    this.framer = new LineFramer(maxLineBytes);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    for (const line of this.framer.push(chunk)) this.push(Buffer.concat([line, Buffer.from('\n')]));
    cb();
  }

  override _flush(cb: TransformCallback): void {
    this.framer.reset();
    cb();
  }
}
