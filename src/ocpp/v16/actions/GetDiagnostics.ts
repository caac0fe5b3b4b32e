// OCPP 1.6 §5.9 GetDiagnostics: the archive (upload service in diagnostics/log-upload.ts) goes
// to `location` (ftp, http or https), honouring startTime/stopTime, retries and retryInterval.
// The answer names the file; DiagnosticsStatusNotification then says Uploading, and Uploaded or
// UploadFailed. A location that cannot be used gets no file name (§5.9: no diagnostics) and an
// UploadFailed at once. A new request cancels the upload running, which reports nothing more.
import { diagnosticsStatusSender } from '../outgoing/DiagnosticsStatusNotification.js';
import type { IncomingHandler } from './context.js';

export const GetDiagnostics: IncomingHandler<'GetDiagnostics'> = async (req, { uploads, session }) => {
  const send = diagnosticsStatusSender(session.outgoing);
  if (!uploads) return {};
  const result = await uploads.start(
    {
      kind: 'diagnostics',
      location: req.location,
      window: { ...msOf('fromMs', req.startTime), ...msOf('toMs', req.stopTime) },
      ...(req.retries !== undefined ? { retries: req.retries } : {}),
      ...(req.retryInterval !== undefined ? { retryIntervalS: req.retryInterval } : {}),
    },
    {
      uploading: () => send('Uploading'),
      finished: (outcome) => send(outcome.status === 'Uploaded' ? 'Uploaded' : 'UploadFailed'),
    },
  );
  if (!result.accepted) {
    setImmediate(() => send('UploadFailed'));
    return {};
  }
  return { fileName: result.fileName };
};

/** A date-time bound as ms, or nothing (the schema checked the format; a bad date is no bound). */
export function msOf<K extends string>(key: K, time: string | undefined): Partial<Record<K, number>> {
  const ms = time === undefined ? NaN : Date.parse(time);
  return Number.isNaN(ms) ? {} : ({ [key]: ms } as Partial<Record<K, number>>);
}
