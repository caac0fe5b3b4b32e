// OCPP 1.6 §4.2 BootNotification (outgoing/BootNotification.ts) from the real agent to the
// DevCsms: the identity it carries, what the answer sets (clock, HeartbeatInterval), and the
// wait before the next one when the answer gives no interval.
import { describe, expect, it } from 'vitest';
import { useAgentFixture } from '../../../helpers/action-fixture.js';
import { FakeClock } from '../../../helpers/fake-clock.js';
import { waitFor } from '../../../helpers/wait.js';
import { RETRY_BOOT_DEFAULT_S } from '../../../../src/ocpp/v16/outgoing/BootNotification.js';

const fx = useAgentFixture();

describe('BootNotification (OCPP 1.6 §4.2)', () => {
  it("carries the charger's identity and the controller's serial as the meter's", async () => {
    const h = await fx.start();
    const [boot] = h.csms.callsOf('BootNotification');
    const serial = h.agent.controller.info?.serialNumber;
    expect(serial).toBeTruthy();
    expect(boot!.params).toMatchObject({
      chargePointVendor: 'Acme',
      chargePointModel: 'AC22',
      chargePointSerialNumber: 'SN0042',
      chargeBoxSerialNumber: 'SN0042',
      meterSerialNumber: serial!.slice(0, 25),
    });
    expect(typeof boot!.params.firmwareVersion).toBe('string');
    expect(h.csms.strictFailures).toEqual([]);
  });

  it("Accepted: the answer's interval becomes HeartbeatInterval and its currentTime the clock", async () => {
    // The board's own idea of the time is a year off; the CSMS's is the real one.
    const clock = new FakeClock({ systemTime: Date.now() - 365 * 86_400_000 });
    const h = await fx.start({ clock, csms: { heartbeatIntervalS: 42 } });
    expect(h.agent.config.get('HeartbeatInterval')).toBe('42');
    expect(clock.synced).toBe(true);
    expect(Math.abs(clock.now().getTime() - Date.now())).toBeLessThan(86_400_000);
  });

  it('Pending with interval 0: the next one after the default wait, Accepted then', async () => {
    const clock = new FakeClock();
    const h = await fx.start({ clock, waitReady: false, csms: { bootStatus: 'Pending', heartbeatIntervalS: 0 } });
    await waitFor(() => h.agent.session.registrationStatus === 'Pending', 10_000, 'Pending');
    h.csms.setBootStatus('Accepted');
    clock.advance(RETRY_BOOT_DEFAULT_S * 1000 - 1);
    expect(h.csms.callsOf('BootNotification')).toHaveLength(1);
    clock.advance(1);
    await waitFor(() => h.agent.session.registrationStatus === 'Accepted', 8_000, 'Accepted');
    expect(h.csms.callsOf('BootNotification')).toHaveLength(2);
  });
});
