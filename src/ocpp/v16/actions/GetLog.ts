// Security whitepaper GetLog: DiagnosticsLog (the archive GetDiagnostics sends) or SecurityLog
// (the security log's events) to log.remoteLocation, from oldestTimestamp to latestTimestamp,
// honouring retries and retryInterval. Answers Accepted with the file name, AcceptedCanceled when
// an upload was running (it is cancelled and reports nothing more), Rejected for a location that
// cannot be used. LogStatusNotification with the requestId: Uploading, then Uploaded or why not.
import type { UploadFailure } from '../../../diagnostics/upload-transport.js';
import type { UploadLogStatusEnumType } from '../generated/types.js';
import { logStatusSender } from '../outgoing/LogStatusNotification.js';
import type { IncomingHandler } from './context.js';
import { msOf } from './GetDiagnostics.js';

const FAILURE_STATUS: Record<UploadFailure, UploadLogStatusEnumType> = {
  'permission-denied': 'PermissionDenied',
  'not-supported-by-server': 'NotSupportedOperation',
  'bad-message': 'BadMessage',
  'unsupported-location': 'NotSupportedOperation',
  failed: 'UploadFailure',
};

export const GetLog: IncomingHandler<'GetLog'> = async (req, { uploads, session }) => {
  if (!uploads) return { status: 'Rejected' };
  const send = logStatusSender(session.outgoing, req.requestId);
  const result = await uploads.start(
    {
      kind: req.logType === 'SecurityLog' ? 'security' : 'diagnostics',
      location: req.log.remoteLocation,
      window: { ...msOf('fromMs', req.log.oldestTimestamp), ...msOf('toMs', req.log.latestTimestamp) },
      requestId: req.requestId,
      ...(req.retries !== undefined ? { retries: req.retries } : {}),
      ...(req.retryInterval !== undefined ? { retryIntervalS: req.retryInterval } : {}),
    },
    {
      uploading: () => send('Uploading'),
      finished: (outcome) => send(outcome.status === 'Uploaded' ? 'Uploaded' : FAILURE_STATUS[outcome.failure]),
    },
  );
  if (!result.accepted) return { status: 'Rejected' };
  return { status: result.canceledPrevious ? 'AcceptedCanceled' : 'Accepted', filename: result.fileName };
};
