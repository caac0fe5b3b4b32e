// The command side of the serial link (controller-serial.md §Commands): sequence numbers
// 1..65535 with wrap, one command outstanding, ACK/NAK, resend after ackTimeoutMs up to
// maxSends sends, priority commands (resynchronisation) ahead of the rest. It owns no port:
// the driver says when it may send and writes the lines.
import type { HalLogger } from '../log.js';
import type { HalTimers, TimerHandle } from '../timers.js';
import { ControllerLinkError, ControllerNakError } from './types.js';

export const SEQ_MAX = 65535;

interface PendingCommand {
  name: string;
  /** Builds the wire line for a sequence number. */
  build(seq: number): string;
  /** Resync commands run before anything else and are allowed while syncing. */
  priority: boolean;
  resolve(): void;
  reject(err: Error): void;
}

interface Outstanding {
  cmd: PendingCommand;
  seq: number;
  line: string;
  sends: number;
  timer: TimerHandle | null;
}

export interface CommandChannelHooks {
  /** The device is open: a line written now goes out. */
  canSend(): boolean;
  /** While resynchronising only priority commands may go out. */
  priorityOnly(): boolean;
  write(line: string): void;
  /** maxSends sends went unanswered: the link is down. */
  gaveUp(): void;
}

export class CommandChannel {
  private seq = 0;
  private queue: PendingCommand[] = [];
  private outstanding: Outstanding | null = null;
  resends = 0;
  naks = 0;

  constructor(
    private readonly hooks: CommandChannelHooks,
    private readonly timers: HalTimers,
    private readonly log: HalLogger,
    private readonly ackTimeoutMs: number,
    private readonly maxSends: number,
  ) {}

  /** Nothing outstanding and nothing queued: the keep-alive may send a PING. */
  get idle(): boolean {
    return !this.outstanding && this.queue.length === 0;
  }

  enqueue(name: string, build: (seq: number) => string, priority: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const cmd: PendingCommand = { name, build, priority, resolve, reject };
      if (priority) {
        // Behind other priority commands, ahead of everything else.
        const firstNormal = this.queue.findIndex((c) => !c.priority);
        if (firstNormal < 0) this.queue.push(cmd);
        else this.queue.splice(firstNormal, 0, cmd);
      } else {
        this.queue.push(cmd);
      }
      this.pump();
    });
  }

  /** Sends the next command the link state allows, when none is outstanding. */
  pump(): void {
    if (this.outstanding || !this.hooks.canSend()) return;
    const idx = this.hooks.priorityOnly() ? this.queue.findIndex((c) => c.priority) : 0;
    if (idx < 0 || idx >= this.queue.length) return;
    const [cmd] = this.queue.splice(idx, 1);
    if (!cmd) return;
    const seq = this.nextSeq();
    const line = cmd.build(seq);
    this.outstanding = { cmd, seq, line, sends: 0, timer: null };
    this.transmit();
  }

  /** An ACK (nakReason null) or NAK for seq. */
  complete(seq: number, nakReason: string | null): void {
    const out = this.outstanding;
    if (!out || out.seq !== seq) {
      // A late answer to a command we already gave up on, or a duplicate: harmless.
      this.log.debug({ seq }, 'answer for no outstanding command');
      return;
    }
    if (out.timer) this.timers.clearTimeout(out.timer);
    this.outstanding = null;
    if (nakReason === null) out.cmd.resolve();
    else {
      this.naks++;
      this.log.warn({ command: out.cmd.name, reason: nakReason }, 'controller refused command');
      out.cmd.reject(new ControllerNakError(out.cmd.name, nakReason));
    }
    this.pump();
  }

  /** Rejects the outstanding and every queued command with the reason. */
  failAll(err: ControllerLinkError): void {
    const out = this.outstanding;
    this.outstanding = null;
    if (out) {
      if (out.timer) this.timers.clearTimeout(out.timer);
      out.cmd.reject(new ControllerLinkError(out.cmd.name, err.message));
    }
    const queued = this.queue;
    this.queue = [];
    for (const c of queued) c.reject(new ControllerLinkError(c.name, err.message));
  }

  private nextSeq(): number {
    this.seq = this.seq >= SEQ_MAX ? 1 : this.seq + 1;
    return this.seq;
  }

  private transmit(): void {
    const out = this.outstanding;
    if (!out) return;
    out.sends++;
    if (out.sends > 1) this.resends++;
    this.hooks.write(out.line);
    if (out.timer) this.timers.clearTimeout(out.timer);
    out.timer = this.timers.setTimeout(() => this.onAckTimeout(out), this.ackTimeoutMs);
  }

  private onAckTimeout(out: Outstanding): void {
    if (this.outstanding !== out) return;
    if (out.sends < this.maxSends) {
      this.log.debug({ seq: out.seq, command: out.cmd.name, sends: out.sends }, 'no answer, resending');
      this.transmit();
      return;
    }
    this.outstanding = null;
    out.cmd.reject(new ControllerLinkError(out.cmd.name, `no answer after ${out.sends} sends`));
    this.hooks.gaveUp();
  }
}
