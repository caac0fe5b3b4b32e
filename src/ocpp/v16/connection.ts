// The OCPP 1.6J link to the CSMS: ws transport (security profile, ping, backoff)
// plus the validating RPC client, with the action registry plugged in and
// connected/disconnected events for the session. While the CSMS has Rejected us, its
// CALLs get no answer at all (OCPP 1.6 §4.2), so they are dropped before the RPC layer.
import { frameTextForLog } from '../rpc/frame-text.js';
import { EventEmitter } from 'node:events';
import type { AgentConfig } from '../../config/agent-config.js';
import { createV16RpcClient, type FrameLogEvent } from '../rpc/rpc-client.js';
import type { Transport, TransportEventName, TransportListener } from '../transport/transport.js';
import { WsTransport, type ConnectionSettings } from '../transport/ws-transport.js';
import type { SecurityEventSink } from '../../security/security-events.js';
import type { HandlerContext } from './actions/context.js';
import type { IncomingRegistry } from './actions/index.js';
import type { RpcCaller } from './session.js';
import type { CsmsAction, RequestOf } from './actions/types.js';
import type { AgentLogger } from '../../platform/logger.js';

export interface CsmsConnectionEvents {
  connected: [];
  disconnected: [];
}

/** The port the certificate actions use after CertificateSigned: reconnect to present the new certificate. */
export interface ConnectionControl {
  reconnect(reason: string): void;
}

export interface CsmsConnection extends ConnectionControl {
  readonly rpc: RpcCaller;
  readonly isConnected: boolean;
  registerHandlers(registry: IncomingRegistry, ctx: HandlerContext): void;
  on(event: keyof CsmsConnectionEvents, listener: () => void): unknown;
  open(): void;
  close(): Promise<void>;
}

export interface ConnectOptions {
  logger: AgentLogger;
  onFrame?: ((direction: 'in' | 'out', text: string) => void) | undefined;
  /** AuthorizationKey from the OCPP configuration, when the config file leaves basicAuthPassword null. */
  authorizationKey?: () => string | undefined;
  pingIntervalSeconds?: number;
  /** Profile, URL, key and TLS material read before each attempt (security-profile.ts); default: the config file's. */
  settings?: () => ConnectionSettings;
  securityEvents?: SecurityEventSink;
}

export function connectCsms(cfg: AgentConfig, opts: ConnectOptions): CsmsConnection {
  const password = cfg.csms.basicAuthPassword ?? opts.authorizationKey?.();
  const transport = new WsTransport({
    url: cfg.csms.url,
    chargePointId: cfg.chargePointId,
    securityProfile: cfg.csms.securityProfile,
    ...(password ? { authorizationKey: password } : {}),
    ...(cfg.csms.caFile ? { ca: cfg.csms.caFile } : {}),
    // Paths, so the transport re-reads them on each connect (a renewed certificate takes effect).
    ...(cfg.csms.clientCertFile ? { clientCert: cfg.csms.clientCertFile } : {}),
    ...(cfg.csms.clientKeyFile ? { clientKey: cfg.csms.clientKeyFile } : {}),
    pingIntervalSeconds: opts.pingIntervalSeconds ?? 60,
    logger: opts.logger,
    ...(opts.settings ? { settings: opts.settings } : {}),
    ...(opts.securityEvents ? { securityEvents: opts.securityEvents } : {}),
  });
  const onFrame = opts.onFrame;
  let silenced: () => boolean = () => false;
  const rpc = createV16RpcClient({
    transport: dropCallsWhile(transport, () => silenced(), opts.logger),
    logger: opts.logger,
    ...(onFrame ? { onFrame: (e: FrameLogEvent) => onFrame(e.direction, e.text) } : {}),
  });
  const events = new EventEmitter<CsmsConnectionEvents>();
  transport.on('open', () => events.emit('connected'));
  transport.on('close', () => events.emit('disconnected'));
  // No 'error' listener logging here: the transport already warns once per failed attempt.

  return {
    rpc,
    get isConnected() {
      return transport.isOpen();
    },
    registerHandlers(registry, ctx) {
      silenced = () => ctx.session.registrationStatus === 'Rejected';
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
    reconnect: (reason) => transport.reconnect(reason),
    close: async () => {
      await transport.close();
      rpc.dispose();
    },
  };
}

/** The transport as the RPC client sees it, minus incoming CALL frames while `silent()` holds. */
function dropCallsWhile(transport: Transport, silent: () => boolean, log: AgentLogger): Transport {
  const wrapped = new Map<TransportListener<'message'>, TransportListener<'message'>>();
  const view: Transport = {
    open: () => transport.open(),
    close: () => transport.close(),
    send: (text) => transport.send(text),
    isOpen: () => transport.isOpen(),
    on<E extends TransportEventName>(event: E, listener: TransportListener<E>) {
      if (event !== 'message') {
        transport.on(event, listener);
        return view;
      }
      const inner = listener as TransportListener<'message'>;
      const filtered: TransportListener<'message'> = (text) => {
        // A CALL is `[2,...`; answers to our own CALLs (the next BootNotification) still pass.
        if (silent() && /^\s*\[\s*2\s*,/.test(text)) {
          log.warn({ head: frameTextForLog(text, 80) }, 'registration Rejected: CSMS request ignored (OCPP 1.6 §4.2)');
          return;
        }
        inner(text);
      };
      wrapped.set(inner, filtered);
      transport.on('message', filtered);
      return view;
    },
    off<E extends TransportEventName>(event: E, listener: TransportListener<E>) {
      const inner = listener as TransportListener<'message'>;
      const filtered = event === 'message' ? wrapped.get(inner) : undefined;
      if (filtered) {
        wrapped.delete(inner);
        transport.off('message', filtered);
      } else transport.off(event, listener);
      return view;
    },
  };
  return view;
}
