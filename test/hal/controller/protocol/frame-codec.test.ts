// controller-serial.md §Frame: decodeLine / encodeFrame against vectors.txt, the drop
// reasons a receiver counts, and property tests (round trip, single-byte corruption).
import { readFileSync, existsSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { xorChecksum } from '../../../../hal/controller/protocol/checksum.js';
import {
  DROP_REASONS,
  MAX_LINE_BYTES,
  decodeLine,
  encodeFrame,
  newDropCounters,
  type DropReason,
} from '../../../../hal/controller/protocol/frame-codec.js';
import { FRAME_TABLE, type Frame } from '../../../../hal/controller/protocol/frame-table.js';
import { LineFramer } from '../../../../hal/controller/protocol/line-framer.js';
import {
  FIXTURE_VECTORS_PATH,
  SHARED_VECTORS_PATH,
  loadVectors,
  vectorsPath,
} from '../../../helpers/controller-vectors.js';
import { frameArb } from '../../../helpers/frame-arbitraries.js';

const vectors = loadVectors();
const valid = vectors.filter((v) => v.valid);
const invalid = vectors.filter((v) => !v.valid);

/** vectors.txt explains each invalid line in the comment above it; this is the reason we count it under. */
const REASON_BY_NOTE: Record<string, DropReason> = {
  'wrong checksum': 'bad-checksum',
  'no checksum': 'no-checksum',
  'no leading $': 'no-start',
  'wrong field count': 'field-count',
  'unknown type': 'unknown-type',
  'one hex digit in the checksum': 'no-checksum',
  'not hex in the checksum': 'no-checksum',
  '301 bytes: longer than 256, discarded whole': 'overlong',
};

const line = (body: string, cs = xorChecksum(body)) => `$${body}*${cs.toString(16).toUpperCase().padStart(2, '0')}`;

describe('vectors.txt', () => {
  it('is loaded from the shared copy when present, and the fixture copy matches it', () => {
    expect(vectorsPath()).toBe(existsSync(SHARED_VECTORS_PATH) ? SHARED_VECTORS_PATH : FIXTURE_VECTORS_PATH);
    expect(valid.length).toBeGreaterThanOrEqual(25);
    expect(invalid.length).toBeGreaterThanOrEqual(8);
    // A stale fixture would let CI without ../shared test against old vectors: refresh it with cp.
    if (existsSync(SHARED_VECTORS_PATH)) {
      expect(readFileSync(FIXTURE_VECTORS_PATH, 'latin1')).toBe(readFileSync(SHARED_VECTORS_PATH, 'latin1'));
    }
  });

  it.each(valid.map((v) => [v.line, v] as const))('valid %s decodes', (_l, v) => {
    const r = decodeLine(v.line);
    expect(r).toMatchObject({ ok: true });
  });

  it.each(valid.filter((v) => !v.section.includes('lower-case')).map((v) => [v.line] as const))(
    'valid %s re-encodes byte-identical',
    (l) => {
      const r = decodeLine(l);
      if (!r.ok) throw new Error(`did not decode: ${r.reason}`);
      expect(encodeFrame(r.frame)).toBe(`${l}\n`);
    },
  );

  it('the lower-case checksum vector decodes to the same frame as its upper-case twin and re-encodes upper-case', () => {
    const lower = valid.filter((v) => v.section.includes('lower-case'));
    expect(lower.length).toBeGreaterThan(0);
    for (const v of lower) {
      expect(v.line).toMatch(/\*[0-9a-f]*[a-f][0-9a-f]*$/);
      const r = decodeLine(v.line);
      if (!r.ok) throw new Error(`did not decode: ${r.reason}`);
      const upper = v.line.replace(/\*(..)$/, (_m, cs: string) => `*${cs.toUpperCase()}`);
      expect(decodeLine(upper)).toEqual(r);
      expect(encodeFrame(r.frame)).toBe(`${upper}\n`);
    }
  });

  it.each(invalid.map((v) => [v.note ?? '(no note)', v] as const))('invalid (%s) is dropped with its reason', (_n, v) => {
    const expected = v.note === undefined ? undefined : REASON_BY_NOTE[v.note];
    expect(expected, `unknown note "${v.note}": add it to REASON_BY_NOTE`).toBeDefined();
    expect(decodeLine(v.line)).toEqual({ ok: false, reason: expected });
  });

  it('decodes the documented field values', () => {
    const byType = new Map<string, Frame>();
    for (const v of valid) {
      const r = decodeLine(v.line);
      if (r.ok && !byType.has(r.frame.type)) byType.set(r.frame.type, r.frame);
    }
    expect(byType.get('HELLO')).toEqual({
      type: 'HELLO',
      proto: 1,
      firmware: '2.4.0',
      connectors: 1,
      serial: 'SN0042',
      caps: ['RFID', 'LOCK', 'METER', '3PH'],
      uptimeSeconds: 3,
    });
    expect(byType.get('METER')).toEqual({
      type: 'METER',
      connector: 1,
      energyWh: 1520311,
      powerW: 11040,
      voltageV: [230.1, 229.8, 230.4],
      currentA: [16, 16.02, 15.98],
      temperatureC: 31.5,
    });
    expect(decodeLine('$METER,1,880,3680,230.0,,,16.00,,,22.0*5F')).toEqual({
      ok: true,
      frame: {
        type: 'METER',
        connector: 1,
        energyWh: 880,
        powerW: 3680,
        voltageV: [230, null, null],
        currentA: [16, null, null],
        temperatureC: 22,
      },
    });
    expect(byType.get('RELAY')).toEqual({ type: 'RELAY', connector: 1, closed: true });
    expect(byType.get('PING')).toEqual({ type: 'PING', seq: 65535 });
  });
});

describe('decodeLine drop reasons', () => {
  it.each<[string, string, DropReason]>([
    ['empty line', '', 'empty'],
    ['only \\r', '\r', 'empty'],
    ['control character inside', '$CP,1,\tB*60', 'non-ascii'],
    ['byte >= 0x80 (read as latin1)', line('RFID,04A2B3C\u00e9'), 'non-ascii'],
    ['DEL', line('CP,1,\u007f'), 'non-ascii'],
    ['`$` inside a field', line('CONFIG,1,METER_MS,1$0'), 'bad-field'],
    ['`*` inside a field', line('CONFIG,1,METER_MS,1*0'), 'bad-field'],
    ['lower-case type', line('cp,1,B'), 'unknown-type'],
    ['empty type', line(',1,B'), 'unknown-type'],
    ['too many fields', line('CP,1,B,C'), 'field-count'],
    ['seq 0', line('ACK,0'), 'bad-field'],
    ['seq 65536', line('ACK,65536'), 'bad-field'],
    ['seq with a leading zero', line('ACK,01'), 'bad-field'],
    ['pilot state G', line('CP,1,G'), 'bad-field'],
    ['PP amps not a cable capacity', line('PP,1,16'), 'bad-field'],
    ['relay 2', line('RELAY,1,2'), 'bad-field'],
    ['lower-case RFID uid', line('RFID,04a2b3c4'), 'bad-field'],
    ['RFID uid of 10 digits', line('RFID,04A2B3C4D5'), 'bad-field'],
    ['unknown capability', line('HELLO,1,2.4.0,1,SN,RFID|WIFI,3'), 'bad-field'],
    ['ENABLE amps with two fraction digits', line('ENABLE,1,1,7.55'), 'bad-field'],
    ['METER temperature not a number', line('METER,1,1,1,230,,,1,,,hot'), 'bad-field'],
    ['METER energy negative', line('METER,1,-1,1,230,,,1,,,20'), 'bad-field'],
    ['line of 257 bytes', `$RFID,${'A'.repeat(248)}*00`, 'overlong'],
  ])('%s', (_name, input, reason) => {
    expect(decodeLine(input)).toEqual({ ok: false, reason });
  });

  it('ignores one trailing \\r', () => {
    expect(decodeLine('$CP,1,B*60\r')).toEqual({ ok: true, frame: { type: 'CP', connector: 1, state: 'B' } });
  });

  it('limits the direction when asked: a driver takes events, a controller takes commands', () => {
    expect(decodeLine('$CP,1,B*60', 'event')).toMatchObject({ ok: true });
    expect(decodeLine('$CP,1,B*60', 'command')).toEqual({ ok: false, reason: 'wrong-direction' });
    expect(decodeLine('$PING,65535*0C', 'command')).toMatchObject({ ok: true });
    expect(decodeLine('$PING,65535*0C', 'event')).toEqual({ ok: false, reason: 'wrong-direction' });
    for (const v of valid) {
      const r = decodeLine(v.line);
      if (!r.ok) continue;
      const dir = FRAME_TABLE[r.frame.type].direction;
      expect(decodeLine(v.line, dir)).toEqual(r);
    }
  });

  it('a line of exactly MAX_LINE_BYTES is not refused for its length', () => {
    const l = `$RFID,${'A'.repeat(MAX_LINE_BYTES - 9)}*00`;
    expect(l.length).toBe(MAX_LINE_BYTES);
    expect(decodeLine(l)).toEqual({ ok: false, reason: 'bad-checksum' });
  });
});

describe('encodeFrame', () => {
  it('writes an upper-case checksum and a single \\n', () => {
    expect(encodeFrame({ type: 'FAULTCLR', connector: 1, code: 'OVER_TEMP' })).toBe('$FAULTCLR,1,OVER_TEMP*7B\n');
    expect(encodeFrame({ type: 'ENABLE', seq: 5, connector: 2, amps: 7.5 })).toBe('$ENABLE,5,2,7.5*06\n');
  });

  it('writes computed METER floats at fixed digits the decoder accepts (not 0.30000000000000004 or 1e-7)', () => {
    const frame: Frame = {
      type: 'METER',
      connector: 1,
      energyWh: 1000,
      powerW: 3680.4,
      voltageV: [0.1 + 0.2, 230, null],
      currentA: [1e-7, 16.016, null],
      temperatureC: -5.25,
    };
    const encoded = encodeFrame(frame);
    expect(encoded).toMatch(/^\$METER,1,1000,3680,0\.3,230\.0,,0\.00,16\.02,,-5\.3\*[0-9A-F]{2}\n$/);
    expect(decodeLine(encoded.slice(0, -1))).toMatchObject({ ok: true, frame: { voltageV: [0.3, 230, null] } });
  });

  it.each<[string, Frame]>([
    ['a comma', { type: 'FAULT', connector: 1, code: 'A,B' }],
    ['a star', { type: 'CONFIG', seq: 1, key: 'METER_MS', value: '1*' }],
    ['a dollar', { type: 'HELLO', proto: 1, firmware: '$1', connectors: 1, serial: 'S', caps: [], uptimeSeconds: 0 }],
    ['a newline', { type: 'NAK', seq: 1, reason: 'BUSY\n' }],
    ['a non-ASCII character', { type: 'HELLO', proto: 1, firmware: '1', connectors: 1, serial: 'Sé', caps: [], uptimeSeconds: 0 }],
  ])('refuses a field containing %s (a caller bug, not input)', (_n, frame) => {
    expect(() => encodeFrame(frame)).toThrow(/separator or non-ASCII/);
  });
});

describe('properties', () => {
  it('every generated frame encodes to one line that decodes to the same frame, in its own direction only', () => {
    fc.assert(
      fc.property(frameArb, (frame) => {
        const encoded = encodeFrame(frame);
        expect(encoded.endsWith('\n')).toBe(true);
        expect(encoded.indexOf('\n')).toBe(encoded.length - 1);
        expect(encoded.length - 1).toBeLessThanOrEqual(MAX_LINE_BYTES);
        const l = encoded.slice(0, -1);
        expect(decodeLine(l)).toEqual({ ok: true, frame });
        const dir = FRAME_TABLE[frame.type].direction;
        expect(decodeLine(l, dir === 'command' ? 'event' : 'command')).toEqual({ ok: false, reason: 'wrong-direction' });
      }),
      { numRuns: 400 },
    );
  });

  it('one corrupted byte never yields a different frame: each resulting line decodes to the original or is counted', () => {
    fc.assert(
      fc.property(
        frameArb,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (frame, posSeed, delta) => {
          const bytes = Buffer.from(encodeFrame(frame), 'latin1');
          const pos = posSeed % (bytes.length - 1); // not the terminator itself
          bytes[pos] = (bytes[pos]! + delta) & 0xff; // delta 1..255: always a different byte
          const framer = new LineFramer();
          const lines = framer.push(bytes);
          // The terminator is still there; a corrupted byte that is itself `\n` splits the line in two.
          expect(lines.length + framer.overlongCount).toBe(bytes.filter((b) => b === 0x0a).length);
          const counters = newDropCounters();
          let decoded = 0;
          for (const l of lines) {
            const r = decodeLine(l.toString('latin1'));
            if (r.ok) {
              // Only a case change of a checksum hex digit keeps a line valid: same frame.
              expect(r.frame).toEqual(frame);
              decoded++;
            } else {
              expect(DROP_REASONS).toContain(r.reason);
              counters[r.reason]++;
            }
          }
          const dropped = Object.values(counters).reduce((a, b) => a + b, 0);
          expect(decoded + dropped).toBe(lines.length);
        },
      ),
      { numRuns: 600 },
    );
  });
});
