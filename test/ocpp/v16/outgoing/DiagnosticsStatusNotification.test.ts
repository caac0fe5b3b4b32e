// OCPP 1.6 §4.4 DiagnosticsStatusNotification (outgoing/DiagnosticsStatusNotification.ts) from the real agent to the DevCsms: with no
// upload running, a TriggerMessage gets Idle, while Pending too (§4.2: triggered messages may be
// sent then). The statuses of a GetDiagnostics upload are tested in actions/GetDiagnostics.test.ts.
import { describe, expect, it } from 'vitest';
import { useAgentFixture } from '../../../helpers/action-fixture.js';
import { waitFor } from '../../../helpers/wait.js';
import { OUTGOING_ACTIONS } from '../../../../src/ocpp/v16/outgoing/index.js';
import { diagnosticsStatusNotificationRequest } from '../../../../src/ocpp/v16/outgoing/DiagnosticsStatusNotification.js';

const fx = useAgentFixture();

describe('DiagnosticsStatusNotification (OCPP 1.6 §4.4)', () => {
  it('never sent unasked; triggered with no upload running: Idle, schema-valid', async () => {
    const h = await fx.start();
    const m = h.mark();
    expect(await h.call('TriggerMessage', { requestedMessage: 'DiagnosticsStatusNotification' })).toEqual({ status: 'Accepted' });
    const [sent] = await h.waitCalls(m, 'DiagnosticsStatusNotification');
    expect(sent!.params).toEqual({ status: 'Idle' });
    expect(h.csms.callsOf('DiagnosticsStatusNotification')).toHaveLength(1);
    expect(h.csms.strictFailures).toEqual([]);
  });

  it('triggered while Pending: sent', async () => {
    const h = await fx.start({ waitReady: false, csms: { bootStatus: 'Pending', heartbeatIntervalS: 300 } });
    await waitFor(() => h.agent.session.registrationStatus === 'Pending', 10_000, 'Pending');
    const m = h.mark();
    expect(await h.call('TriggerMessage', { requestedMessage: 'DiagnosticsStatusNotification' })).toEqual({ status: 'Accepted' });
    await h.waitCalls(m, 'DiagnosticsStatusNotification');
  });

  it('the registry declares it triggerable; the request carries the status', () => {
    const entry = OUTGOING_ACTIONS.DiagnosticsStatusNotification;
    expect(entry !== 'NotSent' && typeof entry.trigger).toBe('function');
    expect(diagnosticsStatusNotificationRequest('Idle')).toEqual({ status: 'Idle' });
  });
});
