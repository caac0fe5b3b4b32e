// Security whitepaper ExtendedTriggerMessage against the real agent and the strict DevCsms: every
// requestedMessage this charger can send is Accepted and then sent (SignChargePointCertificate: a
// SignCertificate with a fresh CSR); an unknown connector is Rejected.
import { describe, expect, it } from 'vitest';
import { useAgentFixture } from '../../../helpers/action-fixture.js';
import { opensslOutput } from '../../../helpers/test-pki.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const fx = useAgentFixture();

describe('ExtendedTriggerMessage (security whitepaper)', () => {
  it.each([
    ['BootNotification', undefined, 'BootNotification'],
    ['Heartbeat', undefined, 'Heartbeat'],
    ['StatusNotification', 1, 'StatusNotification'],
    ['MeterValues', 1, 'MeterValues'],
    ['FirmwareStatusNotification', undefined, 'FirmwareStatusNotification'],
    ['LogStatusNotification', undefined, 'LogStatusNotification'],
  ] as const)('%s: Accepted, then sent', async (requestedMessage, connectorId, action) => {
    const h = await fx.start();
    const m = h.mark();
    expect(await h.call('ExtendedTriggerMessage', { requestedMessage, ...(connectorId !== undefined ? { connectorId } : {}) })).toEqual({ status: 'Accepted' });
    await h.waitCalls(m, action);
    expect(h.csms.strictFailures).toEqual([]);
  });

  it('SignChargePointCertificate: Accepted, then SignCertificate with a CSR for CN = the charge point, O = CpoName', async () => {
    const h = await fx.start({ ocppConfig: { CpoName: 'Example CPO' }, csms: { answers: { SignCertificate: () => ({ status: 'Accepted' }) } } });
    const m = h.mark();
    expect(await h.call('ExtendedTriggerMessage', { requestedMessage: 'SignChargePointCertificate' })).toEqual({ status: 'Accepted' });
    const [call] = await h.waitCalls(m, 'SignCertificate');
    const csr = String(call!.params.csr);
    const file = join(h.dataDir, 'seen.csr');
    writeFileSync(file, csr);
    const text = opensslOutput(['req', '-in', file, '-noout', '-verify', '-subject', '-text']);
    expect(text).toMatch(/verify OK/i);
    expect(text).toContain(`subject=O = Example CPO, CN = ${h.cpId}`);
    expect(text).toMatch(/Public-Key: \(2048 bit\)/);
    expect(h.agent.security.certificates.pendingKeyIds()).toHaveLength(1);
    expect(h.csms.strictFailures).toEqual([]);
  });

  it('an unknown connector: Rejected', async () => {
    const h = await fx.start();
    expect(await h.call('ExtendedTriggerMessage', { requestedMessage: 'StatusNotification', connectorId: 9 })).toEqual({ status: 'Rejected' });
  });
});
