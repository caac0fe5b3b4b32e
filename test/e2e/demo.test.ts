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
  it('takes the charger from profile 0 to 3 over OCPP alone against the strict CSMS with real TLS, then plays the session', async () => {
    const lines: string[] = [];
    const code = await runDemo(['--fast', '--security', '3'], (l) => lines.push(l));
    const text = lines.join('\n');
    expect(code).toBe(0);
    expect(text).toMatch(/"ChangeConfiguration",\{"key":"AuthorizationKey","value":"\[Redacted\]"\}/);
    for (const step of [
      'connected with profile 1',
      'the charger answers InstallCertificate: Accepted',
      'connected with profile 2',
      'the charger answers ExtendedTriggerMessage: Accepted',
      'CertificateSigned Accepted',
      'connected with profile 3',
    ]) {
      expect(text).toContain(step);
    }
    expect(text).toMatch(/"SignCertificate",\{"csr":"<PEM certificate request>"\}/);
    expect(text).toMatch(/session complete: transaction 1, [1-9][0-9]* Wh delivered/);
    // The order of the narrated steps is the whitepaper's path.
    const at = (s: string): number => text.indexOf(s);
    expect(at('connected with profile 1')).toBeLessThan(at('connected with profile 2'));
    expect(at('connected with profile 2')).toBeLessThan(at('CertificateSigned Accepted'));
    expect(at('CertificateSigned Accepted')).toBeLessThan(at('connected with profile 3'));
    expect(at('connected with profile 3')).toBeLessThan(at('session complete'));
  }, 90_000);

  it('a bad --security value: one line, exit 2', async () => {
    const lines: string[] = [];
    expect(await runDemo(['--security', '4'], (l) => lines.push(l))).toBe(2);
    expect(lines).toEqual(['demo: --security: expected 1, 2 or 3, got "4"']);
  });
});
