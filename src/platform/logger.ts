// Logging seam: one pino root writing JSON lines to stdout (journald keeps them), a child
// per module, and secrets redacted: OCPP 1.6 security whitepaper AuthorizationKey (the
// Basic Auth password), private keys and Authorization headers never reach the log.
import { pino, type DestinationStream, type Level, type Logger } from 'pino';

export type LogLevel = Level | 'silent';

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const REDACTED = '[Redacted]';

/** pino redact paths (one `*` = any one key). Payloads with key/value pairs need redactOcppPayload(). */
export const REDACT_PATHS: readonly string[] = [
  'AuthorizationKey',
  '*.AuthorizationKey',
  'authorizationKey',
  '*.authorizationKey',
  'basicAuthPassword',
  '*.basicAuthPassword',
  'password',
  '*.password',
  'privateKey',
  '*.privateKey',
  'headers.authorization',
  'headers.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
];

export interface CreateLoggerOptions {
  level: LogLevel;
  /** Where JSON lines go; stdout when omitted (tests pass a stream to read them back). */
  destination?: DestinationStream;
}

export function createLogger(opts: CreateLoggerOptions): Logger {
  const options = { level: opts.level, redact: { paths: [...REDACT_PATHS], censor: REDACTED } };
  // Synchronous stdout: pino's default buffers, and the lines before a crash or kill -9 are the ones we need.
  return pino(options, opts.destination ?? pino.destination({ dest: 1, sync: true }));
}

/** A child logger whose lines carry `module`, so an installer can filter one subsystem. */
export function childLogger(root: Logger, module: string): Logger {
  return root.child({ module });
}

/** Property names whose value is a secret wherever they appear in a payload. */
const SECRET_PROPERTIES = new Set(['authorizationkey', 'basicauthpassword', 'password', 'privatekey']);
/** OCPP configuration keys / variables whose value is a secret (compared case-insensitively: CiString). */
const SECRET_CONFIG_KEYS = new Set(['authorizationkey', 'basicauthpassword']);

/**
 * A copy of an OCPP payload fit for the log: the value of AuthorizationKey in a
 * ChangeConfiguration request or a GetConfiguration response (key/value pairs pino's
 * path redaction cannot see), the attributeValue of BasicAuthPassword in a 2.0.1
 * SetVariables request, and any property named like a secret, are replaced by REDACTED.
 * The input is not modified.
 */
export function redactOcppPayload<T>(action: string, payload: T): T {
  const keyValuePairs = action === 'ChangeConfiguration' || action === 'GetConfiguration';
  const setVariables = action === 'SetVariables';
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (value === null || typeof value !== 'object') return value;
    const obj = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) {
      out[k] = SECRET_PROPERTIES.has(k.toLowerCase()) && v !== null && v !== undefined ? REDACTED : walk(v);
    }
    if (keyValuePairs && isSecretName(obj['key']) && 'value' in obj) out['value'] = REDACTED;
    if (setVariables && 'attributeValue' in obj) {
      const variable = obj['variable'];
      if (variable !== null && typeof variable === 'object' && isSecretName((variable as Record<string, unknown>)['name'])) {
        out['attributeValue'] = REDACTED;
      }
    }
    return out;
  };
  return walk(payload) as T;
}

function isSecretName(name: unknown): boolean {
  return typeof name === 'string' && SECRET_CONFIG_KEYS.has(name.toLowerCase());
}
