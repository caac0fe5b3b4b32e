// OCPP 1.6 §4.6 Heartbeat (outgoing/Heartbeat.ts) from the real agent to the DevCsms, on a
// driven clock: every HeartbeatInterval once Accepted, re-armed when the key changes, and the
// answer's currentTime sets the clock.
import { describe, expect, it } from 'vitest';
import { useAgentFixture } from '../../../helpers/action-fixture.js';
import { FakeClock } from '../../../helpers/fake-clock.js';
import { waitFor } from '../../../helpers/wait.js';

const fx = useAgentFixture();

describe('Heartbeat (OCPP 1.6 §4.6)', () => {
  it('every HeartbeatInterval seconds; the answer sets the clock', async () => {
    const clock = new FakeClock();
    const h = await fx.start({ clock, csms: { heartbeatIntervalS: 60 } });
    const m = h.mark();
    // The clock drifted far away since the BootNotification answer.
    clock.setOffsetFrom(new Date('2001-01-01T00:00:00Z'));
    clock.advance(60_000);
    const [beat] = await h.waitCalls(m, 'Heartbeat');
    expect(beat!.params).toEqual({});
    await waitFor(() => Math.abs(clock.now().getTime() - Date.now()) < 86_400_000, 8_000, 'clock set from the answer');
    clock.advance(60_000);
    await h.waitCalls(m, 'Heartbeat', 2);
  });

  it('a new HeartbeatInterval re-arms the timer', async () => {
    const clock = new FakeClock();
    const h = await fx.start({ clock, csms: { heartbeatIntervalS: 3600 } });
    const m = h.mark();
    expect(await h.call('ChangeConfiguration', { key: 'HeartbeatInterval', value: '10' })).toEqual({ status: 'Accepted' });
    clock.advance(10_000);
    await h.waitCalls(m, 'Heartbeat');
    clock.advance(10_000);
    await h.waitCalls(m, 'Heartbeat', 2);
  });
});
