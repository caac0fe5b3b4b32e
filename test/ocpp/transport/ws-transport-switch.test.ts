// WsTransport with settings read before each attempt (security profile switch): reconnect() takes the
// new settings, a TLS connection once open forbids any later plain attempt (no downgrade), and the
// security events of refused attempts come once per outage, not once per retry. Against the dev CSMS
// serving ws:// and wss:// on one port with the dev PKI (certs/make-dev-pki.sh), real TLS.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DevCsms } from '../../../src/devtools/dev-csms.js';
import type { TransportError } from '../../../src/ocpp/transport/transport.js';
import { WsTransport, type ConnectionSettings } from '../../../src/ocpp/transport/ws-transport.js';
import type { SecurityEventType } from '../../../src/security/security-events.js';
import { waitFor } from '../../helpers/wait.js';

const ROOT = new URL('../../..', import.meta.url).pathname;
const KEY = '00112233445566778899aabbccddeeff';
let pki: string;
let root: string;
let csms: DevCsms;
const transports: WsTransport[] = [];

beforeAll(() => {
  pki = mkdtempSync(join(tmpdir(), 'switch-pki-'));
  execFileSync('bash', [join(ROOT, 'certs/make-dev-pki.sh'), pki], { stdio: 'ignore' });
  root = readFileSync(join(pki, 'csms-root-ca.crt'), 'utf8');
});
afterAll(() => rmSync(pki, { recursive: true, force: true }));
afterEach(async () => {
  for (const t of transports.splice(0)) await t.close();
  await csms.stop();
});

async function startCsms(): Promise<void> {
  csms = new DevCsms({ security: { pkiDir: pki, authorizationKey: KEY } });
  await csms.start();
}

function transport(settings: () => ConnectionSettings, events: SecurityEventType[] = []): { t: WsTransport; errors: TransportError[] } {
  const t = new WsTransport({
    url: csms.url,
    chargePointId: 'CP-SWITCH-1',
    securityProfile: 0,
    settings,
    securityEvents: { report: (type) => void events.push(type) },
    pingIntervalSeconds: 0,
    reconnect: { baseDelayMs: 50, maxDelayMs: 100, stableAfterMs: 60_000 },
  });
  const errors: TransportError[] = [];
  t.on('error', (e) => errors.push(e));
  transports.push(t);
  return { t, errors };
}

describe('WsTransport settings switch', () => {
  it('reconnect() connects again with the settings of that moment', async () => {
    await startCsms();
    let s: ConnectionSettings = { url: csms.url, securityProfile: 0 };
    const { t } = transport(() => s);
    t.open();
    await waitFor(() => t.isOpen(), 8_000, 'profile 0');
    s = { url: csms.wssUrl, securityProfile: 2, authorizationKey: KEY, ca: [root] };
    t.reconnect('raise to 2');
    await waitFor(() => t.isOpen() && csms.admissions.length === 2, 8_000, 'profile 2');
    expect(csms.admissions.map((a) => [a.profile, a.tls])).toEqual([
      [0, false],
      [2, true],
    ]);
  });

  it('after a TLS connection, settings asking for a plain one are refused without any attempt', async () => {
    await startCsms();
    let s: ConnectionSettings = { url: csms.wssUrl, securityProfile: 2, authorizationKey: KEY, ca: [root] };
    const { t, errors } = transport(() => s);
    t.open();
    await waitFor(() => t.isOpen(), 8_000, 'profile 2');
    s = { url: csms.url, securityProfile: 1, authorizationKey: KEY };
    t.reconnect('a downgrade');
    await waitFor(() => errors.filter((e) => e.kind === 'config').length >= 3, 8_000, 'refused attempts');
    expect(errors.find((e) => e.kind === 'config')?.message).toMatch(/refusing a plain connection .*\(no downgrade\)/);
    expect(csms.connectionCounts).toEqual({ plain: 0, tls: 1 });
  });

  it('a refused server raises its security event once per outage, again after a connection in between', async () => {
    await startCsms();
    const events: SecurityEventType[] = [];
    let s: ConnectionSettings = { url: csms.wssUrl, securityProfile: 2, authorizationKey: 'ffeeddccbbaa99887766554433221100', ca: [root] };
    const { t, errors } = transport(() => s, events);
    t.open();
    await waitFor(() => errors.length >= 4, 8_000, 'several refused attempts');
    expect(errors.every((e) => e.kind === 'handshake-rejected' && e.statusCode === 401)).toBe(true);
    expect(events).toEqual(['FailedToAuthenticateAtCentralSystem']);
    s = { ...s, authorizationKey: KEY };
    await waitFor(() => t.isOpen(), 8_000, 'the right key');
    s = { ...s, authorizationKey: 'ffeeddccbbaa99887766554433221100' };
    await csms.disconnect('CP-SWITCH-1');
    await waitFor(() => events.length === 2, 8_000, 'the second outage');
    expect(events).toEqual(['FailedToAuthenticateAtCentralSystem', 'FailedToAuthenticateAtCentralSystem']);
  });
});
