// Part of the composition root: the ordered stop of the agent, each wait bounded in wall-clock
// time (shutdown has a budget, whatever the agent's clock).

/** How long shutdown waits for the stop registers being read (the controller answers in milliseconds). */
const STOP_READS_WAIT_MS = 1_500;

/** How long shutdown waits for the answer to the transaction message in flight (within the 5 s stop budget). */
const SHUTDOWN_ANSWER_WAIT_MS = 2_000;

/** What is stopped, in the order it is stopped. */
export interface StoppableParts {
  operations: { stop(): Promise<void> };
  /** A diagnostics or log upload running is cancelled (its timers would hold the process). */
  uploads?: { stop(): void };
  firmware: { stop(): void };
  station: { stopsSettled(): Promise<void> };
  messenger: { settleInFlight(): Promise<void> };
  session: { stop(): void };
  csms: { close(): Promise<void> };
  /** The security settings switch: its fallback timer must not fire into a closed database. */
  securitySwitch: { stop(): void };
  unbindLeds: () => void;
  controller: { stop(): Promise<void> };
  closeSimulator: () => Promise<void>;
  reservations: { stop(): void };
  authCache: { stop(): void };
  /** Writes the charging profiles still pending (whatever the day's write budget). */
  smartCharging?: { shutdown(): void };
  database: { close(): void };
}

/** The agent's stop(): runs the sequence once, later calls get the same promise. */
export function shutdownSequence(p: StoppableParts): () => Promise<void> {
  let stopping: Promise<void> | null = null;
  return () => {
    stopping ??= (async () => {
      await p.operations.stop(); // diagnostics socket and watchdog first
      p.uploads?.stop();
      p.firmware.stop(); // no download or install begins from here on
      // A transaction stopped just now still waits for its stop register: queue its Stop first.
      await withinMs(p.station.stopsSettled(), STOP_READS_WAIT_MS);
      // The transaction message in flight may still be answered: commit that before the socket closes.
      await withinMs(p.messenger.settleInFlight(), SHUTDOWN_ANSWER_WAIT_MS);
      p.session.stop();
      p.securitySwitch.stop();
      await p.csms.close();
      p.unbindLeds();
      await p.controller.stop();
      await p.closeSimulator();
      p.reservations.stop();
      p.authCache.stop(); // writes the cache's pending batch
      p.smartCharging?.shutdown();
      p.database.close();
    })();
    return stopping;
  };
}

/** Waits for `p`, at most `ms` of real time. */
async function withinMs(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
