// A diagnostics command: one module per command under commands/, one line in
// the registry (index.ts). Handlers validate their own args and throw DiagError on purpose.
import type { DiagnosticsHost } from '../host.js';
import type { Json, JsonObject } from '../protocol.js';

export interface CommandContext {
  host: DiagnosticsHost;
  /**
   * Keep sending `{id, event: "log", line}` for this request after the answer, until the
   * client hangs up. `subscribe` gets the emitter and returns the unsubscribe function.
   * Throws DiagError('busy') when this connection already follows, or the server's
   * follower limit is reached; call it before any side effect.
   */
  stream(subscribe: (emit: (line: string) => void) => () => void): void;
}

export interface DiagCommand {
  /** The `cmd` on the wire. */
  readonly name: string;
  readonly summary: string;
  run(args: JsonObject, ctx: CommandContext): Json | Promise<Json>;
}
