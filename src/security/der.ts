// A minimal DER reader and writer: enough to take the issuer Name, the SubjectPublicKeyInfo and the
// signature algorithm out of an X.509 certificate (RFC 5280 §4.1) and to build a PKCS#10 request
// (RFC 2986). Parsing only: signatures are always checked by Node's crypto, never here.

export interface DerNode {
  readonly tag: number;
  /** Offset of the tag byte in the input. */
  readonly start: number;
  /** Offset of the first content byte. */
  readonly contentStart: number;
  /** Offset just past the content. */
  readonly end: number;
}

export class DerError extends Error {
  override readonly name = 'DerError';
}

/** The element at `offset` (single-byte tags only: all that X.509 uses). */
export function readNode(buf: Uint8Array, offset: number, limit = buf.length): DerNode {
  if (offset + 2 > limit) throw new DerError(`truncated DER at ${offset}`);
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`multi-byte tag at ${offset}`);
  let len = buf[offset + 1]!;
  let p = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    // DER: definite, minimal length; 4 bytes is far beyond any certificate.
    if (n === 0 || n > 4) throw new DerError(`bad length at ${offset}`);
    if (p + n > limit) throw new DerError(`truncated length at ${offset}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]!;
    p += n;
    if (len < 0x80 || buf[offset + 2] === 0) throw new DerError(`non-minimal length at ${offset}`);
  }
  if (p + len > limit) throw new DerError(`element at ${offset} overruns its container`);
  return { tag, start: offset, contentStart: p, end: p + len };
}

/** The children of a constructed element. */
export function children(buf: Uint8Array, node: DerNode): DerNode[] {
  if ((node.tag & 0x20) === 0) throw new DerError(`element at ${node.start} is not constructed`);
  const out: DerNode[] = [];
  let p = node.contentStart;
  while (p < node.end) {
    const child = readNode(buf, p, node.end);
    out.push(child);
    p = child.end;
  }
  return out;
}

export function expectTag(node: DerNode | undefined, tag: number, what: string): DerNode {
  if (node === undefined || node.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}`);
  return node;
}

export const TAG = { INTEGER: 0x02, BIT_STRING: 0x03, NULL: 0x05, OID: 0x06, UTF8: 0x0c, SEQUENCE: 0x30, SET: 0x31 } as const;

/** Dotted text of an OBJECT IDENTIFIER's content. */
export function oidText(buf: Uint8Array, node: DerNode): string {
  expectTag(node, TAG.OID, 'OID');
  const parts: number[] = [];
  let value = 0;
  for (let p = node.contentStart; p < node.end; p++) {
    const b = buf[p]!;
    value = value * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (parts.length === 0) parts.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

// ---- writer ----

function lengthBytes(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

export function derElement(tag: number, ...content: Uint8Array[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag, ...lengthBytes(body.length)]), body]);
}

export function derOid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const bytes: number[] = [];
  const first = arcs[0]! * 40 + arcs[1]!;
  for (const arc of [first, ...arcs.slice(2)]) {
    const group: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) group.unshift((v & 0x7f) | 0x80);
    bytes.push(...group);
  }
  return derElement(TAG.OID, Buffer.from(bytes));
}
