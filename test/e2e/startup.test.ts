// Start-up order: the agent meets the CSMS knowing its controller (the link comes up
// first, bounded), so the first BootNotification carries the meter serial number and the
// CSMS never sees a spurious "controller link down" Faulted at boot.
import { describe, expect, it } from 'vitest';
import { useAgentFixture } from '../helpers/action-fixture.js';

const fx = useAgentFixture();

describe('start-up', () => {
  it('BootNotification after the controller link is up; no Faulted at boot', async () => {
    const h = await fx.start();
    const calls = h.csms.received.filter((c) => c.identity === h.cpId);
    expect(calls[0]?.action).toBe('BootNotification');
    expect(calls[0]?.params).toMatchObject({ meterSerialNumber: 'SN0042' });
    const statuses = calls.filter((c) => c.action === 'StatusNotification').map((c) => `${c.params['connectorId']}:${c.params['status']}`);
    expect(statuses.slice(0, 2).sort()).toEqual(['0:Available', '1:Available']);
    expect(statuses.some((s) => s.endsWith(':Faulted'))).toBe(false);
  });
});
