// MemoryExhaustion (security whitepaper, critical): the agent's resident memory over the bound the
// operator configured (security.memoryLimitMb). Checked once a minute, which costs one
// process.memoryUsage.rss() read; reported once when the bound is crossed, and again only after
// the memory has come back under 90 % of it (no report every minute while it stays high).
import type { Clock, TimerHandle } from '../platform/clock.js';
import type { SecurityEventSink } from './security-events.js';

export const MEMORY_CHECK_MS = 60_000;

export class MemoryWatch {
  private timer: TimerHandle | null = null;
  private over = false;

  constructor(
    private readonly limitBytes: number,
    private readonly events: SecurityEventSink,
    private readonly clock: Clock,
    private readonly rssBytes: () => number = () => process.memoryUsage.rss(),
  ) {}

  start(): void {
    this.timer ??= this.clock.setInterval(() => this.check(), MEMORY_CHECK_MS);
  }

  stop(): void {
    if (this.timer !== null) this.clock.clearInterval(this.timer);
    this.timer = null;
  }

  check(): void {
    const rss = this.rssBytes();
    if (!this.over && rss > this.limitBytes) {
      this.over = true;
      this.events.report('MemoryExhaustion', `resident memory ${mb(rss)} MB is over the ${mb(this.limitBytes)} MB bound`);
    } else if (this.over && rss < this.limitBytes * 0.9) {
      this.over = false;
    }
  }
}

function mb(bytes: number): string {
  return (bytes / 1_048_576).toFixed(1);
}
