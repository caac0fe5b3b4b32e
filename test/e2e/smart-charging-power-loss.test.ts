// Smart charging across a power loss: the compiled agent as a child process (simulated controller
// inside), killed with SIGKILL after the CSMS lowered and then raised the station's limit. The
// lowering was written at once, the raise only coalesced; the agent started again on the same data
// dir never offers more than the lowered limit to the next transaction (read from `diag status`,
// the station's offered current, i.e. what went out as $ENABLE).
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DevCsms } from '../../src/devtools/dev-csms.js';
import { DiagClient } from '../../src/diagnostics/client.js';
import type { Json } from '../../src/diagnostics/protocol.js';
import { profile16 } from '../helpers/smart-charging.js';
import { waitFor, waitForListening } from '../helpers/wait.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/src/cli.js');
const CP = 'CP-SC-POWER';

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('run `npx tsc` first: dist/ is missing');
});

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

/** Each agent started, with what it printed and how it ended: a failing test says what the agent did. */
const agents: Array<{ child: ChildProcess; output: string }> = [];
function agentsReport(): string {
  return agents.map((a, i) => `agent ${i + 1}: exit ${a.child.exitCode ?? '-'} signal ${a.child.signalCode ?? '-'}\n${a.output.slice(-3000)}`).join('\n');
}

async function ask(socket: string, cmd: string, args: Record<string, Json> = {}): Promise<Record<string, unknown>> {
  try {
    const { client } = await DiagClient.connect(socket);
    try {
      return (await client.request(cmd, args)) as Record<string, unknown>;
    } finally {
      client.close();
    }
  } catch (err) {
    throw new Error(`diag ${cmd}: ${(err as Error).message}\n${agentsReport()}`);
  }
}

describe('smart charging: kill -9 of the agent process', () => {
  it('after a power loss the next transaction is offered the lowered limit, not the raise that was only coalesced', async () => {
    const csms = new DevCsms({});
    await csms.start();
    cleanups.push(() => csms.stop());
    const dir = mkdtempSync(join(tmpdir(), 'ca-sc-power-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const socket = join(dir, 'diag.sock');
    const configFile = join(dir, 'config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        chargePointId: CP,
        csms: { url: csms.url, securityProfile: 0, basicAuthPassword: null },
        controller: { simulated: true },
        dataDir: join(dir, 'data'),
        diagnosticsSocket: socket,
        identity: { vendor: 'Acme', model: 'AC22', serialNumber: 'SN0042' },
        logLevel: 'warn',
      }),
    );
    const start = async (): Promise<ChildProcess> => {
      const boots = csms.callsOf('BootNotification').length;
      const child = spawn(process.execPath, [CLI, 'run', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
      const agent = { child, output: '' };
      agents.push(agent);
      child.stdout!.on('data', (c: Buffer) => (agent.output += c.toString()));
      child.stderr!.on('data', (c: Buffer) => (agent.output += c.toString()));
      cleanups.push(async () => {
        child.kill('SIGKILL');
        await exited(child);
      });
      await waitFor(() => csms.callsOf('BootNotification').length > boots && csms.isConnected(CP), 30_000, 'the agent booted');
      await waitForListening(socket, 30_000, 'the diagnostics socket');
      return child;
    };

    const first = await start();
    const max = (limit: number) => ({ connectorId: 0, csChargingProfiles: profile16({ id: 1, purpose: 'ChargePointMaxProfile', periods: [[0, limit]] }) });
    expect(await csms.call(CP, 'SetChargingProfile', max(10))).toEqual({ status: 'Accepted' });
    expect(await csms.call(CP, 'SetChargingProfile', max(24))).toEqual({ status: 'Accepted' });
    const before = (await ask(socket, 'status'))['smartCharging'];
    expect(before).toMatchObject({ profileWrites: 1, profilesCoalesced: 1, limits: [{ connector: 1, limitA: 24 }] });
    first.kill('SIGKILL');
    await exited(first);
    rmSync(socket, { force: true });

    await start();
    await ask(socket, 'simulate', { action: 'plug', connector: 1 });
    await ask(socket, 'simulate', { action: 'card', uid: '04A2B3C4' });
    await waitFor(() => csms.callsOf('StartTransaction').length === 1, 30_000, 'StartTransaction');
    const status = await ask(socket, 'status');
    const connector = (status['connectors'] as Array<Record<string, unknown>>)[0];
    expect(connector).toMatchObject({ connector: 1, offeredA: 10 });
    expect(status['smartCharging']).toMatchObject({ limits: [{ connector: 1, limitA: 10 }] });
  });
});
