// RpcClient over a REAL ws server on 127.0.0.1 through WsTransport (OCPP-J 1.6 §4): one CALL in
// flight, timeouts, incoming CALLs served meanwhile, exactly one reply per CALL, every CALLERROR path.
// Call timeouts run on a FakeClock; ordering is proved with sentinel CALLs, never with sleeps.
import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import { DEFAULT_MAX_INCOMING_BYTES, createV16RpcClient, type FrameLogEvent, type RpcClient } from '../../../src/ocpp/rpc/rpc-client.js';
import {
  CallErrorReply,
  CallTimeoutError,
  ConnectionClosedError,
  InvalidOutgoingPayloadError,
  InvalidResponseError,
  RemoteCallError,
} from '../../../src/ocpp/rpc/rpc-errors.js';
import type { CallErrorCode16 } from '../../../src/ocpp/rpc/error-codes.js';
import type { ActionMap } from '../../../src/ocpp/v16/generated/action-map.js';
import { WsTransport } from '../../../src/ocpp/transport/ws-transport.js';
import type { AgentLogger } from '../../../src/platform/logger.js';
import { FakeClock } from '../../helpers/fake-clock.js';

/** The CSMS side: one accepted socket and its incoming messages in order. */
class Peer {
  readonly wss: WebSocketServer;
  socket: ServerSocket | undefined;
  readonly #inbox: unknown[][] = [];
  readonly #waiters: ((m: unknown[]) => void)[] = [];

  constructor() {
    this.wss = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      maxPayload: 4 * 1024 * 1024,
      handleProtocols: (protocols) => (protocols.has('ocpp1.6') ? 'ocpp1.6' : false),
    });
    this.wss.on('connection', (ws) => {
      this.socket = ws;
      ws.on('message', (data) => {
        const msg = JSON.parse(String(data)) as unknown[];
        const waiter = this.#waiters.shift();
        if (waiter) waiter(msg);
        else this.#inbox.push(msg);
      });
    });
  }
  get url(): string {
    const addr = this.wss.address();
    if (addr === null || typeof addr === 'string') throw new Error('unexpected address');
    return `ws://127.0.0.1:${addr.port}/ocpp/`;
  }
  next(): Promise<unknown[]> {
    const queued = this.#inbox.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('peer: no message')), 8_000);
      this.#waiters.push((m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  }
  send(frame: unknown): void {
    this.socket?.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }
  /** Send a CALL the client has no handler for; its NotSupported answer proves nothing came before. */
  async sentinel(id: string): Promise<void> {
    this.send([2, id, 'Reset', { type: 'Soft' }]);
    expect(await this.next()).toEqual([4, id, 'NotSupported', expect.any(String), {}]);
  }
  close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}

interface Logged {
  level: string;
  obj: object;
  msg: string | undefined;
}

let peer: Peer;
let transport: WsTransport;
let clock: FakeClock;
let client: RpcClient<ActionMap, CallErrorCode16>;
let frames: FrameLogEvent[];
let logs: Logged[];

beforeEach(async () => {
  peer = new Peer();
  await once(peer.wss, 'listening');
  logs = [];
  const logger: AgentLogger = {
    debug: (obj, msg) => logs.push({ level: 'debug', obj, msg }),
    info: (obj, msg) => logs.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => logs.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => logs.push({ level: 'error', obj, msg }),
  };
  transport = new WsTransport({ url: peer.url, chargePointId: 'CP-1', securityProfile: 0, pingIntervalSeconds: 0 });
  clock = new FakeClock();
  frames = [];
  client = createV16RpcClient({ transport, timers: clock, logger, onFrame: (e) => frames.push(e), callTimeoutMs: 30_000 });
  const opened = once(transport, 'open');
  transport.open();
  await opened;
  await peer.sentinel('warm-up');
});

afterEach(async () => {
  client.dispose();
  await transport.close();
  await peer.close();
});

const BOOT = { chargePointVendor: 'Acme', chargePointModel: 'AC-22' };
const BOOT_CONF = { status: 'Accepted', currentTime: '2025-01-01T00:00:00Z', interval: 300 };

describe('RpcClient: one CALL in flight (OCPP-J 1.6 §4.1.1)', () => {
  it('sends the second CALL only after the first is answered, and serves an incoming CALL meanwhile', async () => {
    client.handle('GetConfiguration', () => ({ configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '300' }] }));
    const first = client.call('BootNotification', BOOT);
    const second = client.call('Heartbeat', {});
    expect(client.pendingCount).toBe(2);

    const call1 = await peer.next();
    expect(call1.slice(0, 3)).toEqual([2, expect.any(String), 'BootNotification']);
    // Our own CALL while theirs is outstanding: its answer must be the next thing on the wire.
    peer.send([2, 'csms-1', 'GetConfiguration', {}]);
    expect(await peer.next()).toEqual([3, 'csms-1', { configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '300' }] }]);

    peer.send([3, call1[1], BOOT_CONF]);
    await expect(first).resolves.toEqual(BOOT_CONF);
    const call2 = await peer.next();
    expect(call2.slice(0, 3)).toEqual([2, expect.any(String), 'Heartbeat']);
    expect(call2[1]).not.toBe(call1[1]);
    expect(String(call2[1]).length).toBeLessThanOrEqual(36);
    peer.send([3, call2[1], { currentTime: '2025-01-01T00:00:05Z' }]);
    await expect(second).resolves.toEqual({ currentTime: '2025-01-01T00:00:05Z' });
    expect(client.pendingCount).toBe(0);
  });

  it('times out, moves on to the queued CALL, and drops the late CALLRESULT with a log line', async () => {
    const first = client.call('Heartbeat', {});
    const second = client.call('Heartbeat', {});
    const call1 = await peer.next();
    clock.advance(29_999);
    await peer.sentinel('s-before-timeout'); // still waiting: nothing else was sent
    clock.advance(1);
    await expect(first).rejects.toBeInstanceOf(CallTimeoutError);
    const call2 = await peer.next();
    peer.send([3, call1[1], { currentTime: '2025-01-01T00:00:00Z' }]); // late
    await peer.sentinel('s-after-late');
    expect(logs.some((l) => l.msg?.includes('unknown or late') && (l.obj as { messageId?: string }).messageId === call1[1])).toBe(true);
    peer.send([3, call2[1], { currentTime: '2025-01-01T00:00:01Z' }]);
    await expect(second).resolves.toEqual({ currentTime: '2025-01-01T00:00:01Z' });
  });

  it('rejects the outstanding and queued CALLs with ConnectionClosedError when the connection drops', async () => {
    const first = client.call('Heartbeat', {});
    const second = client.call('Heartbeat', {});
    await peer.next();
    peer.socket?.terminate();
    await expect(first).rejects.toMatchObject({ name: 'ConnectionClosedError', maybeDelivered: true });
    await expect(second).rejects.toMatchObject({ name: 'ConnectionClosedError', maybeDelivered: false });
    await transport.close();
    await expect(client.call('Heartbeat', {})).rejects.toBeInstanceOf(ConnectionClosedError);
  });
});

describe('RpcClient: responses to our CALLs', () => {
  it('rejects with RemoteCallError on CALLERROR', async () => {
    const p = client.call('Authorize', { idTag: 'TAG1' });
    const call = await peer.next();
    peer.send([4, call[1], 'SecurityError', 'nope', { hint: 1 }]);
    await expect(p).rejects.toMatchObject({ name: 'RemoteCallError', errorCode: 'SecurityError', errorDescription: 'nope', errorDetails: { hint: 1 } });
    await expect(p).rejects.toBeInstanceOf(RemoteCallError);
  });

  it('rejects with InvalidResponseError when the CALLRESULT fails the response schema', async () => {
    const p = client.call('Authorize', { idTag: 'TAG1' });
    const call = await peer.next();
    peer.send([3, call[1], { idTagInfo: { status: 'Maybe' } }]);
    await expect(p).rejects.toMatchObject({ errorCode: 'PropertyConstraintViolation' });
    await expect(p).rejects.toBeInstanceOf(InvalidResponseError);
  });

  it('rejects at once when the CALLRESULT for it is malformed', async () => {
    const p = client.call('Heartbeat', {});
    const call = await peer.next();
    peer.send([3, call[1], 'not an object']);
    await expect(p).rejects.toMatchObject({ name: 'InvalidResponseError', errorCode: 'FormationViolation' });
  });

  it('never sends an invalid CALL of ours: typed rejection and an error log', async () => {
    const bad = { chargePointVendor: 'x'.repeat(21), chargePointModel: 'M' };
    await expect(client.call('BootNotification', bad)).rejects.toBeInstanceOf(InvalidOutgoingPayloadError);
    expect(logs.some((l) => l.level === 'error' && l.msg?.includes('invalid CALL'))).toBe(true);
    const ok = client.call('Heartbeat', {});
    const next = await peer.next();
    expect(next[2]).toBe('Heartbeat'); // the bad BootNotification never reached the wire
    peer.send([3, next[1], { currentTime: '2025-01-01T00:00:00Z' }]);
    await ok;
  });
});

describe('RpcClient: incoming CALLs get exactly one reply', () => {
  it('a CALL sent right behind the CALLRESULT is served after the code awaiting that result has run', async () => {
    // A CSMS that answers StartTransaction and at once sends RemoteStopTransaction for the id it gave:
    // the stop must find the id the agent recorded on the answer.
    let confirmedId: number | undefined;
    client.handle('RemoteStopTransaction', ({ transactionId }) => ({ status: transactionId === confirmedId ? 'Accepted' : 'Rejected' }));
    const started = client.call('StartTransaction', { connectorId: 1, idTag: 'TAG1', meterStart: 0, timestamp: '2025-01-01T00:00:00Z' }).then((conf) => {
      confirmedId = conf.transactionId;
    });
    const call = await peer.next();
    // Peer and client share this process: both frames are on the socket before the client reads, in one chunk.
    peer.send([3, call[1], { transactionId: 7, idTagInfo: { status: 'Accepted' } }]);
    peer.send([2, 'rs-1', 'RemoteStopTransaction', { transactionId: 7 }]);
    await started;
    expect(await peer.next()).toEqual([3, 'rs-1', { status: 'Accepted' }]);
  });

  it('unknown action -> NotImplemented', async () => {
    peer.send([2, 'c1', 'MakeCoffee', {}]);
    expect(await peer.next()).toEqual([4, 'c1', 'NotImplemented', expect.stringContaining('MakeCoffee'), {}]);
  });

  it('known action without handler -> NotSupported', async () => {
    peer.send([2, 'c2', 'ClearCache', {}]);
    expect(await peer.next()).toEqual([4, 'c2', 'NotSupported', expect.any(String), {}]);
  });

  it('invalid payload -> the mapped CALLERROR naming the field; the handler is not called', async () => {
    let called = false;
    client.handle('ChangeAvailability', () => {
      called = true;
      return { status: 'Accepted' };
    });
    peer.send([2, 'c3', 'ChangeAvailability', { connectorId: 'one', type: 'Operative' }]);
    expect(await peer.next()).toEqual([4, 'c3', 'TypeConstraintViolation', expect.stringContaining('connectorId'), {}]);
    peer.send([2, 'c4', 'ChangeAvailability', { connectorId: 1 }]);
    expect(await peer.next()).toEqual([4, 'c4', 'OccurenceConstraintViolation', expect.stringContaining("'type'"), {}]);
    expect(called).toBe(false);
  });

  it('handler throws -> one InternalError, nothing else', async () => {
    client.handle('Reset', async () => {
      await Promise.resolve();
      throw new Error('relay stuck');
    });
    peer.send([2, 'c5', 'Reset', { type: 'Hard' }]);
    expect(await peer.next()).toEqual([4, 'c5', 'InternalError', expect.any(String), {}]);
    client.removeHandler('Reset');
    await peer.sentinel('after-throw');
  });

  it('handler returns a response the schema rejects -> InternalError and a loud log', async () => {
    client.handle('UnlockConnector', () => ({ status: 'Opened' }) as never);
    peer.send([2, 'c6', 'UnlockConnector', { connectorId: 1 }]);
    expect(await peer.next()).toEqual([4, 'c6', 'InternalError', expect.any(String), {}]);
    expect(logs.some((l) => l.level === 'error' && l.msg?.includes('invalid response'))).toBe(true);
  });

  it('handler throws CallErrorReply -> that code', async () => {
    client.handle('DataTransfer', () => {
      throw new CallErrorReply('SecurityError', 'vendor not allowed', { vendorId: 'X' });
    });
    peer.send([2, 'c7', 'DataTransfer', { vendorId: 'X' }]);
    expect(await peer.next()).toEqual([4, 'c7', 'SecurityError', 'vendor not allowed', { vendorId: 'X' }]);
  });

  it('not-JSON with a readable id -> FormationViolation; without one -> dropped', async () => {
    peer.send('[2,"c8","Heartbeat",{');
    expect(await peer.next()).toEqual([4, 'c8', 'FormationViolation', expect.any(String), {}]);
    peer.send('garbage');
    await peer.sentinel('after-garbage');
    expect(logs.some((l) => l.msg === 'malformed frame' && (l.obj as { reason?: string }).reason === 'not-json')).toBe(true);
  });

  it('CALL without payload -> ProtocolError', async () => {
    peer.send([2, 'c9', 'Heartbeat']);
    expect(await peer.next()).toEqual([4, 'c9', 'ProtocolError', expect.any(String), {}]);
  });

  it('a CALL over the frame limit gets FormationViolation naming the limit; the connection stays usable', async () => {
    client.handle('ChangeConfiguration', () => ({ status: 'Accepted' }));
    const bytes = DEFAULT_MAX_INCOMING_BYTES + 1024;
    peer.send([2, 'huge', 'ChangeConfiguration', { key: 'K', value: 'v'.repeat(bytes) }]);
    const answer = await peer.next();
    expect(answer).toEqual([4, 'huge', 'FormationViolation', expect.stringContaining(`${DEFAULT_MAX_INCOMING_BYTES}-byte frame limit`), { maxBytes: DEFAULT_MAX_INCOMING_BYTES }]);
    expect(logs.some((l) => l.msg === 'incoming frame too large' && (l.obj as { action?: string }).action === 'ChangeConfiguration')).toBe(true);
    expect(transport.isOpen()).toBe(true);
    await peer.sentinel('after-huge');
  });

  it('an oversize frame whose id cannot be read is dropped with a log line', async () => {
    peer.send(`[2, 17, "Reset", {"pad": "${'x'.repeat(DEFAULT_MAX_INCOMING_BYTES)}"}]`);
    await peer.sentinel('after-unreadable');
    expect(logs.some((l) => l.msg === 'incoming frame too large and no message id readable, dropped')).toBe(true);
  });

  it('an oversize CALLRESULT fails our CALL at once instead of leaving it to the timeout', async () => {
    const p = client.call('Heartbeat', {});
    const call = await peer.next();
    peer.send([3, call[1], { currentTime: '2025-01-01T00:00:00Z', pad: 'p'.repeat(DEFAULT_MAX_INCOMING_BYTES) }]);
    await expect(p).rejects.toMatchObject({ name: 'InvalidResponseError', errorCode: 'FormationViolation' });
    expect(clock.pendingTimers()).toBe(0);
  });

  it('logs every frame with direction, action and message id', async () => {
    client.handle('ClearCache', () => ({ status: 'Accepted' }));
    peer.send([2, 'c10', 'ClearCache', {}]);
    expect(await peer.next()).toEqual([3, 'c10', { status: 'Accepted' }]);
    expect(frames).toContainEqual({ direction: 'in', messageTypeId: 2, messageId: 'c10', action: 'ClearCache', text: '[2,"c10","ClearCache",{}]' });
    expect(frames).toContainEqual({ direction: 'out', messageTypeId: 3, messageId: 'c10', action: 'ClearCache', text: '[3,"c10",{"status":"Accepted"}]' });
  });
});
