// Raw frame text in log lines never carries a secret: a malformed ChangeConfiguration of
// AuthorizationKey from the CSMS is logged without its value (unit, and through the real agent).
import { afterEach, describe, expect, it } from 'vitest';
import { frameTextForLog } from '../../../src/ocpp/rpc/frame-text.js';
import { startHarness, type Harness } from '../../helpers/agent-harness.js';
import { waitFor } from '../../helpers/wait.js';

const SECRET = 'S3cr3tAuthKey-0123456789';

describe('frameTextForLog', () => {
  it('truncates ordinary text and withholds text that may hold a secret', () => {
    expect(frameTextForLog('[2,"1","Heartbeat",{}]', 100)).toBe('[2,"1","Heartbeat",{}]');
    expect(frameTextForLog('x'.repeat(50), 10)).toBe(`${'x'.repeat(10)}…`);
    const text = `[2,"1","ChangeConfiguration",{"key":"AuthorizationKey","value":"${SECRET}"},{}]`;
    expect(frameTextForLog(text, 512)).not.toContain(SECRET);
    expect(frameTextForLog('{"basicAuthPassword":"x"}', 512)).toMatch(/withheld/);
  });
});

describe('malformed frames with a secret, through the agent', () => {
  let h: Harness | null = null;
  afterEach(async () => {
    await h?.stop();
    h = null;
  });

  it('the warn line names the problem but not the AuthorizationKey', async () => {
    h = await startHarness();
    h.csms.sendRaw(h.cpId, `[2,"leak-1","ChangeConfiguration",{"key":"AuthorizationKey","value":"${SECRET}"},{}]`);
    await waitFor(() => h!.logs.some((l) => l.msg === 'malformed frame'), 8_000, 'the malformed frame logged');
    expect(JSON.stringify(h.logs)).not.toContain(SECRET);
  });
});
