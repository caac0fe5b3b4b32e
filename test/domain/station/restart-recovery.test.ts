// ChargingStation restart recovery and the journal veto, over the real serial driver and
// the simulator on a pty: a restored transaction goes on while its EV is plugged in (and
// stays suspended if the CSMS had refused its identifier), is stopped with the register the
// controller reports when the EV left, is never dropped when it has no connector; a
// transaction the journal cannot record is never started.
import { describe, expect, it } from 'vitest';
import type { SimulatedController } from '../../../hal/sim/simulated-controller.js';
import { ChargingStation, type StationOptions } from '../../../src/domain/station/charging-station.js';
import type { ChargeControllerPort } from '../../../src/domain/ports.js';
import type { Transaction } from '../../../src/domain/model/transaction.js';
import { SystemClock } from '../../../src/platform/clock.js';
import { recoveryPlan, type OpenTransaction } from '../../../src/domain/station/restart-recovery.js';
import { card } from '../../helpers/domain-terms.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { STATION_TEST_SETTINGS, useControllerOnPty } from '../../helpers/station-fixture.js';
import { waitFor } from '../../helpers/wait.js';

const pair = useControllerOnPty();
const simulator = (): Promise<SimulatedController> => pair.simulator({ meterMs: 0 });

/** A station as main.ts builds it after a restart: transactions restored before the link comes up. */
async function restartedStation(restore: Parameters<ChargingStation['restoreTransactions']>[0], opts: StationOptions = {}) {
  const controller = pair.controller();
  const events: string[] = [];
  const stopped: Transaction[] = [];
  const station = new ChargingStation(controller as ChargeControllerPort, { authorize: async () => ({ status: 'Accepted' }) }, STATION_TEST_SETTINGS, new SystemClock(), () => {}, opts);
  station.subscribe({
    transactionResumed: ({ tx }) => events.push(`resumed ${tx.localId}`),
    transactionEnded: ({ tx }) => {
      events.push(`stopped ${tx.localId} ${tx.stopReason}`);
      stopped.push(tx);
    },
  });
  station.restoreTransactions(restore);
  station.start();
  await controller.start();
  return { station, controller, events, stopped };
}

const open = (localId: string, meterStartWh = 1000): Transaction => ({ localId, evseId: 1, idToken: card('TAG'), startedAt: new Date(Date.now() - 600_000), meterStartWh });

describe('restart recovery', () => {
  it('EV still charging: the same transaction goes on and current is offered again', async () => {
    const s = await simulator();
    s.plugIn(1);
    s.evRequestEnergy(1);
    const { station, events } = await restartedStation([{ tx: open('t1'), reasonIfEnded: 'Reboot', endedAt: new Date() }]);
    await waitFor(() => events.includes('resumed t1'), 8_000, 'resumed');
    expect(station.transaction(1)?.localId).toBe('t1');
    await waitFor(() => s.state(1).offeredAmps === 32 && s.state(1).contactor, 8_000, 'charging again');
  });

  it('the CSMS had refused its identifier: resumed but suspended (0 A), not free energy', async () => {
    const s = await simulator();
    s.plugIn(1);
    s.evRequestEnergy(1);
    const { station, events } = await restartedStation([{ tx: open('t2'), reasonIfEnded: 'Reboot', endedAt: new Date(), refused: true }]);
    await waitFor(() => events.includes('resumed t2'), 8_000, 'resumed');
    await waitFor(() => station.offeredCurrent(1) === 0 && s.state(1).offeredAmps === 0, 8_000, 'suspended');
    expect(s.state(1).contactor).toBe(false);
  });

  it('EV gone while the agent was down: stopped with the given reason, time and the register the controller reports', async () => {
    const s = await simulator();
    const register = s.state(1).energyWh;
    const endedAt = new Date(Date.now() - 120_000);
    const { station, stopped } = await restartedStation([{ tx: open('t3', register - 500), reasonIfEnded: 'PowerLoss', endedAt }]);
    await waitFor(() => stopped.length === 1, 8_000, 'stopped');
    expect(stopped[0]).toMatchObject({ localId: 't3', stopReason: 'PowerLoss', meterStopWh: register, stoppedAt: endedAt });
    expect(station.transaction(1)).toBeNull();
  });

  it('a second open record for the same connector is stopped at once, never dropped', async () => {
    await simulator();
    const endedAt = new Date();
    const { stopped } = await restartedStation([
      { tx: open('first'), reasonIfEnded: 'Reboot', endedAt },
      { tx: open('second', 2000), reasonIfEnded: 'Reboot', endedAt },
    ]);
    // The second at once (no connector for it); the first once the controller says its EV is gone.
    await waitFor(() => stopped.length === 2, 8_000, 'both stopped');
    expect(stopped.map((t) => [t.localId, t.stopReason])).toEqual([['second', 'Reboot'], ['first', 'Reboot']]);
    expect(stopped[0]!.meterStopWh).toBe(2000);
  });
});

describe('the journal veto', () => {
  it('a transaction the journal cannot record is not started and the card is refused', async () => {
    const s = await simulator();
    s.plugIn(1);
    const cards: Array<[string, boolean]> = [];
    const { station, controller } = await restartedStation([], {
      journal: {
        started: () => {
          throw new Error('database or disk is full');
        },
      },
    });
    station.subscribe({ authorizationDecided: ({ idToken: { value: tag }, accepted: ok }) => cards.push([tag, ok]) });
    await waitFor(() => controller.isLinkUp && station.snapshot()[0]?.pilot === 'B', 8_000, 'plugged in');
    expect(await station.presentIdToken(card('04A2B3C4'))).toBe('rejected');
    expect(station.transaction(1)).toBeNull();
    expect(cards.at(-1)).toEqual(['04A2B3C4', false]);
    expect(s.state(1).enabled).toBe(false);
  });
});

describe('the recovery rule', () => {
  it('same kernel boot: Reboot, ended now; another boot: PowerLoss at the last known alive instant; a refused start stays refused', () => {
    const clock = new FakeClock();
    const alive = new Date(clock.now().getTime() - 60_000);
    const rows: OpenTransaction[] = [
      { ...open('same'), bootId: 'boot-A', authorizationStatus: 'Accepted' },
      { ...open('other'), bootId: 'boot-OLD', authorizationStatus: null },
      { ...open('unknown'), bootId: 'boot-OLD', authorizationStatus: 'Invalid' },
    ];
    const journal = { openTransactions: () => rows, lastKnownAlive: (localId: string) => (localId === 'other' ? alive : null) };
    const plan = recoveryPlan(journal, 'boot-A', clock);
    expect(plan.map((r) => [r.tx.localId, r.reasonIfEnded, r.endedAt.getTime(), r.refused])).toEqual([
      ['same', 'Reboot', clock.now().getTime(), false],
      ['other', 'PowerLoss', alive.getTime(), false],
      ['unknown', 'PowerLoss', rows[2]!.startedAt.getTime(), true],
    ]);
    // No boot id readable (not Linux): never the same boot.
    expect(recoveryPlan(journal, null, clock)[0]?.reasonIfEnded).toBe('PowerLoss');
  });
});
