// Schema validation and the ajv keyword -> OCPP-J 1.6 §4.2.3 CALLERROR code table, the multipleOf
// precision gotcha (7.3 A / 0.3 A limits), RFC 3339 date-time and lenient uri formats.
import { describe, expect, it } from 'vitest';
import { CALL_ERROR_CODES_16, CALL_ERROR_CODES_201, isCallErrorCode16 } from '../../../src/ocpp/rpc/error-codes.js';
import {
  codeForKeyword16,
  isLenientUri,
  isRfc3339DateTime,
  v16Validator,
  validatePayload,
} from '../../../src/ocpp/rpc/validation.js';
import { normalizeSchema } from '../../../scripts/codegen/gen-validators.mjs';
import { ACTIONS, type Action } from '../../../src/ocpp/v16/generated/action-map.js';

const profile = (limit: number) => ({
  chargingProfileId: 1,
  stackLevel: 0,
  chargingProfilePurpose: 'TxDefaultProfile',
  chargingProfileKind: 'Absolute',
  chargingSchedule: {
    chargingRateUnit: 'A',
    chargingSchedulePeriod: [{ startPeriod: 0, limit }],
    minChargingRate: limit,
  },
});

describe('multipleOf 0.1 with float limits (ajv #2353)', () => {
  it.each([7.3, 0.3, 16, 32.1])('SetChargingProfile limit %s A passes', (limit) => {
    expect(validatePayload('SetChargingProfile', 'request', { connectorId: 1, csChargingProfiles: profile(limit) })).toEqual({ ok: true });
  });
  it.each([7.3, 0.3])('RemoteStartTransaction limit %s A passes', (limit) => {
    const tx = { ...profile(limit), chargingProfilePurpose: 'TxProfile' };
    expect(validatePayload('RemoteStartTransaction', 'request', { idTag: 'TAG', chargingProfile: tx })).toEqual({ ok: true });
  });
  it('a limit off the 0.1 grid is a PropertyConstraintViolation naming the field', () => {
    const r = validatePayload('SetChargingProfile', 'request', { connectorId: 1, csChargingProfiles: profile(7.35) });
    expect(r).toMatchObject({ ok: false, code: 'PropertyConstraintViolation' });
    expect(!r.ok && r.message).toContain('csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit');
  });
});

type Case = [what: string, action: Action, dir: 'request' | 'response', payload: unknown, code: string, field: string];

// One row per CALLERROR path of the keyword table.
const CASES: Case[] = [
  ['type', 'ChangeAvailability', 'request', { connectorId: 'one', type: 'Operative' }, 'TypeConstraintViolation', 'connectorId'],
  ['required (1.6 spelling)', 'Authorize', 'request', {}, 'OccurenceConstraintViolation', 'idTag'],
  ['nested required', 'MeterValues', 'request', { connectorId: 1, meterValue: [{ timestamp: '2025-01-01T00:00:00Z' }] }, 'OccurenceConstraintViolation', 'meterValue[0].sampledValue'],
  ['minItems', 'GetInstalledCertificateIds', 'response', { status: 'Accepted', certificateHashData: [] }, 'OccurenceConstraintViolation', 'certificateHashData'],
  ['maxLength', 'Authorize', 'request', { idTag: 'x'.repeat(21) }, 'PropertyConstraintViolation', 'idTag'],
  ['enum', 'Reset', 'request', { type: 'Medium' }, 'PropertyConstraintViolation', 'type'],
  ['format date-time', 'BootNotification', 'response', { status: 'Accepted', currentTime: 'yesterday', interval: 300 }, 'PropertyConstraintViolation', 'currentTime'],
  ['format uri', 'UpdateFirmware', 'request', { location: 'not a uri', retrieveDate: '2025-01-01T00:00:00Z' }, 'PropertyConstraintViolation', 'location'],
  ['additionalProperties', 'Heartbeat', 'request', { extra: true }, 'PropertyConstraintViolation', 'extra'],
  ['additionalProperties (security, $ref)', 'DeleteCertificate', 'request', { certificateHashData: { hashAlgorithm: 'SHA256', issuerNameHash: 'a', issuerKeyHash: 'b', serialNumber: 'c', x: 1 } }, 'PropertyConstraintViolation', 'certificateHashData.x'],
  ['type at the root', 'Heartbeat', 'request', [], 'TypeConstraintViolation', '(payload)'],
];

describe('keyword -> CALLERROR code (OCPP-J 1.6 §4.2.3)', () => {
  it.each(CASES)('%s', (_what, action, dir, payload, code, field) => {
    const r = validatePayload(action, dir, payload);
    expect(r).toMatchObject({ ok: false, code });
    expect(!r.ok && r.message).toContain(`'${field}'`);
    expect(!r.ok && r.message).toContain(`${action}.${dir === 'request' ? 'req' : 'conf'}`);
  });

  it('maps unlisted keywords to FormationViolation and never to the 2.0.1 FormatViolation', () => {
    expect(codeForKeyword16('if')).toBe('FormationViolation');
    expect(codeForKeyword16('dependencies')).toBe('FormationViolation');
    for (const kw of ['type', 'required', 'maxLength', 'enum', 'format', 'additionalProperties', 'multipleOf', 'pattern', 'minimum', 'maximum']) {
      expect(isCallErrorCode16(codeForKeyword16(kw)), kw).toBe(true);
    }
    expect(isCallErrorCode16('FormatViolation')).toBe(false);
    expect(Object.keys(CALL_ERROR_CODES_16)).toHaveLength(10);
    expect(Object.keys(CALL_ERROR_CODES_201)).toContain('FormatViolation');
  });

  it('accepts valid payloads of core and security actions', () => {
    expect(validatePayload('BootNotification', 'request', { chargePointVendor: 'V', chargePointModel: 'M' })).toEqual({ ok: true });
    expect(validatePayload('StatusNotification', 'request', { connectorId: 1, errorCode: 'NoError', status: 'Available' })).toEqual({ ok: true });
    expect(validatePayload('GetInstalledCertificateIds', 'response', {
      status: 'Accepted',
      certificateHashData: [{ hashAlgorithm: 'SHA256', issuerNameHash: 'a', issuerKeyHash: 'b', serialNumber: '01' }],
    })).toEqual({ ok: true });
  });

  it('has a compiled validator (strict ajv, at build time) for every schema of the action map and knows only those actions', () => {
    for (const action of Object.keys(ACTIONS)) {
      expect(v16Validator.isKnownAction(action)).toBe(true);
      for (const dir of ['request', 'response'] as const) {
        expect(() => v16Validator.validate(action, dir, {})).not.toThrow();
      }
    }
    expect(v16Validator.isKnownAction('FooBar')).toBe(false);
    expect(v16Validator.isKnownAction('toString')).toBe(false);
  });
});

describe('formats', () => {
  it('maxLength counts code points, as ajv does: a surrogate pair is one character', () => {
    expect(validatePayload('Authorize', 'request', { idTag: '\u{1F50C}'.repeat(20) })).toEqual({ ok: true });
    expect(validatePayload('Authorize', 'request', { idTag: '\u{1F50C}'.repeat(21) })).toMatchObject({ ok: false, code: 'PropertyConstraintViolation' });
  });
  it.each(['2025-01-01T00:00:00Z', '2024-02-29T23:59:60.123+01:00', '2025-12-31t10:00:00z', '2025-06-01T12:00:00.5-05:30'])(
    'date-time %s is valid RFC 3339',
    (s) => expect(isRfc3339DateTime(s)).toBe(true),
  );
  it.each(['2025-01-01T00:00:00', '2025-02-29T00:00:00Z', '2025-13-01T00:00:00Z', '2025-01-01 00:00:00Z', '2025-01-01T24:00:00Z', '2025-01-01T00:00:00+24:00', '1700000000'])(
    'date-time %s is rejected',
    (s) => expect(isRfc3339DateTime(s)).toBe(false),
  );
  it('uri is lenient but needs a scheme and no blanks', () => {
    expect(isLenientUri('ftp://user:pw@host/path/fw.bin')).toBe(true);
    expect(isLenientUri('https://example.com/a?b=c')).toBe(true);
    expect(isLenientUri('/just/a/path')).toBe(false);
    expect(isLenientUri('http://a b')).toBe(false);
  });
});

describe('normalizeSchema', () => {
  it('drops the draft-04/06 header and misplaced additionalProperties, leaving the input alone', () => {
    const raw = {
      $schema: 'http://json-schema.org/draft-04/schema#',
      id: 'urn:OCPP:1.6:2019:12:ResetRequest',
      type: 'object',
      properties: { type: { type: 'string', additionalProperties: false, enum: ['Hard', 'Soft'] } },
      additionalProperties: false,
    };
    const copy = JSON.parse(JSON.stringify(raw)) as unknown;
    expect(normalizeSchema(raw)).toEqual({
      type: 'object',
      properties: { type: { type: 'string', enum: ['Hard', 'Soft'] } },
      additionalProperties: false,
    });
    expect(raw).toEqual(copy);
    expect(normalizeSchema({ $id: 'urn:x', type: 'object' })).toEqual({ type: 'object' });
  });
});
