// The OCPP 1.6J link to the CSMS: ws transport (security profile, ping, backoff)
// plus the validating RPC client, with the action registry plugged in and
// connected/disconnected events for the session.
import { EventEmitter } from 'node:events';
import type { AgentConfig } from '../../config/agent-config.js';
import { createV16RpcClient, type FrameLogEvent } from '../rpc/rpc-client.js';
import type { OcppLogger } from '../transport/transport.js';
import { WsTransport } from '../transport/ws-transport.js';
import type { HandlerContext } from './actions/context.js';
import type { IncomingRegistry } from './actions/index.js';
import type { RpcCaller } from './session.js';
import type { CsmsAction, RequestOf } from './actions/types.js';

export interface CsmsConnectionEvents {
  connected: [];
  disconnected: [];
}

export interface CsmsConnection {
  readonly rpc: RpcCaller;
  readonly isConnected: boolean;
  registerHandlers(registry: IncomingRegistry, ctx: HandlerContext): void;
  on(event: keyof CsmsConnectionEvents, listener: () => void): unknown;
  open(): void;
  close(): Promise<void>;
}

export interface ConnectOptions {
  logger: OcppLogger;
  onFrame?: ((direction: 'in' | 'out', text: string) => void) | undefined;
  /** AuthorizationKey from the OCPP configuration, when the config file leaves basicAuthPassword null. */
  authorizationKey?: () => string | undefined;
  pingIntervalSeconds?: number;
}

export function connectCsms(cfg: AgentConfig, opts: ConnectOptions): CsmsConnection {
  const password = cfg.csms.basicAuthPassword ?? opts.authorizationKey?.();
  const transport = new WsTransport({
    url: cfg.csms.url,
    chargePointId: cfg.chargePointId,
    securityProfile: cfg.csms.securityProfile,
    ...(password ? { authorizationKey: password } : {}),
    ...(cfg.csms.caFile ? { ca: cfg.csms.caFile } : {}),
    pingIntervalSeconds: opts.pingIntervalSeconds ?? 60,
    logger: opts.logger,
  });
  const onFrame = opts.onFrame;
  const rpc = createV16RpcClient({
    transport,
    logger: opts.logger,
    ...(onFrame ? { onFrame: (e: FrameLogEvent) => onFrame(e.direction, e.text) } : {}),
  });
  const events = new EventEmitter<CsmsConnectionEvents>();
  transport.on('open', () => events.emit('connected'));
  transport.on('close', () => events.emit('disconnected'));
  transport.on('error', (err) => opts.logger.warn({ kind: err.kind, err: err.message }, 'CSMS connection problem'));

  return {
    rpc,
    get isConnected() {
      return transport.isOpen();
    },
    registerHandlers(registry, ctx) {
      for (const action of Object.keys(registry) as CsmsAction[]) {
        const handler = registry[action];
        // 'NotSupported': no handler, so the RPC client answers CALLERROR NotSupported.
        if (handler === 'NotSupported') continue;
        rpc.handle(action, (req: RequestOf<typeof action>) => (handler as (r: typeof req, c: HandlerContext) => never)(req, ctx));
      }
    },
    on(event, listener) {
      return events.on(event, listener);
    },
    open: () => transport.open(),
    close: async () => {
      await transport.close();
      rpc.dispose();
    },
  };
}
