// The simulator's protocol side (controller-serial.md §Commands): decoding received
// lines, re-answering a repeated seq, dispatching INFO/STATUS/PING/RESET/ENABLE/
// DISABLE/UNLOCK/READ/CONFIG with their ACK or NAK reason, and the STATUS dump.
import type { EventEmitter } from 'node:events';
import { decodeLine, encodeFrame, type DropReason } from '../controller/protocol/frame-codec.js';
import {
  CONFIG_KEYS,
  FRAME_TABLE,
  type Capability,
  type CommandFrame,
  type ConfigKey,
  type EventFrame,
  type Frame,
  type FrameOf,
  type NakReason,
} from '../controller/protocol/frame-table.js';
import type { HalLogger } from '../log.js';
import type { ElectricalModel } from './electrical-model.js';
import type { SimConfig, SimCounters, SimulatedControllerEventMap } from './sim-types.js';

const DECIMAL_INT = /^(0|[1-9][0-9]*)$/;
const AMPS_TEXT = /^(0|[1-9][0-9]*)(\.[0-9])?$/;
const MAX_PERIOD_MS = 86_400_000;
const MIN_METER_MS = 100;
const MIN_WATCHDOG_MS = 1000;

/** 0, or 6.0..80.0: what ENABLE and FALLBACK_A accept. */
export function validAmps(a: number): boolean {
  return a === 0 || (a >= 6 && a <= 80);
}

export type ConfigCheck = { ok: true; key: ConfigKey; value: number } | { ok: false; reason: 'BADKEY' | 'BADVALUE' };

/** A `$CONFIG` key and value text as the controller accepts them, or the NAK reason. */
export function checkConfig(key: string, value: string): ConfigCheck {
  if (!(CONFIG_KEYS as readonly string[]).includes(key)) return { ok: false, reason: 'BADKEY' };
  const k = key as ConfigKey;
  if (k === 'FALLBACK_A') {
    const a = AMPS_TEXT.test(value) ? Number(value) : Number.NaN;
    return validAmps(a) ? { ok: true, key: k, value: a } : { ok: false, reason: 'BADVALUE' };
  }
  const ms = DECIMAL_INT.test(value) && value.length <= 9 ? Number(value) : Number.NaN;
  const valid =
    k === 'METER_MS' ? ms === 0 || (ms >= MIN_METER_MS && ms <= MAX_PERIOD_MS) : ms >= MIN_WATCHDOG_MS && ms <= MAX_PERIOD_MS;
  return valid ? { ok: true, key: k, value: ms } : { ok: false, reason: 'BADVALUE' };
}

function isCommand(f: Frame): f is CommandFrame {
  return FRAME_TABLE[f.type].direction === 'command';
}

export interface CommandProtocolOptions {
  caps: readonly Capability[];
  model: ElectricalModel;
  /** The live CONFIG values; CONFIG writes into this object. */
  config: SimConfig;
  counters: SimCounters;
  /** Where `dropped` and `command` go. */
  events: EventEmitter<SimulatedControllerEventMap>;
  log: HalLogger;
  /** Send an event line (not ACK/NAK). */
  send: (frame: EventFrame) => void;
  /** Write an ACK/NAK line; false when fault injection swallowed it. */
  writeAnswer: (line: string) => boolean;
  /** True from reset until `$HELLO`: input is ignored. */
  booting: () => boolean;
  /** A well-formed command arrived (§Link health). */
  feedWatchdog: () => void;
  hello: () => EventFrame;
  /** Active station faults, for the STATUS dump. */
  stationFaults: () => string[];
  /** `$RESET`: reboot after the ACK. */
  reboot: () => void;
  /** A CONFIG period changed: restart the meter timer or the watchdog period. */
  periodChanged: (key: 'METER_MS' | 'WATCHDOG_MS') => void;
}

export class CommandProtocol {
  private lastAnswer: { seq: number; line: string } | null = null;
  private lastCmd: CommandFrame | null = null;

  constructor(private readonly opts: CommandProtocolOptions) {}

  get lastCommand(): CommandFrame | null {
    return this.lastCmd;
  }

  /** After a reboot no answer is remembered, so any seq is new. */
  reset(): void {
    this.lastAnswer = null;
  }

  /** One received line (without `\n`) while the controller listens. */
  handleLine(text: string): void {
    const { opts } = this;
    if (opts.booting()) {
      opts.counters.ignored++;
      return;
    }
    const r = decodeLine(text, 'command');
    if (!r.ok || !isCommand(r.frame)) {
      const reason: DropReason = r.ok ? 'wrong-direction' : r.reason;
      opts.counters.dropped[reason]++;
      opts.log.debug({ reason, text }, 'dropped line');
      opts.events.emit('dropped', reason, text);
      return;
    }
    const frame = r.frame;
    opts.feedWatchdog();
    if (this.lastAnswer !== null && frame.seq === this.lastAnswer.seq) {
      // A resend: the same answer again and nothing else (§Commands).
      opts.counters.duplicates++;
      this.writeAnswer(this.lastAnswer.line, this.lastAnswer.line.startsWith('$ACK'));
      return;
    }
    opts.counters.commands++;
    this.lastCmd = frame;
    opts.events.emit('command', frame);
    opts.model.integrateAll();
    this.dispatch(frame);
  }

  private answer(seq: number, nak?: NakReason): void {
    const line = encodeFrame(nak === undefined ? { type: 'ACK', seq } : { type: 'NAK', seq, reason: nak });
    this.lastAnswer = { seq, line };
    this.writeAnswer(line, nak === undefined);
  }

  private writeAnswer(line: string, ack: boolean): void {
    if (!this.opts.writeAnswer(line)) return;
    if (ack) this.opts.counters.acks++;
    else this.opts.counters.naks++;
  }

  private dispatch(f: CommandFrame): void {
    const { model } = this.opts;
    switch (f.type) {
      case 'INFO':
        this.answer(f.seq);
        this.opts.send(this.opts.hello());
        return;
      case 'STATUS':
        this.sendStatusDump();
        this.answer(f.seq);
        return;
      case 'PING':
        this.answer(f.seq);
        return;
      case 'RESET':
        this.answer(f.seq);
        this.opts.reboot();
        return;
      case 'ENABLE':
        this.onEnable(f);
        return;
      case 'DISABLE': {
        const targets = model.targets(f.connector);
        if (targets === null) return this.answer(f.seq, 'BADCONN');
        this.answer(f.seq);
        model.disable(targets);
        return;
      }
      case 'UNLOCK': {
        const targets = model.targets(f.connector);
        if (targets === null) return this.answer(f.seq, 'BADCONN');
        if (!this.opts.caps.includes('LOCK')) return this.answer(f.seq, 'NOLOCK');
        this.answer(f.seq);
        model.unlock(targets);
        return;
      }
      case 'READ': {
        const targets = model.targets(f.connector);
        if (targets === null) return this.answer(f.seq, 'BADCONN');
        for (const k of targets) this.opts.send(model.meterFrame(k));
        this.answer(f.seq);
        return;
      }
      case 'CONFIG':
        this.onConfig(f);
        return;
    }
  }

  private onEnable(f: FrameOf<'ENABLE'>): void {
    const { model } = this.opts;
    const targets = model.targets(f.connector);
    if (targets === null) return this.answer(f.seq, 'BADCONN');
    if (!validAmps(f.amps)) return this.answer(f.seq, 'BADVALUE');
    if (model.faulted(targets)) return this.answer(f.seq, 'FAULTED');
    this.answer(f.seq);
    model.enable(targets, f.amps);
  }

  private onConfig(f: FrameOf<'CONFIG'>): void {
    const c = checkConfig(f.key, f.value);
    if (!c.ok) return this.answer(f.seq, c.reason);
    const { config } = this.opts;
    if (c.key === 'FALLBACK_A') {
      config.fallbackA = c.value;
      return this.answer(f.seq);
    }
    if (c.key === 'METER_MS') config.meterMs = c.value;
    else config.watchdogMs = c.value;
    this.answer(f.seq);
    this.opts.periodChanged(c.key);
  }

  private sendStatusDump(): void {
    const { model, send } = this.opts;
    for (const k of model.connectors) {
      send({ type: 'CP', connector: k.id, state: k.pilot });
      send({ type: 'PP', connector: k.id, amps: k.pp });
      send({ type: 'RELAY', connector: k.id, closed: k.contactor });
      send({ type: 'LOCK', connector: k.id, state: k.lock });
      send(model.meterFrame(k));
      for (const code of k.faults) send({ type: 'FAULT', connector: k.id, code });
    }
    for (const code of this.opts.stationFaults()) send({ type: 'FAULT', connector: 0, code });
  }
}
