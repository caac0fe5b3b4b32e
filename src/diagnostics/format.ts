// Human-readable output of `charger-agent diag`: aligned tables and short lines for
// people on site; scripts use --json. Results arrive as plain JSON, so every reader here is
// defensive: a field an older agent does not send prints as "-". Strings come from the CSMS
// (idTags, stop reasons) and from log lines, so control characters are shown escaped, never
// sent to the terminal (escape sequences could rewrite the screen or the window title).
import { isJsonObject, type Json, type JsonObject } from './protocol.js';

import { escapeControls } from '../platform/log-format.js';

// One formatter for log lines: the agent's own terminal output and `diag logs` read the same.
export { escapeControls, formatLogLine } from '../platform/log-format.js';

/** Columns padded to the widest cell; the last column is not padded. */
export function formatTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  rows = rows.map((r) => r.map(escapeControls));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

function obj(v: Json | undefined): JsonObject {
  return v !== undefined && isJsonObject(v) ? v : {};
}

function list(v: Json | undefined): Json[] {
  return Array.isArray(v) ? v : [];
}

function text(v: Json | undefined, fallback = '-'): string {
  if (v === undefined || v === null) return fallback;
  return escapeControls(typeof v === 'string' ? v : JSON.stringify(v));
}

function kWh(wh: Json | undefined): string {
  return typeof wh === 'number' ? `${(wh / 1000).toFixed(3)} kWh` : '-';
}

function roots(value: Json | undefined): string {
  if (value === null || value === undefined || typeof value !== 'object' || Array.isArray(value)) return 'n/a';
  const r = obj(value);
  return `${text(r['centralSystem'])} CSMS, ${text(r['manufacturer'])} manufacturer`;
}

function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h ${m}m`;
  if (h > 0) return `${h}h ${m}m`;
  return m > 0 ? `${m}m ${s % 60}s` : `${s % 60}s`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function formatStatus(result: Json): string {
  const r = obj(result);
  const v = obj(r['versions']);
  const csms = obj(r['csms']);
  const ctl = obj(r['controller']);
  const clock = obj(r['clock']);
  const offset = typeof clock['offsetMs'] === 'number' ? `${clock['offsetMs'] >= 0 ? '+' : ''}${clock['offsetMs']} ms` : '-';
  const uptime = typeof r['uptimeSeconds'] === 'number' ? formatDuration(r['uptimeSeconds']) : '-';
  const flash = typeof r['flashBytesWritten'] === 'number' ? formatBytes(r['flashBytesWritten']) : 'n/a';
  const summary: Array<[string, string]> = [
    ['Charge point', `${text(r['chargePointId'])}   up ${uptime}`],
    ['Versions', `agent ${text(v['agent'])}, node ${text(v['node'])}, firmware ${text(v['firmware'])}, controller ${text(v['controllerFirmware'])}`],
    [
      'CSMS',
      `${csms['connected'] === true ? 'connected' : 'NOT connected'}, registration ${text(csms['registration'])}, security profile ${text(csms['securityProfile'])}  ${text(csms['url'])}`,
    ],
    ['Controller', `${ctl['linkUp'] === true ? 'link up' : 'link DOWN'} on ${text(ctl['port'])}, serial ${text(ctl['serialNumber'])}`],
    ['Queue', `${text(r['queueDepth'], 'n/a')} transaction message(s) waiting`],
    ['Clock', `${clock['synced'] === true ? 'synced with the CSMS' : 'not synced'}, offset ${offset}`],
    ['Certificate', r['certificateExpiry'] ? `expires ${text(r['certificateExpiry'])}` : 'n/a'],
    ['Root certificates', roots(r['installedRoots'])],
    ['Flash written', flash],
    ['Log level', text(r['logLevel'])],
  ];
  if (r['smartCharging']) summary.push(['Smart charging', smartChargingLine(obj(r['smartCharging']))]);
  const width = Math.max(...summary.map(([k]) => k.length));
  const head = summary.map(([k, val]) => `${k.padEnd(width)}  ${val}`).join('\n');
  const rows = list(r['connectors']).map((c) => {
    const k = obj(c);
    const tx = k['transaction'] ? obj(k['transaction']) : null;
    const faults = list(k['faults']).map((f) => text(f));
    return [
      text(k['connector']),
      text(k['pilot']),
      text(k['status']) + (faults.length > 0 ? ` (${faults.join(',')})` : ''),
      typeof k['offeredA'] === 'number' ? `${k['offeredA']} A` : '-',
      k['contactorClosed'] === true ? 'closed' : 'open',
      tx ? `${text(tx['transactionId'], text(tx['localId']))} ${text(tx['idTag'])}` : '-',
      tx ? kWh(tx['energyWh']) : '-',
      kWh(k['meterWh']),
    ];
  });
  const table = formatTable(['CONNECTOR', 'PILOT', 'STATUS', 'OFFERED', 'CONTACTOR', 'TRANSACTION', 'ENERGY', 'METER'], rows);
  return `${head}\n\n${table}`;
}

function smartChargingLine(sc: Record<string, Json>): string {
  const limits = list(sc['limits']).map((l) => {
    const k = obj(l);
    const volts = `${text(k['voltageV'])} V x ${text(k['phases'])}${k['measured'] === true ? '' : ' assumed'}`;
    return `${text(k['connector'])}: ${text(k['limitA'])} A (${text(k['binding'])}${k['paused'] === true ? ', paused' : ''}; W at ${volts})`;
  });
  const bytes = typeof sc['profileBytesWritten'] === 'number' ? formatBytes(sc['profileBytesWritten']) : '-';
  return `${text(sc['profilesReceived'])} profile(s) received (${text(sc['profilesIdentical'])} identical), ${text(sc['profileWrites'])} write(s) (${bytes}), ${text(sc['profilesCoalesced'])} coalesced; limit ${limits.join(', ') || '-'}`;
}

export function formatConfig(result: Json): string {
  const r = obj(result);
  const rows = list(r['keys']).map((e) => {
    const k = obj(e);
    const value = k['writeOnly'] === true ? (k['set'] === true ? '(set, write-only)' : '(not set, write-only)') : text(k['value'], '');
    return [text(k['key']), k['readonly'] === true ? 'R' : 'RW', value];
  });
  const unknown = list(r['unknown']).map((u) => text(u));
  const out = formatTable(['KEY', 'ACCESS', 'VALUE'], rows);
  return unknown.length > 0 ? `${out}\n\nunknown: ${unknown.join(', ')}` : out;
}

export function formatTransactions(result: Json): string {
  const rows = list(obj(result)['transactions']).map((t) => {
    const x = obj(t);
    return [
      text(x['connector']),
      text(x['transactionId']),
      text(x['localId']),
      text(x['idTag']),
      text(x['startedAt']),
      x['stoppedAt'] ? `${text(x['stoppedAt'])} (${text(x['stopReason'])})` : 'active',
      kWh(x['energyWh']),
    ];
  });
  if (rows.length === 0) return 'no transactions';
  return formatTable(['CONNECTOR', 'ID', 'LOCAL ID', 'ID TAG', 'STARTED', 'STOPPED', 'ENERGY'], rows);
}

export function formatSecurityLog(result: Json): string {
  const rows = list(obj(result)['entries']).map((e) => {
    const x = obj(e);
    return [text(x['at']), text(x['type']), text(x['techInfo'], '')];
  });
  if (rows.length === 0) return 'the security log is empty';
  return formatTable(['TIME', 'EVENT', 'DETAIL'], rows);
}

/** Small results (config set, trigger, log-level, controller, simulate) as `key: value` lines. */
export function formatPlain(result: Json): string {
  if (!isJsonObject(result)) return text(result);
  return Object.entries(result)
    .map(([k, v]) => `${escapeControls(k)}: ${text(v)}`)
    .join('\n');
}
