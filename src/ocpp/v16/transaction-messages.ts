// OCPP 1.6 transaction messages (StartTransaction, transaction MeterValues, StopTransaction)
// over the version-neutral outbox (ocpp/outbox/). This adapter builds the payloads (with the
// request builders of outgoing/) and sends them, keeps the CSMS's integer transactionId as a
// reference of the transaction, reports the idTagInfo answers, and tells a CALLERROR (§4.10:
// an attempt) from no answer at all. Start and Stop are durable; intermediate MeterValues are
// written behind, and stored ones of one transaction are replayed together (meterValue is 1..*).
import type { Transaction } from '../../domain/model/transaction.js';
import type { Clock } from '../../platform/clock.js';
import { Outbox, StartNotRecordedError, DEFAULT_MAX_QUEUED_MESSAGES, DEFAULT_ALIVE_STAMP_MS, type OutboxStats } from '../outbox/outbox.js';
import type { DeliveryContext, Delivered, FailureClass, MessageTraits, OutboxMessage, OutboxProtocol, OutboxStore, StoredTransaction } from '../outbox/ports.js';
import { RemoteCallError, InvalidResponseError, InvalidOutgoingPayloadError } from '../rpc/rpc-errors.js';
import type { TimeCorrector } from '../outbox/time-correction.js';
import type { IdTagInfo, MeterValue } from './generated/types.js';
import type { RpcCaller, SessionLogger } from './outgoing/context.js';
import type { RequestOf } from './actions/types.js';
import { startRecordOf, startTransactionRequest, type StartRecord } from './outgoing/StartTransaction.js';
import { meterValuesRequest } from './outgoing/MeterValues.js';
import { stopRecordOf, stopTransactionRequest, type StopRecord } from './outgoing/StopTransaction.js';
import { shiftPayload } from './time-correction.js';
import { securityEventNotificationRequest } from './outgoing/SecurityEventNotification.js';
import type { ForwardedSecurityEvent, SecurityEventForwarder } from '../../security/security-event-recorder.js';

export { StartNotRecordedError, DEFAULT_MAX_QUEUED_MESSAGES, DEFAULT_ALIVE_STAMP_MS };

export interface MessengerSettings {
  transactionMessageAttempts(): number;
  transactionMessageRetryIntervalS(): number;
}

export interface MessengerHooks {
  /** The CSMS answered a StartTransaction (idTagInfo may refuse the tag: §4.8). */
  startAnswered?(localId: string, idTag: string, info: IdTagInfo): void;
  stopAnswered?(idTag: string, info: IdTagInfo): void;
}

export interface MessengerOptions {
  /** Kernel boot id recorded with each start: tells a power loss from an agent restart. */
  bootId?: string | null;
  /** Longest an undelivered intermediate MeterValues waits in memory before it is written. */
  meterWriteBehindMs?: number;
  /** Queue bound; past it the oldest intermediate MeterValues are dropped (never a Start or Stop). */
  maxQueuedMessages?: number;
  /** How often an open transaction's "alive" time is written (its stop time after a power loss). */
  aliveStampMs?: number;
  /** Corrects timestamps made before the clock was set; without it they are sent as made. */
  time?: TimeCorrector;
}

export type MessengerStats = OutboxStats;

export const DEFAULT_METER_WRITE_BEHIND_MS = 60_000;
/** Stored MeterValues of one transaction replayed together in one MeterValues.req (meterValue is 1..*). */
export const MAX_METER_VALUES_PER_REPLAY = 20;
/** The reference under which the CSMS's transactionId is kept with the transaction (schema 6 moved it there). */
export const CSMS_TRANSACTION_ID_REF = 'ocpp16.transactionId';

/** The queue's message kinds: the 1.6 actions. */
const KINDS: Readonly<Record<string, MessageTraits>> = {
  StartTransaction: { durability: 'durable', endsTransaction: false, maxBatch: 1 },
  MeterValues: { durability: 'write-behind', endsTransaction: false, maxBatch: MAX_METER_VALUES_PER_REPLAY },
  StopTransaction: { durability: 'durable', endsTransaction: true, maxBatch: 1 },
  // Security whitepaper: critical security events are queued with guaranteed delivery, in order.
  SecurityEventNotification: { durability: 'durable', endsTransaction: false, maxBatch: 1 },
};
/** The outbox correlates every message with a transaction id; security events share this one. */
export const SECURITY_EVENTS_LOCAL_ID = 'security-events';
/** A kind this adapter does not know (another protocol's row): sent alone, and refused as unsendable. */
const UNKNOWN_KIND: MessageTraits = { durability: 'durable', endsTransaction: false, maxBatch: 1 };

/** Stored JSON: start `{start}`, meter `{connector, values}`, stop `{stop, transactionData}`; read back from queued rows. */
type StartFields = StartRecord;
type StopFields = StopRecord;

/** The CSMS's transactionId kept with a stored transaction, if it ever confirmed the start. */
export function csmsTransactionIdOf(tx: StoredTransaction): number | null {
  return parseTransactionId(tx.refs[CSMS_TRANSACTION_ID_REF]);
}

function parseTransactionId(ref: string | undefined): number | null {
  if (ref === undefined) return null;
  const n = Number(ref);
  return Number.isInteger(n) ? n : null;
}

export class TransactionMessenger implements SecurityEventForwarder {
  private readonly outbox: Outbox;
  private readonly protocol: V16TransactionProtocol;

  constructor(
    rpc: RpcCaller,
    store: OutboxStore,
    settings: MessengerSettings,
    private readonly clock: Clock,
    log: SessionLogger,
    hooks: MessengerHooks = {},
    opts: MessengerOptions = {},
  ) {
    this.protocol = new V16TransactionProtocol(rpc, clock, log, hooks);
    const outboxOpts = {
      bootId: opts.bootId ?? null,
      writeBehindMs: opts.meterWriteBehindMs ?? DEFAULT_METER_WRITE_BEHIND_MS,
      maxQueuedMessages: opts.maxQueuedMessages ?? DEFAULT_MAX_QUEUED_MESSAGES,
      aliveStampMs: opts.aliveStampMs ?? DEFAULT_ALIVE_STAMP_MS,
      ...(opts.time ? { time: opts.time } : {}),
    };
    this.outbox = new Outbox(
      this.protocol,
      store,
      { attempts: () => settings.transactionMessageAttempts(), retryIntervalS: () => settings.transactionMessageRetryIntervalS() },
      clock,
      log,
      outboxOpts,
    );
  }

  /** Where the CSMS's answers go (a subscriber built after the messenger: the station it journals for). */
  onAnswers(hooks: MessengerHooks): void {
    this.protocol.hooks = hooks;
  }

  get queueDepth(): number {
    return this.outbox.queueDepth;
  }

  statistics(): MessengerStats {
    return this.outbox.statistics();
  }

  csmsTransactionId(localId: string): number | undefined {
    return parseTransactionId(this.outbox.refs(localId)?.[CSMS_TRANSACTION_ID_REF]) ?? undefined;
  }

  localIdFor(transactionId: number): string | undefined {
    return this.outbox.findByRef(CSMS_TRANSACTION_ID_REF, String(transactionId));
  }

  /** Registered and connected: deliver. Offline (or not Accepted): keep queueing. */
  setOnline(online: boolean): void {
    this.outbox.setOnline(online);
  }

  /** Makes the Start durable, then queues it. Throws StartNotRecordedError when the store fails. */
  started(tx: Transaction): void {
    this.outbox.open(tx, { kind: 'StartTransaction', payload: JSON.stringify({ start: startRecordOf(tx) }) });
  }

  meter(tx: Transaction, values: MeterValue[]): void {
    this.outbox.update(tx.localId, { kind: 'MeterValues', payload: JSON.stringify({ connector: tx.evseId, values }) });
  }

  /** Queues the Stop, durably when the store allows; otherwise it waits in memory and the write is retried. */
  stopped(tx: Transaction, transactionData: MeterValue[]): void {
    const stop = stopRecordOf(tx, this.clock.now());
    this.outbox.close(tx, { kind: 'StopTransaction', payload: JSON.stringify({ stop, transactionData }) });
  }

  /** A critical security event: durable (fsync) and in order with the transaction messages. */
  forward(e: ForwardedSecurityEvent): void {
    this.outbox.update(SECURITY_EVENTS_LOCAL_ID, { kind: 'SecurityEventNotification', payload: JSON.stringify({ event: securityEventNotificationRequest(e) }) });
  }

  /** Writes what waits in memory now (write-behind timer, shutdown); on a storage error it stays and is retried. */
  flush(): void {
    this.outbox.flush();
  }

  /** The clock was set (BootNotification.conf, Heartbeat.conf): see Outbox.clockSynced. */
  clockSynced(): { shift: (ms: number) => number; startedProvisionally: ReadonlySet<string> } | null {
    return this.outbox.clockSynced();
  }

  /** Shutdown, before the socket closes: the message in flight may still be answered and committed (Outbox.settleInFlight). */
  settleInFlight(): Promise<void> {
    return this.outbox.settleInFlight();
  }

  stop(): void {
    this.outbox.stop();
  }

  /** Resolves when the queue is delivered, or delivery has to wait (offline, retry interval). */
  deliverQueued(): Promise<void> {
    return this.outbox.deliverQueued();
  }

  /** Delivers in order; concurrent callers share one run. */
  drain(): Promise<void> {
    return this.outbox.drain();
  }
}

/** How the outbox's messages become 1.6 CALLs, and what their answers mean. */
class V16TransactionProtocol implements OutboxProtocol {
  constructor(
    private readonly rpc: RpcCaller,
    private readonly clock: Clock,
    private readonly log: SessionLogger,
    public hooks: MessengerHooks,
  ) {}

  readonly restampPayload = shiftPayload;

  traits(kind: string): MessageTraits {
    return KINDS[kind] ?? UNKNOWN_KIND;
  }

  /** §4.10: a CALLERROR (or an answer that breaks the schema) is an attempt; a payload we cannot build is a bug. */
  classify(err: unknown): FailureClass {
    if (err instanceof InvalidOutgoingPayloadError) return 'unsendable';
    if (err instanceof RemoteCallError || err instanceof InvalidResponseError) return 'refused';
    return 'undelivered';
  }

  send(batch: readonly OutboxMessage[], ctx: DeliveryContext): Promise<Delivered> {
    const entry = batch[0]!;
    switch (entry.kind) {
      case 'StartTransaction':
        return this.sendStart(entry, ctx);
      case 'MeterValues':
        return this.sendMeter(batch, ctx);
      case 'StopTransaction':
        return this.sendStop(entry, ctx);
      case 'SecurityEventNotification':
        return this.sendSecurityEvent(entry);
      default:
        return Promise.reject(new InvalidOutgoingPayloadError(entry.kind, 'NotImplemented', `not a 1.6 transaction message: ${entry.kind}`));
    }
  }

  private async sendStart(entry: OutboxMessage, ctx: DeliveryContext): Promise<Delivered> {
    const start = this.decode<{ start?: StartFields }>(entry).start ?? startFromStore(ctx.transaction(entry.localId), entry.localId);
    const conf = await this.rpc.call('StartTransaction', startTransactionRequest(start));
    this.log.info({ connector: start.connector, transactionId: conf.transactionId, status: conf.idTagInfo.status }, 'StartTransaction confirmed');
    return {
      refs: { [CSMS_TRANSACTION_ID_REF]: String(conf.transactionId) },
      // 1.6's five idTag statuses are the neutral authorization statuses of the same name.
      authorizationStatus: conf.idTagInfo.status,
      answered: () => this.hooks.startAnswered?.(entry.localId, start.idTag, conf.idTagInfo),
    };
  }

  private async sendMeter(batch: readonly OutboxMessage[], ctx: DeliveryContext): Promise<Delivered> {
    const bodies = batch.map((e) => this.decode<{ connector?: number; values?: MeterValue[] }>(e));
    const values = bodies.flatMap((b) => b.values ?? []);
    const connector = bodies[0]!.connector;
    if (connector === undefined || values.length === 0) throw new InvalidOutgoingPayloadError('MeterValues', 'FormationViolation', 'unreadable stored MeterValues');
    const id = parseTransactionId(ctx.refs(batch[0]!.localId)?.[CSMS_TRANSACTION_ID_REF]);
    await this.rpc.call('MeterValues', meterValuesRequest(connector, values, id ?? undefined));
    return {};
  }

  private async sendStop(entry: OutboxMessage, ctx: DeliveryContext): Promise<Delivered> {
    const body = this.decode<{ stop?: StopFields; transactionData?: MeterValue[] }>(entry);
    const row = ctx.transaction(entry.localId);
    const stop = body.stop ?? stopFromRow(row, entry.localId, this.clock.now());
    const transactionId = parseTransactionId(ctx.refs(entry.localId)?.[CSMS_TRANSACTION_ID_REF]) ?? (row ? csmsTransactionIdOf(row) : null);
    // A Start the CSMS never confirmed has no id; -1 is never a real one (logged below).
    const req = stopTransactionRequest(stop, transactionId, body.transactionData);
    if (transactionId === null) this.log.error({ localId: entry.localId }, 'StopTransaction for a transaction the CSMS never confirmed: transactionId -1');
    const conf = await this.rpc.call('StopTransaction', req);
    this.log.info({ transactionId: req.transactionId, reason: req.reason }, 'StopTransaction confirmed');
    const info = conf.idTagInfo;
    const idTag = stop.stopIdTag;
    return info && idTag ? { answered: () => this.hooks.stopAnswered?.(idTag, info) } : {};
  }

  private async sendSecurityEvent(entry: OutboxMessage): Promise<Delivered> {
    const event = this.decode<{ event?: RequestOf<'SecurityEventNotification'> }>(entry).event;
    if (event === undefined) throw new InvalidOutgoingPayloadError('SecurityEventNotification', 'FormationViolation', 'unreadable stored security event');
    await this.rpc.call('SecurityEventNotification', event);
    this.log.info({ type: event.type, timestamp: event.timestamp }, 'SecurityEventNotification confirmed');
    return {};
  }

  /** A payload that does not parse is a bug or corruption, never a reason to block the queue. */
  private decode<T extends object>(entry: OutboxMessage): Partial<T> {
    try {
      const v: unknown = JSON.parse(entry.payload);
      if (v !== null && typeof v === 'object') return v as Partial<T>;
    } catch {
      // fall through
    }
    this.log.error({ kind: entry.kind, localId: entry.localId, position: entry.position }, 'unreadable transaction message payload');
    return {};
  }
}

function startFromStore(tx: StoredTransaction | null, localId: string): StartFields {
  if (!tx) throw new InvalidOutgoingPayloadError('StartTransaction', 'FormationViolation', `no stored transaction ${localId}`);
  return startRecordOf(tx);
}

function stopFromRow(row: StoredTransaction | null, localId: string, now: Date): StopFields {
  if (!row) throw new InvalidOutgoingPayloadError('StopTransaction', 'FormationViolation', `no stored transaction ${localId}`);
  return stopRecordOf(row, now);
}
