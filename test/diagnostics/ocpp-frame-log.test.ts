// OCPP frames in the log at debug (issue 6, "Logs"): action and message id on each line (the
// answer named after its CALL), payload secrets redacted, nothing at all above debug.
import { describe, expect, it } from 'vitest';
import { ocppFrameLogger } from '../../src/diagnostics/ocpp-frame-log.js';
import { createLogger, setLogLevel } from '../../src/platform/logger.js';

function setup(level: 'info' | 'debug') {
  const lines: string[] = [];
  const logger = createLogger({ level, destination: { write: (s: string) => void lines.push(s) } });
  return { logger, onFrame: ocppFrameLogger(logger), records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const SECRET = 'frame-secret-0123456789';

describe('ocppFrameLogger', () => {
  it('logs a CALL and its CALLRESULT with action and message id', () => {
    const { onFrame, records } = setup('debug');
    onFrame('out', JSON.stringify([2, 'm-1', 'Heartbeat', {}]));
    onFrame('in', JSON.stringify([3, 'm-1', { currentTime: '2025-01-01T00:00:00Z' }]));
    expect(records()).toMatchObject([
      { level: 20, direction: 'out', messageType: 'CALL', messageId: 'm-1', action: 'Heartbeat', payload: {}, msg: 'OCPP -> CALL Heartbeat' },
      { level: 20, direction: 'in', messageType: 'CALLRESULT', messageId: 'm-1', action: 'Heartbeat', payload: { currentTime: '2025-01-01T00:00:00Z' } },
    ]);
  });

  it('redacts AuthorizationKey in ChangeConfiguration and in a GetConfiguration answer', () => {
    const { onFrame, records } = setup('debug');
    onFrame('in', JSON.stringify([2, 'c-1', 'ChangeConfiguration', { key: 'AuthorizationKey', value: SECRET }]));
    onFrame('out', JSON.stringify([3, 'c-1', { status: 'Accepted' }]));
    // An answer whose CALL was not seen is redacted as strictly as a GetConfiguration answer.
    onFrame('out', JSON.stringify([3, 'unseen', { configurationKey: [{ key: 'AuthorizationKey', readonly: false, value: SECRET }] }]));
    expect(JSON.stringify(records())).not.toContain(SECRET);
    expect(records()[0]).toMatchObject({ action: 'ChangeConfiguration', payload: { key: 'AuthorizationKey', value: '[Redacted]' } });
  });

  it('logs a CALLERROR with its code and a line that is not OCPP-J without throwing', () => {
    const { onFrame, records } = setup('debug');
    onFrame('out', JSON.stringify([2, 'e-1', 'Authorize', { idTag: 'X' }]));
    onFrame('in', JSON.stringify([4, 'e-1', 'InternalError', 'boom', {}]));
    onFrame('in', 'not json at all');
    onFrame('in', '{"a":1}');
    expect(records()).toMatchObject([
      { action: 'Authorize' },
      { messageType: 'CALLERROR', action: 'Authorize', payload: { errorCode: 'InternalError', errorDescription: 'boom' } },
      { msg: 'OCPP frame that is not JSON' },
      { msg: 'OCPP frame that is not an OCPP-J message' },
    ]);
  });

  it('writes nothing above debug, and starts when the level is lowered at runtime', () => {
    const { logger, onFrame, records } = setup('info');
    onFrame('out', JSON.stringify([2, 'q-1', 'Heartbeat', {}]));
    expect(records()).toEqual([]);
    setLogLevel(logger, 'debug');
    onFrame('out', JSON.stringify([2, 'q-2', 'Heartbeat', {}]));
    expect(records()).toMatchObject([{ messageId: 'q-2' }]);
  });
});
