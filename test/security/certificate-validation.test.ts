// Chain and policy checks with certificates made by the openssl CLI: each refusal names its problem,
// and the floored clock accepts a valid certificate on a board whose clock is at 1970.
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flooredNow } from '../../src/security/clock-floor.js';
import {
  CertificateCheckError,
  EKU,
  matchesPrivateKey,
  parsePemChain,
  verifyChain,
  type CertificateProblem,
} from '../../src/security/certificate-validation.js';
import { TestPki, type Issued } from '../helpers/test-pki.js';

let pki: TestPki;
let root: Issued;
let mid: Issued;
beforeAll(() => {
  pki = new TestPki();
  root = pki.root('Validation Root');
  mid = pki.issue('Validation Intermediate', root, { ca: true });
});
afterAll(() => pki.cleanup());

const x = (i: Issued) => new X509Certificate(i.cert);
const NOW = new Date();

function problem(fn: () => unknown): CertificateProblem | 'none' {
  try {
    fn();
    return 'none';
  } catch (err) {
    if (err instanceof CertificateCheckError) return err.problem;
    throw err;
  }
}

describe('verifyChain', () => {
  it('accepts leaf + intermediate up to the installed root, checking host and purpose', () => {
    const leaf = pki.server(mid);
    const path = verifyChain([x(leaf), x(mid)], [x(root)], { at: NOW, host: '127.0.0.1', purpose: EKU.serverAuth });
    expect(path.map((c) => c.subject)).toEqual([x(leaf).subject, x(mid).subject, x(root).subject]);
    expect(problem(() => verifyChain([x(leaf), x(mid)], [x(root)], { at: NOW, host: 'localhost' }))).toBe('none');
  });

  it('names each refusal', () => {
    const other = pki.root('Other Root');
    const cases: [string, () => unknown, CertificateProblem][] = [
      ['missing intermediate', () => verifyChain([x(pki.server(mid))], [x(root)], { at: NOW }), 'untrusted'],
      ['other root', () => verifyChain([x(pki.server(other))], [x(root)], { at: NOW }), 'untrusted'],
      ['self-signed leaf', () => verifyChain([x(pki.issue('localhost', undefined, { san: 'DNS:localhost' }))], [x(root)], { at: NOW }), 'untrusted'],
      ['expired', () => verifyChain([x(pki.server(root, { start: '20200101000000Z', end: '20210101000000Z' }))], [x(root)], { at: NOW }), 'expired'],
      ['not yet valid', () => verifyChain([x(pki.server(root, { start: '20400101000000Z', end: '20410101000000Z' }))], [x(root)], { at: NOW }), 'not-yet-valid'],
      ['wrong host', () => verifyChain([x(pki.server(root))], [x(root)], { at: NOW, host: 'csms.example.com' }), 'host-mismatch'],
      ['client cert as server', () => verifyChain([x(pki.issue('localhost', root, { eku: 'clientAuth' }))], [x(root)], { at: NOW, purpose: EKU.serverAuth }), 'wrong-purpose'],
      ['RSA 1024', () => verifyChain([x(pki.server(root, { key: 'rsa1024' }))], [x(root)], { at: NOW }), 'weak-key'],
      ['SHA-1 signature', () => verifyChain([x(pki.server(root, { md: 'sha1' }))], [x(root)], { at: NOW }), 'weak-signature'],
      ['non-CA intermediate', () => verifyChain([x(pki.server(pki.issue('Leafy', root))), x(pki.issue('Leafy', root))], [x(root)], { at: NOW }), 'untrusted'],
      ['expired root', () => verifyChain([x(pki.server(root))], [x(root)], { at: new Date('2099-01-01T00:00:00Z') }), 'expired'],
    ];
    for (const [name, fn, expected] of cases) expect(problem(fn), name).toBe(expected);
  });

  it('accepts a valid certificate at a 1970 system clock thanks to the build-date floor', () => {
    const leaf = pki.server(root);
    const at1970 = new Date(0);
    expect(problem(() => verifyChain([x(leaf)], [x(root)], { at: at1970 }))).toBe('not-yet-valid');
    expect(flooredNow(at1970).getTime()).toBeGreaterThan(Date.parse('2026-01-01'));
    expect(problem(() => verifyChain([x(leaf)], [x(root)], { at: flooredNow(at1970, NOW) }))).toBe('none');
    // The floor never moves a later clock back.
    expect(flooredNow(new Date('2099-01-01'), NOW).toISOString()).toBe('2099-01-01T00:00:00.000Z');
  });

  it('refuses a signature that does not verify even when names and key ids match', () => {
    // Same subject and key identifier scheme, different key: checkIssued may match by name, verify must fail.
    const twin = pki.root('Validation Root');
    const leaf = pki.server(twin);
    expect(problem(() => verifyChain([x(leaf)], [x(root)], { at: NOW }))).toBe('untrusted');
  });
});

describe('parsePemChain and matchesPrivateKey', () => {
  it('reads every certificate of a bundle and refuses garbage', () => {
    const leaf = pki.server(mid);
    expect(parsePemChain(`${leaf.cert}\n${mid.cert}`)).toHaveLength(2);
    expect(problem(() => parsePemChain('hello'))).toBe('unparsable');
    const broken = leaf.cert.replace(/\n[A-Za-z0-9+/]{20}/, '\nAAAAAAAAAAAAAAAAAAAA');
    expect(problem(() => parsePemChain(broken))).toBe('unparsable');
  });

  it('matches a certificate to its own key only', () => {
    const a = pki.server(root);
    const b = pki.server(root, { key: 'rsa2048' });
    expect(matchesPrivateKey(x(a), a.key)).toBe(true);
    expect(matchesPrivateKey(x(b), b.key)).toBe(true);
    expect(matchesPrivateKey(x(a), b.key)).toBe(false);
    expect(matchesPrivateKey(x(a), 'not a key')).toBe(false);
  });
});
