// What the version-neutral outbox needs from outside: durable storage (the SQLite store
// implements OutboxStore) and the protocol adapter that turns queued messages into CALLs
// (ocpp/v16/transaction-messages.ts for 1.6; 2.0.1's TransactionEvent would be another).
// Messages are opaque here: a kind and a payload only the adapter reads.
import type { Transaction } from '../../domain/model/transaction.js';
import type { PayloadRestamper, TimeBase } from './time-correction.js';
import type { AgentLogger } from '../../platform/logger.js';

/**
 * 'durable': fsynced before it is sent (a transaction's start and end: billing depends on them).
 * 'write-behind': kept in memory and written, in one batch, only if still undelivered after the
 * grace period (intermediate meter values); the first to go when the queue is full.
 */
export type Durability = 'durable' | 'write-behind';

/** How a commit reaches storage: with fsync (survives a power cut) or without (survives a crash). */
export type Commit = 'fsync' | 'lazy';

/** One queued message; `position` orders the queue, whether it is stored yet or not. */
export interface OutboxMessage {
  position: number;
  /** The adapter's message type (e.g. 'StartTransaction'); opaque to the outbox and the store. */
  kind: string;
  /** Our id of the transaction the message reports on (the correlation, whatever the CSMS calls it). */
  localId: string;
  durability: Durability;
  /** Self-contained, written by the adapter, read back only by it. */
  payload: string;
  attempts: number;
  createdAt: string;
  /** Set while the times in it are provisional (made before the clock was set): see time-correction.ts. */
  timeBase?: TimeBase;
}

/** A transaction as stored beside its messages. */
export interface StoredTransaction extends Transaction {
  bootId: string | null;
  reported: boolean;
  /** The CSMS's verdict on the identifier when it answered the start (restart recovery needs it). */
  authorizationStatus: string | null;
  /** What the CSMS gave to correlate the transaction (e.g. its transaction id), keyed by the adapter. */
  refs: Readonly<Record<string, string>>;
  /** The base the row's times are in while provisional; null once they are real. */
  timeBase: TimeBase | null;
}

/** Written in one commit. */
export interface OutboxWrite {
  messages: readonly OutboxMessage[];
  /** A transaction's row is created (its start message is among `messages`); `timeBase` while its times are provisional. */
  opened?: { tx: Transaction; bootId: string | null; timeBase?: TimeBase };
  /** A transaction's row takes its stop fields. */
  closed?: Transaction;
  /** The transaction is fully reported: kept for diagnostics, then pruned. */
  reported?: string;
}

/** What a delivered or discarded message leaves behind, written in the commit that removes it. */
export interface Acknowledgement {
  localId: string;
  refs?: Readonly<Record<string, string>>;
  authorizationStatus?: string;
  /** The transaction's reporting ended with it. */
  reported?: boolean;
}

export interface OutboxStore {
  nextPosition(): number;
  size(): number;
  head(): OutboxMessage | null;
  /** Up to `max` stored messages from `position` on, in order. */
  from(position: number, max: number): OutboxMessage[];
  write(w: OutboxWrite, commit: Commit): void;
  /** Removes the messages, records `ack`; returns the rows removed (0 for one already gone). */
  acknowledge(positions: readonly number[], ack: Acknowledgement, commit: Commit): number;
  recordAttempt(position: number, attempts: number): void;
  /** Drops up to `count` of the oldest write-behind messages, never one in `keep`; returns how many. */
  dropOldestWriteBehind(count: number, keep: ReadonlySet<number>): number;
  transaction(localId: string): StoredTransaction | null;
  unreportedTransactions(): StoredTransaction[];
  /** The newest stored moment of an open transaction (a power loss's stop time), in the base of its row. */
  lastKnownAlive(localId: string): Date | null;
  /** Open transactions were still running at `at` (a coarse stop time after a power loss); only rows in `base` (undefined: real times). */
  touchOpenTransactions(at: Date, base?: TimeBase): void;
}

export interface MessageTraits {
  durability: Durability;
  /** Its delivery (or discard) ends the transaction's reporting (1.6 StopTransaction). */
  endsTransaction: boolean;
  /** Stored messages of this kind and transaction replayed together, at most this many (1: never batched). */
  maxBatch: number;
}

/** The CSMS confirmed a message: what to keep, and what to tell others before it is committed. */
export interface Delivered {
  refs?: Readonly<Record<string, string>>;
  authorizationStatus?: string;
  /** Runs once `refs` are known and before the acknowledgement is written. */
  answered?: () => void;
}

/**
 * 'refused': the CSMS answered with an error: an attempt (retried after an interval, then discarded).
 * 'unsendable': can never be sent (unreadable payload): discarded at once, loudly.
 * 'undelivered': no answer (offline, timeout): not the message's fault, retried, not an attempt.
 */
export type FailureClass = 'refused' | 'unsendable' | 'undelivered';

/** What the outbox lets the adapter read while it builds a message. */
export interface DeliveryContext {
  refs(localId: string): Readonly<Record<string, string>> | undefined;
  transaction(localId: string): StoredTransaction | null;
}

export interface OutboxProtocol {
  traits(kind: string): MessageTraits;
  /** Sends one message, or a batch of stored ones of the same kind and transaction; resolves when confirmed. */
  send(batch: readonly OutboxMessage[], ctx: DeliveryContext): Promise<Delivered>;
  classify(err: unknown): FailureClass;
  /** Shifts every timestamp inside a payload (the clock was set after it was made). */
  restampPayload: PayloadRestamper;
}

export interface OutboxSettings {
  /** Attempts of a refused message before it is discarded. */
  attempts(): number;
  /** Seconds before a retry; times the attempt number after a refusal. */
  retryIntervalS(): number;
}

/** The one logger interface (platform/logger.ts). */
export type OutboxLogger = AgentLogger;
