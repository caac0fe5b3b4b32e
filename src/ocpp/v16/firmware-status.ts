// The firmware update's statuses as 1.6 messages: a plain update (UpdateFirmware) reports the
// FirmwareStatusNotification subset (§4.5: Downloading, Downloaded, DownloadFailed, Installing,
// Installed, InstallationFailed), a signed one (SignedUpdateFirmware) every status with its
// requestId in SignedFirmwareStatusNotification. Sent at once when registered; otherwise kept
// (in order, a few at most) and sent after the next accepted BootNotification, which is how the
// final status reaches the CSMS after the restart into the new release.
import type { FirmwareUpdateStatus } from '../../firmware/update-manager.js';
import type { FirmwareStatusSink, FirmwareTriggerStatus } from '../../firmware/update-status.js';
import { errorText } from '../../platform/errors.js';
import type { FirmwareStatus } from './generated/types.js';
import type { OutgoingContext, TriggeredFirmwareStatus } from './outgoing/context.js';
import { firmwareStatusNotificationRequest } from './outgoing/FirmwareStatusNotification.js';
import { signedFirmwareStatusNotificationRequest } from './outgoing/SignedFirmwareStatusNotification.js';

const PLAIN: Partial<Record<FirmwareUpdateStatus, FirmwareStatus>> = {
  Downloading: 'Downloading',
  Downloaded: 'Downloaded',
  DownloadFailed: 'DownloadFailed',
  Installing: 'Installing',
  Installed: 'Installed',
  InstallationFailed: 'InstallationFailed',
  InstallVerificationFailed: 'InstallationFailed',
  InvalidSignature: 'InstallationFailed',
};
/** Where a whitepaper-only status sits in the plain sequence (for a triggered notification). */
const BETWEEN: Partial<Record<FirmwareUpdateStatus, FirmwareStatus>> = {
  DownloadScheduled: 'Idle',
  SignatureVerified: 'Downloaded',
  InstallScheduled: 'Downloaded',
  InstallRebooting: 'Installing',
};

/** §5.17: the status of the update running (as the plain sequence knows it), Idle when none runs. */
export function triggeredFirmwareStatus(status: FirmwareUpdateStatus | 'Idle'): FirmwareStatus {
  if (status === 'Idle') return 'Idle';
  return BETWEEN[status] ?? PLAIN[status] ?? 'Idle';
}

/** A triggered notification: a signed update's status as it is, with its requestId; a plain one's as §5.17 knows it. */
export function triggeredFirmwareMessage(now: FirmwareTriggerStatus): TriggeredFirmwareStatus {
  if (!now.signed) return { message: 'FirmwareStatusNotification', status: triggeredFirmwareStatus(now.status) };
  return { message: 'SignedFirmwareStatusNotification', status: now.status, requestId: now.status === 'Idle' ? null : now.requestId };
}

/** Statuses kept while offline (the oldest go first when there are more). */
const MAX_KEPT = 8;

type Pending = () => Promise<void>;

export class FirmwareStatusReporter implements FirmwareStatusSink {
  private readonly kept: Pending[] = [];

  constructor(private readonly ctx: Pick<OutgoingContext, 'rpc' | 'canSend' | 'log'>) {}

  report(status: FirmwareUpdateStatus, update: { signed: boolean; requestId: number | null }): Promise<void> {
    let send: Pending;
    if (update.signed) {
      send = () => this.ctx.rpc.call('SignedFirmwareStatusNotification', signedFirmwareStatusNotificationRequest(status, update.requestId)).then(() => undefined);
    } else {
      const plain = PLAIN[status];
      if (plain === undefined) return Promise.resolve();
      send = () => this.ctx.rpc.call('FirmwareStatusNotification', firmwareStatusNotificationRequest(plain)).then(() => undefined);
    }
    if (!this.ctx.canSend()) {
      this.keep(send);
      return Promise.resolve();
    }
    return send().catch((err: unknown) => this.failed(send, err, 'last'));
  }

  /** After an accepted BootNotification: what could not be sent, in order. */
  async flush(): Promise<void> {
    while (this.kept.length > 0 && this.ctx.canSend()) {
      const send = this.kept.shift()!;
      try {
        await send();
      } catch (err) {
        this.failed(send, err, 'first');
        if (this.kept[0] === send) return;
      }
    }
  }

  /** Lost with the connection: kept for the next registration; refused by the CSMS: dropped. */
  private failed(send: Pending, err: unknown, place: 'first' | 'last'): void {
    if (this.ctx.canSend()) {
      this.ctx.log.warn({ err: errorText(err) }, 'firmware status refused by the CSMS; not sent again');
      return;
    }
    this.ctx.log.warn({ err: errorText(err) }, 'firmware status not delivered; kept for the next registration');
    if (place === 'last') return this.keep(send);
    this.kept.unshift(send);
    if (this.kept.length > MAX_KEPT) this.kept.pop();
  }

  private keep(send: Pending): void {
    this.kept.push(send);
    if (this.kept.length > MAX_KEPT) this.kept.shift();
  }
}
