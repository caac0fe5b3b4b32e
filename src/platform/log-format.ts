// Readable log lines, for a person at a terminal (`run` in the foreground, the demo) and for
// `diag logs`: `time LEVEL [module] msg key=value ...`, from the JSON line pino wrote (so
// secrets are already redacted). Text in log lines may come from the CSMS or the controller,
// so control characters are shown escaped, never sent to the terminal (escape sequences could
// rewrite the screen or the window title).

// C0 controls, DEL and C1 controls (U+0080..U+009F: 8-bit CSI and friends).
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * `s` with every control character shown as an escape (`\n`, `\t`, `\x1b`), so that text
 * from outside (the CSMS, log lines) cannot drive the terminal. Idempotent.
 */
export function escapeControls(s: string): string {
  return s.replace(CONTROL, (c) => NAMED[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Shown in the head of the line, or noise for a person (the same on every line). */
const HEAD_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'module', 'chargePointId']);

/** A value as it reads after `key=`: strings bare unless a space, quote or `=` would make the line ambiguous. */
function fieldValue(v: unknown): string {
  if (typeof v === 'string') return v === '' || /[\s"=]/.test(v) ? JSON.stringify(v) : escapeControls(v);
  return escapeControls(JSON.stringify(v) ?? String(v));
}

/** One pino JSON line as `time LEVEL [module] msg key=value ...`; a line that is not a JSON object as is (escaped). */
export function formatLogLine(line: string): string {
  const trimmed = line.endsWith('\n') ? line.slice(0, -1) : line;
  let rec: unknown;
  try {
    rec = JSON.parse(trimmed);
  } catch {
    return escapeControls(trimmed);
  }
  if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) return escapeControls(trimmed);
  const r = rec as Record<string, unknown>;
  const time = typeof r['time'] === 'number' ? new Date(r['time']).toISOString() : '-';
  const level = typeof r['level'] === 'number' ? (LEVEL_NAMES[r['level']] ?? String(r['level'])) : '-';
  const module = typeof r['module'] === 'string' ? ` [${escapeControls(r['module'])}]` : '';
  const msg = typeof r['msg'] === 'string' ? escapeControls(r['msg']) : '';
  const extras = Object.entries(r)
    .filter(([k]) => !HEAD_FIELDS.has(k))
    .map(([k, v]) => `${escapeControls(k)}=${fieldValue(v)}`);
  return `${time} ${level.padEnd(5)}${module} ${msg}${extras.length > 0 ? ` ${extras.join(' ')}` : ''}`;
}
