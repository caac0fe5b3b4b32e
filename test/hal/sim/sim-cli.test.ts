// hal/sim/sim-cli.ts: the scripting command interpreter (runSimCommand) driving a
// simulator on a pty, as the standalone CLI and the diagnostics socket use it,
// and its argument parsing. Events are checked on the wire (controller-serial.md §Events).
import { afterEach, describe, expect, it } from 'vitest';
import { openPtyPair } from '../../../hal/sim/pty-pair.js';
import { parseSimCliArgs, runSimCommand } from '../../../hal/sim/sim-cli.js';
import { SimulatedController } from '../../../hal/sim/simulated-controller.js';
import { WireAgent } from './wire-agent.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function rig(): Promise<{ agent: WireAgent; sim: SimulatedController }> {
  const pair = await openPtyPair();
  cleanups.push(() => pair.close());
  const agent = await WireAgent.open(pair.agentPath);
  cleanups.push(() => agent.close());
  const sim = new SimulatedController({ path: pair.controllerPath, meterMs: 0, connectors: 2 });
  cleanups.push(() => sim.stop());
  await sim.start();
  await agent.waitType('HELLO');
  return { agent, sim };
}

describe('runSimCommand', () => {
  it('drives the EV, the reader and faults, visible on the wire', async () => {
    const { agent, sim } = await rig();
    const m = agent.mark();
    expect(runSimCommand(sim, 'plug 2 20 10')).toMatch(/plugged/);
    expect(await agent.waitType('PP', m)).toEqual({ type: 'PP', connector: 2, amps: 20 });
    expect(sim.state(2)).toMatchObject({ pilot: 'B', pp: 20, evMaxAmps: 10 });

    runSimCommand(sim, 'charge 2');
    const c = await agent.waitType('CP', m, (f) => f.state === 'C');
    runSimCommand(sim, '  pause   2 ');
    expect(await agent.waitType('CP', agent.frames.indexOf(c) + 1)).toEqual({ type: 'CP', connector: 2, state: 'B' });

    runSimCommand(sim, 'card 04a2b3c4d5e6f7');
    expect(await agent.waitType('RFID', m)).toEqual({ type: 'RFID', uid: '04A2B3C4D5E6F7' });

    runSimCommand(sim, 'fault 0 rcd_trip');
    expect(await agent.waitType('FAULT', m)).toEqual({ type: 'FAULT', connector: 0, code: 'RCD_TRIP' });
    expect(runSimCommand(sim, 'state')).toMatch(/faults RCD_TRIP/);
    runSimCommand(sim, 'clear 0 RCD_TRIP');
    expect(await agent.waitType('FAULTCLR', m)).toEqual({ type: 'FAULTCLR', connector: 0, code: 'RCD_TRIP' });

    runSimCommand(sim, 'unplug 2');
    await agent.waitType('PP', m, (f) => f.amps === 0);

    runSimCommand(sim, 'raw $CP,1,B*61');
    runSimCommand(sim, 'reboot');
    await agent.waitType('HELLO', m);
    expect(agent.bad).toEqual(['$CP,1,B*61']);
  });

  it('mute and drop shape the answers', async () => {
    const { agent, sim } = await rig();
    runSimCommand(sim, 'drop 1');
    const m = agent.mark();
    const seq = agent.send({ type: 'PING' });
    const { answer } = await agent.command({ type: 'PING' }, seq); // the resend is answered
    expect(answer).toEqual({ type: 'ACK', seq });
    expect(agent.frames.slice(m)).toEqual([answer]);
    expect(runSimCommand(sim, 'mute on')).toMatch(/muted/);
    expect(sim.isMuted).toBe(true);
    expect(runSimCommand(sim, 'state')).toMatch(/MUTED/);
    runSimCommand(sim, 'mute off');
    expect(sim.isMuted).toBe(false);
  });

  it('describes state per connector and the station', async () => {
    const { sim } = await rig();
    runSimCommand(sim, 'plug 1 32');
    const out = runSimCommand(sim, 'state').split('\n');
    expect(out).toHaveLength(3);
    expect(out[0]).toMatch(/^connector 1: pilot B, cable 32 A, disabled, contactor open, lock unlocked, 0 A, 0 Wh$/);
    expect(out[1]).toMatch(/^connector 2: pilot A, cable 0 A/);
    expect(out[2]).toMatch(/^station: uptime \d+ s, METER_MS 0, WATCHDOG_MS 5000, FALLBACK_A 0$/);
  });

  it('reports bad input as an error line and never throws', async () => {
    const { sim } = await rig();
    expect(runSimCommand(sim, 'plug 9')).toMatch(/^error: no connector 9/);
    expect(runSimCommand(sim, 'plug 1 33')).toMatch(/^error: cable capacity/);
    expect(runSimCommand(sim, 'charge 1')).toMatch(/^error: connector 1 has no EV/);
    expect(runSimCommand(sim, 'card 123')).toMatch(/^error: UID/);
    expect(runSimCommand(sim, 'fault 1 bad-code')).toMatch(/^error: fault code/);
    expect(runSimCommand(sim, 'pilot 1 X')).toMatch(/^error: pilot state/);
    expect(runSimCommand(sim, 'mute maybe')).toMatch(/^error/);
    expect(runSimCommand(sim, 'fly')).toMatch(/^error: unknown command "fly"/);
    expect(runSimCommand(sim, '')).toBe('');
    expect(runSimCommand(sim, 'quit')).toBe('quit');
    expect(runSimCommand(sim, 'help')).toMatch(/plug <c>/);
  });
});

describe('parseSimCliArgs', () => {
  it('parses the options and rejects unknown ones', () => {
    expect(parseSimCliArgs([])).toEqual({ connectors: 1, threePhase: true, quiet: false, stay: false });
    expect(parseSimCliArgs(['--connectors', '2', '--single-phase', '--meter-ms', '500', '--backend', 'python', '--time-scale', '60'])).toEqual({
      connectors: 2,
      threePhase: false,
      meterMs: 500,
      timeScale: 60,
      backend: 'python',
      quiet: false,
      stay: false,
    });
    expect(() => parseSimCliArgs(['--connectors'])).toThrow(/needs a value/);
    expect(() => parseSimCliArgs(['--colour'])).toThrow(/unknown argument/);
    expect(() => parseSimCliArgs(['--backend', 'tcp'])).toThrow(/socat\|python/);
  });
});
