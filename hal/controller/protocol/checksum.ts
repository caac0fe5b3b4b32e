// controller-serial.md §Frame: XOR of every byte after `$` and before `*`.

/** XOR of the character codes of `body` (the text between `$` and `*`). */
export function xorChecksum(body: string): number {
  let cs = 0;
  for (let i = 0; i < body.length; i++) cs ^= body.charCodeAt(i);
  return cs & 0xff;
}

/** Two upper-case hex digits, as senders must write them. */
export function formatChecksum(cs: number): string {
  return cs.toString(16).toUpperCase().padStart(2, '0');
}
