// The README's demo, in-process: bundled CSMS + simulated controller on a pty + the
// real agent; one full session must complete and be reported.
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../src/devtools/demo.js';

describe('demo', () => {
  it('plays a full charging session and exits 0', async () => {
    const lines: string[] = [];
    const code = await runDemo(['--fast'], (l) => lines.push(l));
    const text = lines.join('\n');
    expect(code).toBe(0);
    expect(text).toMatch(/controller -> agent {2}\$RFID,04A2B3C4\*44/);
    expect(text).toMatch(/"StartTransaction",\{"connectorId":1,"idTag":"04A2B3C4"/);
    expect(text).toMatch(/"StopTransaction",\{"transactionId":1,.*"reason":"EVDisconnected"/);
    expect(text).toMatch(/session complete: transaction 1, [1-9][0-9]* Wh delivered/);
    // Issue 5: the second session, authorized from the local list while the CSMS was down, delivered afterwards.
    expect(text).toMatch(/"StartTransaction",\{"connectorId":1,"idTag":"0B0B0B0B"/);
    expect(text).toMatch(/offline session delivered: card 0B0B0B0B/);
  }, 60_000);
});

describe('demo --security N', () => {
  it('takes the charger from profile 0 to 1 over OCPP against the strict CSMS, then plays the session', async () => {
    const lines: string[] = [];
    const code = await runDemo(['--fast', '--security', '1'], (l) => lines.push(l));
    const text = lines.join('\n');
    expect(code).toBe(0);
    expect(text).toMatch(/"ChangeConfiguration",\{"key":"AuthorizationKey","value":"\[Redacted\]"\}/);
    expect(text).toMatch(/connected with profile 1/);
    expect(text).toMatch(/session complete: transaction 1, [1-9][0-9]* Wh delivered/);
  }, 60_000);

  it('a bad --security value: one line, exit 2', async () => {
    const lines: string[] = [];
    expect(await runDemo(['--security', '4'], (l) => lines.push(l))).toBe(2);
    expect(lines).toEqual(['demo: --security: expected 1, 2 or 3, got "4"']);
  });
});
