// The port through which certificate management asks the CSMS connection to reconnect, so that a
// newly installed charge-point certificate is used (security whitepaper: CertificateSigned takes
// effect from the next connection). The security-profile transport implements it; until it does,
// a request is only logged and the certificate is used from the next connection anyway.
import type { AgentLogger } from '../platform/logger.js';

export interface CsmsReconnector {
  /** Close the CSMS connection and connect again with the current credentials. */
  reconnect(reason: string): void;
}

export class ReconnectPort implements CsmsReconnector {
  #impl: ((reason: string) => void) | null = null;

  constructor(private readonly log: AgentLogger) {}

  /** The connection's own reconnect (the composition root connects it). */
  implement(reconnect: (reason: string) => void): void {
    this.#impl = reconnect;
  }

  reconnect(reason: string): void {
    if (this.#impl === null) {
      this.log.info({ reason }, 'reconnect requested; the new settings apply from the next connection');
      return;
    }
    this.#impl(reason);
  }
}
