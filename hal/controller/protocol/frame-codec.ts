// controller-serial.md §Frame: `$<TYPE>[,<field>]...*<CS>`, decoded to a typed
// frame or to a drop reason the caller counts. Pure: never throws on input.
import { formatChecksum, xorChecksum } from './checksum.js';
import { FRAME_TABLE, isFrameType, type Frame } from './frame-table.js';

export const MAX_LINE_BYTES = 256;

export type DropReason =
  | 'overlong'
  | 'empty'
  | 'non-ascii'
  | 'no-start'
  | 'no-checksum'
  | 'bad-checksum'
  | 'unknown-type'
  | 'field-count'
  | 'bad-field'
  | 'wrong-direction';

export const DROP_REASONS: readonly DropReason[] = [
  'overlong',
  'empty',
  'non-ascii',
  'no-start',
  'no-checksum',
  'bad-checksum',
  'unknown-type',
  'field-count',
  'bad-field',
  'wrong-direction',
];

export type DecodeResult = { ok: true; frame: Frame } | { ok: false; reason: DropReason };

const CHECKSUM = /^[0-9A-Fa-f]{2}$/;
const TYPE = /^[A-Z]+$/;

/**
 * Decode one line (without its `\n`; a trailing `\r` is ignored).
 * `expect` limits the accepted direction: a driver takes events, a controller takes commands.
 */
export function decodeLine(rawLine: string, expect?: 'command' | 'event'): DecodeResult {
  const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
  if (line.length === 0) return { ok: false, reason: 'empty' };
  if (line.length > MAX_LINE_BYTES) return { ok: false, reason: 'overlong' };
  // ASCII only: a byte >= 0x80 (read as latin1) or a control character is line noise.
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c > 0x7e || c < 0x20) return { ok: false, reason: 'non-ascii' };
  }
  if (line[0] !== '$') return { ok: false, reason: 'no-start' };
  const star = line.lastIndexOf('*');
  if (star < 0) return { ok: false, reason: 'no-checksum' };
  const csText = line.slice(star + 1);
  if (!CHECKSUM.test(csText)) return { ok: false, reason: 'no-checksum' };
  const body = line.slice(1, star);
  if (xorChecksum(body) !== parseInt(csText, 16)) return { ok: false, reason: 'bad-checksum' };
  if (body.includes('$') || body.includes('*')) return { ok: false, reason: 'bad-field' };
  const parts = body.split(',');
  const type = parts[0]!;
  if (!TYPE.test(type) || !isFrameType(type)) return { ok: false, reason: 'unknown-type' };
  const spec = FRAME_TABLE[type];
  const fields = parts.slice(1);
  if (fields.length !== spec.fields.length) return { ok: false, reason: 'field-count' };
  if (expect !== undefined && spec.direction !== expect) return { ok: false, reason: 'wrong-direction' };
  const frame = spec.decode(fields);
  if (frame === undefined) return { ok: false, reason: 'bad-field' };
  return { ok: true, frame };
}

/** Encode a frame as one wire line, `\n` included. Throws on a field that would break framing (a bug, not input). */
export function encodeFrame(frame: Frame): string {
  const fields = FRAME_TABLE[frame.type].encode(frame);
  for (const f of fields) {
    // Separators break framing; anything outside printable ASCII would be dropped as 'non-ascii' by the receiver.
    if (/[,*$]|[^\x20-\x7e]/.test(f)) throw new Error(`field ${JSON.stringify(f)} of ${frame.type} contains a separator or non-ASCII`);
  }
  const body = [frame.type, ...fields].join(',');
  return `$${body}*${formatChecksum(xorChecksum(body))}\n`;
}

/** Per-reason counters of dropped lines. */
export type DropCounters = Record<DropReason, number>;

export function newDropCounters(): DropCounters {
  return Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as DropCounters;
}
