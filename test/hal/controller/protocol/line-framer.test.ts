// controller-serial.md §Link: LineFramer / BoundedLineStream split bytes into `\n` lines,
// drop a `\r` before `\n`, discard lines over 256 bytes whole and survive any garbage.
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DROP_REASONS,
  MAX_LINE_BYTES,
  decodeLine,
  encodeFrame,
  newDropCounters,
  type DecodeResult,
} from '../../../../hal/controller/protocol/frame-codec.js';
import type { Frame } from '../../../../hal/controller/protocol/frame-table.js';
import { BoundedLineStream, LineFramer } from '../../../../hal/controller/protocol/line-framer.js';
import { loadVectors } from '../../../helpers/controller-vectors.js';
import { frameArb } from '../../../helpers/frame-arbitraries.js';

const b = (s: string) => Buffer.from(s, 'latin1');
const text = (lines: Buffer[]) => lines.map((l) => l.toString('latin1'));
const decodeAll = (lines: Buffer[]): DecodeResult[] => lines.map((l) => decodeLine(l.toString('latin1')));

const CP_B = '$CP,1,B*60';
const ACK_1 = '$ACK,1*54';

/** A valid HELLO whose line (terminator not counted) is exactly `length` bytes. */
function helloOfLength(length: number): string {
  const base: Frame = { type: 'HELLO', proto: 1, firmware: 'F', connectors: 1, serial: 'S'.repeat(64), caps: [], uptimeSeconds: 0 };
  // Repeated caps are legal on the wire and let us reach any length; then pad the firmware text.
  for (let caps = 0; caps < 40; caps++) {
    const frame = { ...base, caps: Array.from({ length: caps }, () => 'METER' as const) };
    const short = encodeFrame(frame).length - 1;
    const pad = length - short;
    if (pad >= 0 && pad < 64) {
      const l = encodeFrame({ ...frame, firmware: 'F'.repeat(1 + pad) }).slice(0, -1);
      if (l.length === length) return l;
    }
  }
  throw new Error(`cannot build a HELLO of ${length} bytes`);
}

describe('LineFramer', () => {
  it('reassembles a line split across reads, one byte at a time', () => {
    const framer = new LineFramer();
    const out: Buffer[] = [];
    for (const byte of b(`${CP_B}\n`)) {
      const got = framer.push(Uint8Array.of(byte));
      if (byte !== 0x0a) expect(got).toEqual([]);
      out.push(...got);
    }
    expect(text(out)).toEqual([CP_B]);
  });

  it('returns several lines joined in one read, in order, and keeps the unfinished tail for the next read', () => {
    const framer = new LineFramer();
    expect(text(framer.push(b(`${CP_B}\n${ACK_1}\n$PP,1,`)))).toEqual([CP_B, ACK_1]);
    expect(text(framer.push(b('32*30\n')))).toEqual(['$PP,1,32*30']);
  });

  it('drops the \\r of \\r\\n, also when \\r and \\n arrive in different reads', () => {
    const framer = new LineFramer();
    expect(text(framer.push(b(`${CP_B}\r\n${ACK_1}\r`)))).toEqual([CP_B]);
    expect(text(framer.push(b('\n')))).toEqual([ACK_1]);
  });

  it('garbage between frames never stops the receiver: the next whole line decodes', () => {
    const framer = new LineFramer();
    const noise = Buffer.concat([b('\x00\xff\xfe~~'), b(`$CP,1,`), b('\n'), b('\x80\x81'), b('half a line after a reset')]);
    const lines = [...framer.push(noise), ...framer.push(b(`\n${CP_B}\n\n${ACK_1}\n`))];
    const results = decodeAll(lines);
    expect(results.filter((r) => r.ok).map((r) => r.ok && r.frame.type)).toEqual(['CP', 'ACK']);
    expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.reason)).toEqual(['non-ascii', 'non-ascii', 'empty']);
  });

  it('a frame glued to garbage on the same line is dropped (no-start), not resynchronised mid-line', () => {
    const framer = new LineFramer();
    expect(decodeAll(framer.push(b(`xx${CP_B}\n`)))).toEqual([{ ok: false, reason: 'no-start' }]);
  });

  it('accepts a line of exactly 256 bytes, with or without \\r', () => {
    const l256 = helloOfLength(MAX_LINE_BYTES);
    expect(l256.length).toBe(256);
    const framer = new LineFramer();
    const lines = framer.push(b(`${l256}\n${l256}\r\n`));
    expect(text(lines)).toEqual([l256, l256]);
    expect(decodeAll(lines).every((r) => r.ok)).toBe(true);
    expect(framer.overlongCount).toBe(0);
  });

  it('discards a 257-byte line whole and decodes the next line', () => {
    const l257 = helloOfLength(MAX_LINE_BYTES + 1);
    expect(l257.length).toBe(257);
    for (const terminator of ['\n', '\r\n']) {
      const framer = new LineFramer();
      expect(text(framer.push(b(`${l257}${terminator}${CP_B}\n`)))).toEqual([CP_B]);
      expect(framer.overlongCount).toBe(1);
    }
  });

  it('discards a very long line whole (counted once), even when its tail arrives in later reads', () => {
    const framer = new LineFramer();
    expect(framer.push(b(`$RFID,${'A'.repeat(300)}`))).toEqual([]);
    expect(framer.push(b(`${'A'.repeat(1000)},${CP_B}`))).toEqual([]);
    expect(text(framer.push(b(`*35\n${CP_B}\n`)))).toEqual([CP_B]);
    expect(framer.overlongCount).toBe(1);
  });

  it('the 301-byte vector is discarded whole and the line after it decodes', () => {
    const overlong = loadVectors().find((v) => v.line.length > MAX_LINE_BYTES);
    expect(overlong?.line.length).toBe(301);
    const framer = new LineFramer();
    expect(text(framer.push(b(`${overlong!.line}\n${CP_B}\n`)))).toEqual([CP_B]);
    expect(framer.overlongCount).toBe(1);
  });

  it('passes non-ASCII bytes through as bytes; the decoder drops the line as non-ascii', () => {
    const framer = new LineFramer();
    const lines = framer.push(Buffer.concat([b('$RFID,'), Buffer.from('é', 'utf8'), b('*00\n')]));
    expect(lines[0]).toEqual(Buffer.concat([b('$RFID,'), Buffer.from([0xc3, 0xa9]), b('*00')]));
    expect(decodeAll(lines)).toEqual([{ ok: false, reason: 'non-ascii' }]);
  });

  it('reset() forgets a partial line, e.g. after the port reopens', () => {
    const framer = new LineFramer();
    framer.push(b('$CP,1,'));
    framer.reset();
    expect(text(framer.push(b(`${ACK_1}\n`)))).toEqual([ACK_1]);
    framer.push(b(`$RFID,${'A'.repeat(400)}`));
    framer.reset();
    expect(text(framer.push(b(`${ACK_1}\n`)))).toEqual([ACK_1]);
  });

  it('every line of vectors.txt fed as one stream: valid ones decode, invalid ones are dropped or discarded', () => {
    const vectors = loadVectors();
    const framer = new LineFramer();
    const lines = framer.push(b(vectors.map((v) => `${v.line}\r\n`).join('')));
    expect(lines.length + framer.overlongCount).toBe(vectors.length);
    const results = decodeAll(lines);
    expect(results.filter((r) => r.ok).length).toBe(vectors.filter((v) => v.valid).length);
  });
});

describe('BoundedLineStream', () => {
  it('forwards complete bounded lines with their \\n and drops a partial line at end of stream', async () => {
    const l257 = helloOfLength(257);
    const chunks = [b('$CP,1'), b(`,B*60\r\n${l257}`), b(`\n${ACK_1}\n$PP,1,3`)];
    const out: Buffer[] = [];
    const stream = Readable.from(chunks).pipe(new BoundedLineStream());
    for await (const chunk of stream) out.push(chunk as Buffer);
    expect(Buffer.concat(out).toString('latin1')).toBe(`${CP_B}\n${ACK_1}\n`);
  });
});

describe('properties', () => {
  // Random bytes rarely form a frame: mix in real lines, terminators and long runs.
  const piece = fc.oneof(
    fc.uint8Array({ maxLength: 40 }),
    fc.constantFrom(...loadVectors().map((v) => b(v.line))),
    fc.constantFrom(b('\n'), b('\r\n'), b('\r')),
    fc.integer({ min: 200, max: 300 }).map((n) => b('A'.repeat(n))),
  );

  it('random byte chunks never throw and every terminated line is decoded or counted', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => {
        const framer = new LineFramer();
        // A final `\n` ends whatever is pending, so each `\n` accounts for exactly one line.
        const all = [...pieces, b('\n')];
        const lines = all.flatMap((p) => framer.push(p));
        const newlines = all.reduce((n, p) => n + p.filter((x) => x === 0x0a).length, 0);
        expect(lines.length + framer.overlongCount).toBe(newlines);
        const counters = newDropCounters();
        let decoded = 0;
        for (const l of lines) {
          expect(l.length).toBeLessThanOrEqual(MAX_LINE_BYTES);
          expect(l.includes(0x0a)).toBe(false);
          const r = decodeLine(l.toString('latin1'));
          if (r.ok) {
            decoded++;
            // A decoded frame is always re-encodable.
            expect(() => encodeFrame(r.frame)).not.toThrow();
          } else {
            expect(DROP_REASONS).toContain(r.reason);
            counters[r.reason]++;
          }
        }
        expect(decoded + Object.values(counters).reduce((a, c) => a + c, 0)).toBe(lines.length);
      }),
      { numRuns: 300 },
    );
  });

  it('generated frames survive encode -> arbitrary chunking -> framer -> decode unchanged', () => {
    const framesAndChunks = fc
      .array(frameArb, { minLength: 1, maxLength: 5 })
      .chain((frames) => {
        const bytes = b(frames.map(encodeFrame).join(''));
        return fc
          .array(fc.nat({ max: bytes.length }), { maxLength: 12 })
          .map((cuts) => ({ frames, bytes, cuts: [...new Set(cuts)].sort((x, y) => x - y) }));
      });
    fc.assert(
      fc.property(framesAndChunks, ({ frames, bytes, cuts }) => {
        const framer = new LineFramer();
        const lines: Buffer[] = [];
        let from = 0;
        for (const to of [...cuts, bytes.length]) {
          lines.push(...framer.push(bytes.subarray(from, to)));
          from = to;
        }
        expect(decodeAll(lines)).toEqual(frames.map((frame) => ({ ok: true, frame })));
        expect(framer.overlongCount).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});
