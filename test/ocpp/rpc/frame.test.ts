// OCPP-J 1.6 §4.1-4.2 framing: every parse outcome, including which failures may be answered
// with a CALLERROR (id readable, CALL) and which are dropped.
import { describe, expect, it } from 'vitest';
import {
  MAX_ERROR_DESCRIPTION_LENGTH,
  parseFrame,
  readFrameHead,
  serializeCall,
  serializeCallError,
  serializeCallResult,
  type FrameFailure,
} from '../../../src/ocpp/rpc/frame.js';

const ID36 = 'a'.repeat(36);

describe('parseFrame: valid frames (OCPP-J 1.6 §4.2)', () => {
  it('parses CALL, CALLRESULT and CALLERROR into labelled tuples', () => {
    expect(parseFrame('[2,"19223201","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]')).toEqual({
      ok: true,
      frame: [2, '19223201', 'BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' }],
    });
    expect(parseFrame(`[3,"${ID36}",{"status":"Accepted"}]`)).toEqual({ ok: true, frame: [3, ID36, { status: 'Accepted' }] });
    expect(parseFrame('[4,"x","NotSupported","nope",{"a":1}]')).toEqual({
      ok: true,
      frame: [4, 'x', 'NotSupported', 'nope', { a: 1 }],
    });
  });

  it('accepts a CALLERROR without errorDetails (lenient: we only use it to reject a call)', () => {
    expect(parseFrame('[4,"x","GenericError","boom"]')).toEqual({ ok: true, frame: [4, 'x', 'GenericError', 'boom', {}] });
  });

  it('round-trips what serialize* writes', () => {
    expect(parseFrame(serializeCall('m1', 'Heartbeat', {}))).toEqual({ ok: true, frame: [2, 'm1', 'Heartbeat', {}] });
    expect(parseFrame(serializeCallResult('m1', { currentTime: 't' }))).toEqual({ ok: true, frame: [3, 'm1', { currentTime: 't' }] });
    expect(parseFrame(serializeCallError('m1', 'InternalError', 'd'))).toEqual({ ok: true, frame: [4, 'm1', 'InternalError', 'd', {}] });
  });
});

type Row = [name: string, text: string, expected: Partial<FrameFailure>];

// Rows: what arrives, and the failure we expect (reason, readable id, whether to answer).
const FAILURES: Row[] = [
  ['not JSON, CALL id readable -> FormationViolation', '[2,"abc","Heartbeat",{', { reason: 'not-json', messageId: 'abc', replyWith: 'malformed' }],
  ['not JSON, no id -> drop', '{{{', { reason: 'not-json', messageId: undefined, replyWith: undefined }],
  ['not JSON, CALLRESULT -> drop', '[3,"abc",{', { reason: 'not-json', replyWith: undefined }],
  ['not an array -> drop', '{"a":1}', { reason: 'not-array', replyWith: undefined }],
  ['empty array -> drop', '[]', { reason: 'not-array' }],
  ['unknown message type 5 -> drop (§4.1.1 ignore)', '[5,"abc",{}]', { reason: 'unknown-message-type', messageTypeId: 5, replyWith: undefined }],
  ['message type as string -> drop', '["2","abc","Heartbeat",{}]', { reason: 'unknown-message-type', replyWith: undefined }],
  ['id is a number -> drop', '[2,17,"Heartbeat",{}]', { reason: 'bad-message-id', messageId: undefined, replyWith: undefined }],
  ['id longer than 36 -> drop', `[2,"${'b'.repeat(37)}","Heartbeat",{}]`, { reason: 'bad-message-id', replyWith: undefined }],
  ['empty id -> drop', '[2,"","Heartbeat",{}]', { reason: 'bad-message-id' }],
  ['CALL without payload -> ProtocolError (incomplete)', '[2,"abc","Heartbeat"]', { reason: 'wrong-length', messageId: 'abc', replyWith: 'incomplete' }],
  ['CALL with extra element -> FormationViolation', '[2,"abc","Heartbeat",{},1]', { reason: 'wrong-length', replyWith: 'malformed' }],
  ['CALL action not a string', '[2,"abc",7,{}]', { reason: 'bad-action', replyWith: 'malformed' }],
  ['CALL payload is an array', '[2,"abc","Heartbeat",[]]', { reason: 'bad-payload', replyWith: 'malformed' }],
  ['CALL payload is null', '[2,"abc","Heartbeat",null]', { reason: 'bad-payload', replyWith: 'malformed' }],
  ['CALLRESULT payload a string -> drop, id kept', '[3,"abc","ok"]', { reason: 'bad-payload', messageId: 'abc', replyWith: undefined }],
  ['CALLRESULT too short', '[3,"abc"]', { reason: 'wrong-length', messageTypeId: 3, replyWith: undefined }],
  ['CALLERROR code not a string', '[4,"abc",5,"d",{}]', { reason: 'bad-error-fields', replyWith: undefined }],
  ['CALLERROR too short', '[4,"abc","GenericError"]', { reason: 'wrong-length', replyWith: undefined }],
];

describe('parseFrame: failures', () => {
  it.each(FAILURES)('%s', (_name, text, expected) => {
    const result = parseFrame(text);
    expect(result.ok).toBe(false);
    for (const [key, value] of Object.entries(expected)) {
      expect((result as unknown as Record<string, unknown>)[key], key).toEqual(value);
    }
  });
});

describe('serializeCallError', () => {
  it('writes the five-element CALLERROR and caps the description', () => {
    const text = serializeCallError('id1', 'GenericError', 'x'.repeat(1000), { why: 'test' });
    const parsed = JSON.parse(text) as unknown[];
    expect(parsed.slice(0, 3)).toEqual([4, 'id1', 'GenericError']);
    expect((parsed[3] as string).length).toBe(MAX_ERROR_DESCRIPTION_LENGTH);
    expect(parsed[4]).toEqual({ why: 'test' });
  });
});

describe('readFrameHead: type and id of a frame too large to parse', () => {
  it('reads a CALL with its action, a CALLRESULT and a CALLERROR from the first characters only', () => {
    const pad = 'x'.repeat(100_000);
    expect(readFrameHead(` [ 2 , "big-1" , "SendLocalList", {"listVersion":1,"pad":"${pad}`)).toEqual({ messageTypeId: 2, messageId: 'big-1', action: 'SendLocalList' });
    expect(readFrameHead(`[3,"${ID36}",{"pad":"${pad}"}]`)).toEqual({ messageTypeId: 3, messageId: ID36 });
    expect(readFrameHead(`[4,"e1","GenericError","${pad}`)).toEqual({ messageTypeId: 4, messageId: 'e1' });
  });

  it('returns null when no valid id can be read', () => {
    for (const text of ['garbage', '[2,17,"Reset",{}]', `[2,"${'a'.repeat(37)}","Reset",{}]`, '[7,"x",{}]', '[2,"a\\"b","Reset",{}]', `${' '.repeat(200)}[2,"x","Reset",{}]`, '']) {
      expect(readFrameHead(text), text.slice(0, 40)).toBeNull();
    }
  });
});
