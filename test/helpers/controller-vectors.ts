// Loads the controller-serial.md test vectors: the shared copy when the checkout has
// ../shared/protocol/vectors.txt, else the copy kept in test/fixtures/ so tests run anywhere.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** `<repo>/../shared/protocol/vectors.txt`: the normative copy beside the checkout. */
export const SHARED_VECTORS_PATH = fileURLToPath(new URL('../../../shared/protocol/vectors.txt', import.meta.url));
export const FIXTURE_VECTORS_PATH = fileURLToPath(new URL('../fixtures/controller-vectors.txt', import.meta.url));

export interface ControllerVector {
  /** The line as on the wire, without its `\n`. */
  line: string;
  valid: boolean;
  /** The `## ...` heading the vector sits under. */
  section: string;
  /** The `# ...` comment right above the vector, if any (invalid vectors say why). */
  note: string | undefined;
}

export function vectorsPath(): string {
  return existsSync(SHARED_VECTORS_PATH) ? SHARED_VECTORS_PATH : FIXTURE_VECTORS_PATH;
}

/** Parses vectors.txt: `## valid...` / `## invalid...` sections, `#` comments, one wire line per other line. */
export function parseVectors(text: string): ControllerVector[] {
  const out: ControllerVector[] = [];
  let section = '';
  let note: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') continue;
    if (line.startsWith('## ')) {
      section = line.slice(3).trim();
      note = undefined;
    } else if (line.startsWith('#')) {
      note = line.slice(1).trim();
    } else {
      if (section === '') throw new Error(`vector before any section: ${line}`);
      out.push({ line, valid: section.startsWith('valid'), section, note });
      note = undefined;
    }
  }
  return out;
}

/** Read as latin1 so every byte stays one character, as the driver reads the wire. */
export function loadVectors(path = vectorsPath()): ControllerVector[] {
  return parseVectors(readFileSync(path, 'latin1'));
}
