// Interop with an independent OCPP-J implementation: ocpp-rpc's RPCServer in strictMode (its own
// schemas) as the Central System. Our CALLs and CALLRESULTs must pass its validation, and its invalid
// CALLs must get the OCPP-J 1.6 §4.2.3 CALLERROR codes from us.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { RPCServer } from 'ocpp-rpc';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createV16RpcClient, type RpcClient } from '../../../src/ocpp/rpc/rpc-client.js';
import type { CallErrorCode16 } from '../../../src/ocpp/rpc/error-codes.js';
import type { ActionMap } from '../../../src/ocpp/v16/generated/action-map.js';
import { WsTransport } from '../../../src/ocpp/transport/ws-transport.js';
import { waitFor } from '../../helpers/wait.js';

interface ServerClient {
  identity: string;
  handle(method: string, handler: (call: { params: Record<string, unknown> }) => unknown): void;
  call(method: string, params: Record<string, unknown>): Promise<unknown>;
  sendRaw(message: string): void;
  on(event: 'message', listener: (e: { message: string; outbound: boolean }) => void): void;
}

let server: RPCServer;
let transport: WsTransport;
let client: RpcClient<ActionMap, CallErrorCode16>;
let peer: ServerClient;
let received: unknown[][];

beforeEach(async () => {
  server = new RPCServer({ protocols: ['ocpp1.6'], strictMode: true });
  received = [];
  const connected = new Promise<ServerClient>((resolve) => {
    server.on('client', (c: ServerClient) => {
      c.handle('BootNotification', () => ({ status: 'Accepted', currentTime: new Date().toISOString(), interval: 300 }));
      c.on('message', ({ message, outbound }) => {
        if (!outbound) received.push(JSON.parse(message) as unknown[]);
      });
      resolve(c);
    });
  });
  const http = await server.listen(0, '127.0.0.1');
  const { port } = http.address() as AddressInfo;
  transport = new WsTransport({ url: `ws://127.0.0.1:${port}`, chargePointId: 'CP-INTEROP', securityProfile: 0, pingIntervalSeconds: 0 });
  client = createV16RpcClient({ transport, callTimeoutMs: 8_000 });
  const opened = once(transport, 'open');
  transport.open();
  await opened;
  peer = await connected;
});

afterEach(async () => {
  client.dispose();
  await transport.close();
  await server.close({ force: true });
});

async function answerTo(id: string): Promise<unknown[]> {
  await waitFor(() => received.some((m) => m[1] === id), 8_000, `answer to ${id}`);
  return received.find((m) => m[1] === id) ?? [];
}

describe('interop with ocpp-rpc RPCServer (strictMode)', () => {
  it('BootNotification is accepted by the strict server', async () => {
    expect(peer.identity).toBe('CP-INTEROP');
    const conf = await client.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'AC-22' });
    expect(conf.status).toBe('Accepted');
    expect(conf.interval).toBe(300);
  });

  it('our CALLRESULT to its CALL passes its strict response validation', async () => {
    client.handle('ChangeAvailability', (req) => ({ status: req.type === 'Inoperative' ? 'Scheduled' : 'Accepted' }));
    await expect(peer.call('ChangeAvailability', { connectorId: 1, type: 'Inoperative' })).resolves.toEqual({ status: 'Scheduled' });
  });

  it('an invalid CALL from the server gets the mapped 1.6 CALLERROR codes', async () => {
    client.handle('Reset', () => ({ status: 'Accepted' }));
    client.handle('ChangeAvailability', () => ({ status: 'Accepted' }));
    peer.sendRaw(JSON.stringify([2, 'bad-enum', 'Reset', { type: 'Medium' }]));
    peer.sendRaw(JSON.stringify([2, 'bad-type', 'ChangeAvailability', { connectorId: 'one', type: 'Operative' }]));
    peer.sendRaw(JSON.stringify([2, 'bad-missing', 'ChangeAvailability', { connectorId: 1 }]));
    expect(await answerTo('bad-enum')).toEqual([4, 'bad-enum', 'PropertyConstraintViolation', expect.stringContaining('type'), {}]);
    expect(await answerTo('bad-type')).toEqual([4, 'bad-type', 'TypeConstraintViolation', expect.stringContaining('connectorId'), {}]);
    expect(await answerTo('bad-missing')).toEqual([4, 'bad-missing', 'OccurenceConstraintViolation', expect.stringContaining('type'), {}]);
  });
});
