// Human output of `charger-agent diag` (issue 6, "Diagnostics socket"): strings from the CSMS
// (idTags, stop reasons) and from log lines reach the terminal with their control characters
// escaped (review finding: an idTag holding ESC sequences could rewrite the operator's screen),
// and the tables stay aligned on the escaped text.
import { describe, expect, it } from 'vitest';
import { escapeControls, formatConfig, formatLogLine, formatPlain, formatStatus, formatTable, formatTransactions } from '../../src/diagnostics/format.js';

const ESC = '\u001b';
/** Any C0 control, DEL or C1 control. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** The text without the newlines that separate its lines. */
function withoutLineBreaks(text: string): string {
  return text.split('\n').join('');
}

describe('escapeControls', () => {
  it('escapes C0 controls, DEL and C1 controls; leaves printable text and other Unicode alone', () => {
    expect(escapeControls(`${ESC}[2J${ESC}]0;owned\u0007`)).toBe('\\x1b[2J\\x1b]0;owned\\x07');
    expect(escapeControls('a\nb\rc\td')).toBe('a\\nb\\rc\\td');
    expect(escapeControls('\u0000\u007f\u0080\u009b\u009f')).toBe('\\x00\\x7f\\x80\\x9b\\x9f');
    expect(escapeControls('04A1B2C3 Ünïcødé €')).toBe('04A1B2C3 Ünïcødé €');
  });

  it('is idempotent', () => {
    const once = escapeControls(`x${ESC}[31my\n`);
    expect(escapeControls(once)).toBe(once);
  });
});

describe('human output escapes what came from outside', () => {
  const evilTag = `${ESC}[2J${ESC}]0;pwned${ESC}\\`;
  const evilReason = `Remote\r\u009b31m`;

  it('transactions: idTag and stop reason', () => {
    const out = formatTransactions({
      transactions: [
        { connector: 1, transactionId: 7, localId: 'L1', idTag: evilTag, startedAt: '2024-01-01T00:00:00Z', stoppedAt: '2024-01-01T01:00:00Z', stopReason: evilReason, energyWh: 1000 },
      ],
    });
    expect(withoutLineBreaks(out)).not.toMatch(CONTROL);
    expect(out).toContain('\\x1b[2J\\x1b]0;pwned\\x1b\\');
    expect(out).toContain('(Remote\\r\\x9b31m)');
    // Aligned on the escaped text: the header's columns line up with the row's.
    const [header, row] = out.split('\n');
    expect(row!.indexOf('2024-01-01T00:00:00Z')).toBe(header!.indexOf('STARTED'));
  });

  it('status: connector transaction idTag, faults and texts', () => {
    const out = formatStatus({
      chargePointId: `CP${ESC}[1m`,
      csms: { url: `wss://x/${ESC}[8m`, connected: true, registration: 'Accepted', securityProfile: 0 },
      connectors: [{ connector: 1, pilot: 'C', status: 'Charging', faults: [`F${ESC}`], offeredA: 16, contactorClosed: true, transaction: { transactionId: 1, idTag: evilTag, energyWh: 5 }, meterWh: 10 }],
    });
    expect(withoutLineBreaks(out)).not.toMatch(CONTROL);
    expect(out).toContain('CP\\x1b[1m');
    expect(out).toContain('Charging (F\\x1b)');
  });

  it('config values, plain results and tables', () => {
    expect(withoutLineBreaks(formatConfig({ keys: [{ key: 'X', readonly: false, value: `v${ESC}[5m` }], unknown: [`K${ESC}`] }))).not.toMatch(CONTROL);
    expect(formatPlain({ [`k${ESC}`]: `v\u0007` })).toBe('k\\x1b: v\\x07');
    expect(formatTable(['A', 'B'], [[`a${ESC}`, 'b']])).toBe('A      B\na\\x1b  b');
  });

  it('log lines: msg, module, fields and keys; a line that is not JSON too', () => {
    const line = JSON.stringify({ level: 40, time: 0, module: `m${ESC}`, msg: `evil ${ESC}[2J`, idTag: evilTag, [`k${ESC}`]: 1, nested: { reason: `${ESC}[31m` } });
    const out = formatLogLine(line);
    expect(out).not.toMatch(CONTROL);
    expect(out).toBe(`1970-01-01T00:00:00.000Z WARN  [m\\x1b] evil \\x1b[2J idTag=\\x1b[2J\\x1b]0;pwned\\x1b\\ k\\x1b=1 nested={"reason":"\\u001b[31m"}`);
    expect(formatLogLine(`not json ${ESC}[2J`)).toBe('not json \\x1b[2J');
  });
});
