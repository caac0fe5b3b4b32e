// systemd readiness and watchdog (sd_notify(3)): READY=1 once the agent
// runs, WATCHDOG=1 every WatchdogSec/2 from the event loop, so a hung loop stops feeding and
// systemd restarts the service, STOPPING=1 on the way down. Node has no Unix datagram
// sockets, so each message is one `systemd-notify` run (the unit sets NotifyAccess=all);
// without --no-block it waits until PID 1 took the message, so it is attributed to the unit.
// A run costs ~7-8 ms of CPU on a desktop x86 core, nearly all of it systemd-notify starting
// (linking libsystemd-shared), several times that on a small board; how it is spawned hardly
// matters. It is the agent's largest idle cost, so the rate is WatchdogSec/2, never faster,
// and the unit's WatchdogSec (120 s: one run a minute) is what keeps it small.
import { execFile } from 'node:child_process';
import type { AgentLogger } from '../platform/logger.js';

export interface SystemdNotifierOptions {
  logger: AgentLogger;
  /** Default process.env: NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID. */
  env?: NodeJS.ProcessEnv;
  /** Default `systemd-notify` from PATH. */
  command?: string;
  /** The service's main PID (this process). */
  pid?: number;
  /** One systemd-notify run may take this long before it is killed. Default 10 s. */
  timeoutMs?: number;
}

export class SystemdNotifier {
  /** False when not started by systemd with Type=notify (NOTIFY_SOCKET unset). */
  readonly enabled: boolean;
  /** How often WATCHDOG=1 goes out; null when systemd asked for no watchdog. */
  readonly watchdogIntervalMs: number | null;
  private readonly env: NodeJS.ProcessEnv;
  private readonly command: string;
  private readonly pid: number;
  private readonly timeoutMs: number;
  private readonly log: AgentLogger;
  private timer: NodeJS.Timeout | null = null;
  private watchdogInFlight = false;
  private failing = false;
  /** WATCHDOG=1 messages systemd-notify delivered. */
  watchdogsSent = 0;

  constructor(opts: SystemdNotifierOptions) {
    this.env = opts.env ?? process.env;
    this.command = opts.command ?? 'systemd-notify';
    this.pid = opts.pid ?? process.pid;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.log = opts.logger;
    const socket = this.env['NOTIFY_SOCKET'];
    this.enabled = typeof socket === 'string' && socket !== '';
    const usec = Number(this.env['WATCHDOG_USEC']);
    const watchdogPid = this.env['WATCHDOG_PID'];
    // sd_watchdog_enabled(3): WATCHDOG_PID, when set, must name us.
    const forUs = watchdogPid === undefined || watchdogPid === '' || Number(watchdogPid) === this.pid;
    this.watchdogIntervalMs = this.enabled && forUs && Number.isFinite(usec) && usec > 0 ? Math.max(1, Math.floor(usec / 2000)) : null;
  }

  /** READY=1, and the watchdog starts when systemd asked for one. Logs once what is on. */
  async ready(status = 'running'): Promise<void> {
    if (!this.enabled) {
      this.log.info({}, 'sd_notify off: NOTIFY_SOCKET is not set (not started by systemd with Type=notify); no readiness or watchdog messages');
      return;
    }
    this.startWatchdog();
    if (this.watchdogIntervalMs === null) this.log.info({}, 'systemd watchdog off (WatchdogSec not set for this unit)');
    else this.log.info({ intervalMs: this.watchdogIntervalMs }, 'systemd watchdog on');
    await this.notify('READY=1', `STATUS=${status}`);
  }

  /** Feed the watchdog from the event loop every WatchdogSec/2 (no-op without a watchdog). */
  startWatchdog(): void {
    if (this.timer || this.watchdogIntervalMs === null) return;
    this.timer = setInterval(() => {
      // A run still waiting for PID 1 is enough; do not pile up processes.
      if (this.watchdogInFlight) return;
      this.watchdogInFlight = true;
      void this.notify('WATCHDOG=1').then((ok) => {
        this.watchdogInFlight = false;
        if (ok) this.watchdogsSent++;
      });
    }, this.watchdogIntervalMs);
    this.timer.unref();
  }

  /** STOPPING=1 and no more watchdog messages. */
  async stopping(): Promise<void> {
    this.stopWatchdog();
    if (this.enabled) await this.notify('STOPPING=1');
  }

  stopWatchdog(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Send assignments; resolves false (and logs) when systemd-notify failed. Never rejects. */
  notify(...assignments: string[]): Promise<boolean> {
    if (!this.enabled) return Promise.resolve(false);
    return new Promise((resolve) => {
      execFile(this.command, [`--pid=${this.pid}`, ...assignments], { env: this.env, timeout: this.timeoutMs }, (err, _stdout, stderr) => {
        if (err) {
          if (!this.failing) {
            const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
            this.log.error(
              { command: this.command, err: missing ? 'not found' : (stderr.trim() || err.message) },
              missing
                ? 'systemd-notify not found: systemd is not told the agent is ready or alive, and its watchdog will restart it'
                : 'systemd-notify failed; systemd may restart the agent when the watchdog runs out',
            );
          }
          this.failing = true;
          resolve(false);
          return;
        }
        if (this.failing) this.log.warn({}, 'systemd-notify works again');
        this.failing = false;
        resolve(true);
      });
    });
  }
}
