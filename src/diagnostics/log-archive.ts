// The archive a diagnostics or log upload sends (OCPP 1.6 GetDiagnostics; security whitepaper
// GetLog with DiagnosticsLog or SecurityLog): one tar.gz, built in memory from bounded sources
// (the log ring is bounded in bytes, the database is summarised, not copied). Protocol-neutral.
// Secrets never enter it: the configuration's secret fields are replaced, URLs lose their
// user:password, and every known secret value is scrubbed from every file as a last line.
import { createGzip } from 'node:zlib';
import { PassThrough } from 'node:stream';
import { TarWriter } from '../firmware/tar.js';
import { errorText } from '../platform/errors.js';
import { REDACTED, stripUrlCredentials } from '../platform/logger.js';
import type { SecurityLogReader } from '../security/security-events.js';

/** DiagnosticsLog: what GetDiagnostics sends too. SecurityLog: the security log alone. */
export type LogKind = 'diagnostics' | 'security';

/** Inclusive bounds in ms since the epoch; an absent bound is open. */
export interface TimeWindow {
  fromMs?: number;
  toMs?: number;
}

export interface ControllerIdentity {
  /** The agent's own release (BootNotification firmwareVersion). */
  firmwareVersion: string;
  serialNumber: string | null;
  /** The charge controller's, once its link came up (null before). */
  controller: { firmwareVersion: string; serialNumber: string; protocolVersion: number } | null;
  connectorCount: number;
}

export interface OcppKeyEntry {
  key: string;
  readonly: boolean;
  value?: string;
}

/** Where the archive's parts come from; each is read once, when the archive is built. */
export interface ArchiveSources {
  /** Recent log lines, JSON (pino's, already redacted), oldest first. */
  logLines(): readonly string[];
  /**
   * The agent's wall time minus the log lines' `time` (the system clock's), in ms: the window
   * comes in the CSMS's time, which a board without an RTC only has once synced. Default 0.
   */
  logTimeOffsetMs?(): number;
  /** The installer configuration (redacted here again). */
  agentConfig(): unknown;
  /** The OCPP configuration keys (AuthorizationKey's value is never kept). */
  ocppConfiguration(): readonly OcppKeyEntry[];
  /** Row counts, migrations, sizes; an error text when the database cannot be read. */
  databaseSummary(): unknown;
  /** Transaction messages waiting in the outbox. */
  outboxDepth(): number;
  identity(): ControllerIdentity;
  securityLog: SecurityLogReader;
  /** Secret values in force (AuthorizationKey, Basic Auth password): scrubbed wherever they appear. */
  secretValues(): readonly string[];
}

/** Secret-named fields, compared case-insensitively (the logger's and the whitepaper's names). */
const SECRET_FIELDS = new Set(['authorizationkey', 'basicauthpassword', 'password', 'privatekey', 'passphrase']);
/** OCPP keys whose value is a secret (CiString: compared case-insensitively). */
const SECRET_OCPP_KEYS = new Set(['authorizationkey', 'basicauthpassword']);
/** A secret shorter than this is not scrubbed by value: it would mangle ordinary text. */
const MIN_SCRUBBED_SECRET = 4;


/** A deep copy with secret-named fields replaced and credentials taken out of URLs. */
export function redactConfig(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactConfig);
  if (typeof value === 'string') return stripUrlCredentials(value);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = SECRET_FIELDS.has(k.toLowerCase()) && v !== null && v !== undefined ? REDACTED : redactConfig(v);
  }
  return out;
}

export function redactOcppKeys(keys: readonly OcppKeyEntry[]): OcppKeyEntry[] {
  return keys.map((k) => {
    if (!SECRET_OCPP_KEYS.has(k.key.toLowerCase())) return { ...k, ...(k.value !== undefined ? { value: stripUrlCredentials(k.value) } : {}) };
    return { key: k.key, readonly: k.readonly, ...(k.value ? { value: REDACTED } : {}) };
  });
}

/** Log lines whose `time` (ms, pino's) lies in the window; lines without one are kept only without a window. */
export function linesInWindow(lines: readonly string[], window: TimeWindow): string[] {
  if (window.fromMs === undefined && window.toMs === undefined) return [...lines];
  const from = window.fromMs ?? -Infinity;
  const to = window.toMs ?? Infinity;
  return lines.filter((line) => {
    const time = timeOf(line);
    return time !== null && time >= from && time <= to;
  });
}

function timeOf(line: string): number | null {
  try {
    const value: unknown = JSON.parse(line);
    if (value === null || typeof value !== 'object') return null;
    const time = (value as Record<string, unknown>)['time'];
    if (typeof time === 'number') return time;
    if (typeof time === 'string') {
      const ms = Date.parse(time);
      return Number.isNaN(ms) ? null : ms;
    }
    return null;
  } catch {
    return null;
  }
}

export interface ArchiveRequest {
  kind: LogKind;
  window: TimeWindow;
  /** The file name the upload uses; the archive's top directory is its stem. */
  fileName: string;
  createdAt: Date;
}

export interface BuiltArchive {
  data: Buffer;
  /** Archive paths, in order (for the upload log line and tests). */
  entries: string[];
}

/** Builds the tar.gz in memory. Never throws for a source that fails: its file says why instead. */
export async function buildLogArchive(req: ArchiveRequest, src: ArchiveSources): Promise<BuiltArchive> {
  const stem = req.fileName.replace(/\.tar\.gz$/, '') || 'log';
  const secrets = safeRead(() => src.secretValues(), []).filter((s) => s.length >= MIN_SCRUBBED_SECRET);
  const scrub = (text: string): string => secrets.reduce((t, s) => t.split(s).join(REDACTED), stripUrlCredentials(text));
  const files: { path: string; text: string }[] = [];
  const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
  const window = {
    from: req.window.fromMs === undefined ? null : new Date(req.window.fromMs).toISOString(),
    to: req.window.toMs === undefined ? null : new Date(req.window.toMs).toISOString(),
  };

  const identity = safeRead<unknown>(() => src.identity(), { error: 'identity unavailable' });
  if (req.kind === 'security') {
    const entries = safeRead(() => src.securityLog.entries(rangeOf(req.window)), null);
    const lines = (entries ?? []).map((e) => JSON.stringify({ seq: e.seq, time: new Date(e.atMs).toISOString(), type: e.type, techInfo: e.techInfo }));
    files.push({ path: 'manifest.json', text: json({ kind: 'SecurityLog', createdAt: req.createdAt.toISOString(), window, securityEvents: lines.length, ...(entries === null ? { error: 'the security log could not be read' } : {}) }) });
    files.push({ path: 'security-log.jsonl', text: lines.map((l) => `${l}\n`).join('') });
    files.push({ path: 'identity.json', text: json(identity) });
  } else {
    const offset = safeRead(() => src.logTimeOffsetMs?.() ?? 0, 0);
    const lines = linesInWindow(safeRead(() => src.logLines(), []), shift(req.window, -offset));
    files.push({ path: 'manifest.json', text: json({ kind: 'DiagnosticsLog', createdAt: req.createdAt.toISOString(), window, logLines: lines.length }) });
    files.push({ path: 'agent.log', text: lines.map((l) => `${l}\n`).join('') });
    files.push({
      path: 'config.json',
      text: json({
        agent: redactConfig(safeRead<unknown>(() => src.agentConfig(), { error: 'configuration unavailable' })),
        ocpp: redactOcppKeys(safeRead(() => src.ocppConfiguration(), [])),
      }),
    });
    files.push({
      path: 'database.json',
      text: json({ outboxDepth: safeRead<number | null>(() => src.outboxDepth(), null), ...asObject(databaseSummary(src)) }),
    });
    files.push({ path: 'identity.json', text: json(identity) });
  }

  const gzip = createGzip();
  const tarOut = new PassThrough();
  tarOut.pipe(gzip);
  const chunks: Buffer[] = [];
  gzip.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    gzip.on('end', resolve);
    gzip.on('error', reject);
  });
  const tar = new TarWriter(tarOut);
  await tar.addDirectory(stem);
  const entries: string[] = [];
  for (const f of files) {
    const path = `${stem}/${f.path}`;
    await tar.addBuffer(path, Buffer.from(scrub(f.text), 'utf8'));
    entries.push(path);
  }
  await tar.finish();
  tarOut.end();
  await done;
  return { data: Buffer.concat(chunks), entries };
}

function shift(w: TimeWindow, ms: number): TimeWindow {
  return { ...(w.fromMs !== undefined ? { fromMs: w.fromMs + ms } : {}), ...(w.toMs !== undefined ? { toMs: w.toMs + ms } : {}) };
}

function rangeOf(w: TimeWindow): { fromMs?: number; toMs?: number } {
  return { ...(w.fromMs !== undefined ? { fromMs: w.fromMs } : {}), ...(w.toMs !== undefined ? { toMs: w.toMs } : {}) };
}

function databaseSummary(src: ArchiveSources): unknown {
  try {
    return src.databaseSummary();
  } catch (err) {
    return { error: `the database could not be read: ${errorText(err)}` };
  }
}

function asObject(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : { summary: value };
}

/** One failing source must not cost the whole archive: the operator still gets the rest. */
function safeRead<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}
