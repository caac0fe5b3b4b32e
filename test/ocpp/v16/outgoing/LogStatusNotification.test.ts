// Security whitepaper LogStatusNotification (outgoing/LogStatusNotification.ts) from the real
// agent to the strict DevCsms: never sent unasked; triggered (as ExtendedTriggerMessage does,
// through the module's trigger): Idle without a requestId when no GetLog upload runs, Uploading
// with the running request's id while one does.
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { useAgentFixture } from '../../../helpers/action-fixture.js';
import { waitFor } from '../../../helpers/wait.js';
import { OUTGOING_ACTIONS } from '../../../../src/ocpp/v16/outgoing/index.js';
import { logStatusNotificationRequest } from '../../../../src/ocpp/v16/outgoing/LogStatusNotification.js';

const fx = useAgentFixture();
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

function trigger() {
  const entry = OUTGOING_ACTIONS.LogStatusNotification;
  if (entry === 'NotSent' || !entry.trigger) throw new Error('LogStatusNotification is not triggerable');
  return entry.trigger;
}

describe('LogStatusNotification (security whitepaper)', () => {
  it('never sent unasked; triggered with nothing running: Idle, schema-valid', async () => {
    const h = await fx.start();
    const m = h.mark();
    await trigger()(h.agent.session.outgoing);
    const [sent] = await h.waitCalls(m, 'LogStatusNotification');
    expect(sent!.params).toEqual({ status: 'Idle' });
    expect(h.csms.callsOf('LogStatusNotification')).toHaveLength(1);
    expect(h.csms.strictFailures).toEqual([]);
  });

  it('triggered during a GetLog upload: Uploading with its requestId', async () => {
    let requests = 0;
    const stalled: Server = createServer(() => void requests++);
    await new Promise<void>((r) => stalled.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => (stalled.closeAllConnections(), stalled.close(() => r()))));
    const h = await fx.start();
    await h.call('GetLog', { logType: 'SecurityLog', requestId: 77, retries: 0, log: { remoteLocation: `http://127.0.0.1:${(stalled.address() as AddressInfo).port}/` } });
    await waitFor(() => requests === 1, 20_000, 'the upload to reach its server');
    const m = h.mark();
    await trigger()(h.agent.session.outgoing);
    const [sent] = await h.waitCalls(m, 'LogStatusNotification');
    expect(sent!.params).toEqual({ status: 'Uploading', requestId: 77 });
    expect(h.csms.strictFailures).toEqual([]);
  });

  it('the request carries the status and, when given, the requestId', () => {
    expect(logStatusNotificationRequest('Idle')).toEqual({ status: 'Idle' });
    expect(logStatusNotificationRequest('UploadFailure', 3)).toEqual({ status: 'UploadFailure', requestId: 3 });
  });
});
