// OCPP 1.6 §5.6 DataTransfer, CSMS to charger, against the real agent and the DevCsms: an
// unregistered vendor gets UnknownVendorId; the schema limits are enforced on the way in.
// The other direction (§4.3): outgoing/DataTransfer.test.ts.
import { describe, expect, it } from 'vitest';
import { useAgentFixture } from '../../../helpers/action-fixture.js';
import { waitFor } from '../../../helpers/wait.js';

const fx = useAgentFixture();

describe('DataTransfer (OCPP 1.6 §5.6, §4.3)', () => {
  it('CSMS -> CP: an unknown vendorId is answered UnknownVendorId', async () => {
    const h = await fx.start();
    expect(await h.call('DataTransfer', { vendorId: 'com.example', messageId: 'Hello', data: '{"a":1}' })).toEqual({ status: 'UnknownVendorId' });
    expect(await h.call('DataTransfer', { vendorId: 'com.example' })).toEqual({ status: 'UnknownVendorId' });
  });

  it('CSMS -> CP: a vendorId over 255 characters is a PropertyConstraintViolation', async () => {
    const h = await fx.start();
    h.csms.sendRaw(h.cpId, JSON.stringify([2, 'dt-long', 'DataTransfer', { vendorId: 'v'.repeat(256) }]));
    await waitFor(() => h.frames.some((f) => f.direction === 'out' && f.text.includes('"dt-long"')), 8_000, 'answer');
    const answer = JSON.parse(h.frames.find((f) => f.direction === 'out' && f.text.includes('"dt-long"'))!.text) as unknown[];
    expect(answer.slice(0, 3)).toEqual([4, 'dt-long', 'PropertyConstraintViolation']);
  });

  it('CSMS -> CP: a registered vendor handler answers for its vendorId; its failure is a CALLERROR, not a crash', async () => {
    const handlers = new Map([
      ['com.acme', (messageId: string | undefined, data: string | undefined) => ({ status: 'Accepted' as const, data: `${messageId}:${data}` })],
      ['com.broken', () => {
        throw new Error('vendor bug');
      }],
    ]);
    const h = await fx.start({ vendorHandlers: handlers });
    expect(await h.call('DataTransfer', { vendorId: 'com.acme', messageId: 'Ping', data: '42' })).toEqual({ status: 'Accepted', data: 'Ping:42' });
    await expect(h.call('DataTransfer', { vendorId: 'com.broken' })).rejects.toThrow();
    expect(await h.call('DataTransfer', { vendorId: 'com.other' })).toEqual({ status: 'UnknownVendorId' });
  });
});
