// Part of the composition root: where the agent's security events are detected outside any one
// module (security whitepaper): the CALLERRORs the agent answers invalid CSMS frames with
// (InvalidMessages), a change of a security configuration key (ReconfigurationOfSecurityParameters),
// the start of the agent (StartupOfTheDevice), the memory bound (MemoryExhaustion), and the
// critical events' way to the CSMS (the outbox).
import type { SecurityEventSink } from '../security/security-events.js';
import type { SecurityEventForwarder } from '../security/security-event-recorder.js';
import { MemoryWatch } from '../security/memory-watch.js';
import type { ConfigurationStore } from '../ocpp/v16/configuration-store.js';
import type { AgentConfig } from '../config/agent-config.js';
import type { Clock } from '../platform/clock.js';
import type { SecurityParts } from './store.js';

type FrameListener = (direction: 'in' | 'out', text: string) => void;

/** CALLERROR codes that say the CSMS's frame was not valid OCPP (not: unsupported, or our own failure). */
const INVALID_FRAME_CODES: ReadonlySet<string> = new Set([
  'FormationViolation',
  'ProtocolError',
  'PropertyConstraintViolation',
  'OccurenceConstraintViolation',
  'TypeConstraintViolation',
  'NotImplemented',
]);

/**
 * Configuration keys whose change is a ReconfigurationOfSecurityParameters here. SecurityProfile and
 * AuthorizationKey are reported by the profile switch (ocpp/v16/security-profile.ts), with the
 * profiles from and to, and again on a fallback.
 */
const SECURITY_KEYS: ReadonlySet<string> = new Set(['CpoName']);

/** The frame listener to give the connection: reports each CALLERROR we send for an invalid frame, then calls `next`. */
export function invalidFrameWatcher(events: SecurityEventSink, next?: FrameListener): FrameListener {
  return (direction, text) => {
    // Only our own CALLERRORs: a cheap prefix test first, JSON only for those few frames.
    if (direction === 'out' && /^\s*\[\s*4\s*,/.test(text)) {
      const code = callErrorCode(text);
      if (code !== undefined && INVALID_FRAME_CODES.has(code)) events.report('InvalidMessages', `answered ${code} to a CSMS frame`);
    }
    next?.(direction, text);
  };
}

function callErrorCode(text: string): string | undefined {
  try {
    const frame: unknown = JSON.parse(text);
    return Array.isArray(frame) && typeof frame[2] === 'string' ? frame[2] : undefined;
  } catch {
    return undefined;
  }
}

/** A security key changed (by the CSMS or the diagnostics): the value itself is never recorded. */
export function watchSecurityConfiguration(config: ConfigurationStore, events: SecurityEventSink): () => void {
  return config.onChange((key) => {
    if (SECURITY_KEYS.has(key)) events.report('ReconfigurationOfSecurityParameters', `${key} changed`);
  });
}

/**
 * The critical events reach the CSMS through the outbox from now on; StartupOfTheDevice is the
 * first. The memory bound, when configured, is watched from now on too (security.memory).
 */
export function startSecurityEvents(security: SecurityParts, outbox: SecurityEventForwarder, cfg: AgentConfig, clock: Clock): void {
  security.events.forwardTo(outbox, cfg.security.notifyEvents);
  security.events.report('StartupOfTheDevice', `agent started, firmware ${cfg.identity.firmwareVersion}`);
  if (cfg.security.memoryLimitMb !== null) {
    security.memory = new MemoryWatch(cfg.security.memoryLimitMb * 1_048_576, security.events, clock);
    security.memory.start();
  }
}

/** The security timers (renewal checks, memory watch) stop with the session. */
export function stopSecurityTimers(security: SecurityParts): void {
  security.events.stop();
  security.renewal?.stop();
  security.memory?.stop();
}
