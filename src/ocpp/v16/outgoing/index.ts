// THE registry of charger-initiated OCPP 1.6 actions: one line each. Typed over the generated
// action map, so an action without its module fails tsc; 'NotSent' is explicit. TriggerMessage
// and the diagnostics trigger ask it what can be sent on request.
import type { CpAction } from '../actions/types.js';
import type { OutgoingAction, OutgoingContext } from './context.js';
import { Authorize } from './Authorize.js';
import { BootNotification } from './BootNotification.js';
import { DataTransfer } from './DataTransfer.js';
import { DiagnosticsStatusNotification } from './DiagnosticsStatusNotification.js';
import { FirmwareStatusNotification } from './FirmwareStatusNotification.js';
import { Heartbeat } from './Heartbeat.js';
import { LogStatusNotification } from './LogStatusNotification.js';
import { MeterValues } from './MeterValues.js';
import { StartTransaction } from './StartTransaction.js';
import { StatusNotification } from './StatusNotification.js';
import { StopTransaction } from './StopTransaction.js';
import { SignedFirmwareStatusNotification } from './SignedFirmwareStatusNotification.js';
import { SecurityEventNotification } from './SecurityEventNotification.js';
import { SignCertificate } from './SignCertificate.js';

export type OutgoingRegistry = { [A in CpAction]: OutgoingAction<A> | 'NotSent' };

export const OUTGOING_ACTIONS: OutgoingRegistry = {
  Authorize,
  BootNotification,
  DataTransfer,
  Heartbeat,
  MeterValues,
  StartTransaction,
  StatusNotification,
  StopTransaction,
  DiagnosticsStatusNotification,
  FirmwareStatusNotification,
  // Security whitepaper
  LogStatusNotification,
  SecurityEventNotification,
  SignCertificate,
  SignedFirmwareStatusNotification,
};

function isOutgoing(message: string): message is CpAction {
  return Object.hasOwn(OUTGOING_ACTIONS, message);
}

/** The sender of a message asked for by name, or null when this charger cannot send it on request. */
export function triggerFor(message: string, ctx: OutgoingContext, connectorId?: number): (() => Promise<void>) | null {
  if (!isOutgoing(message)) return null;
  const entry = OUTGOING_ACTIONS[message];
  const trigger = entry === 'NotSent' ? undefined : entry.trigger;
  return trigger ? () => trigger(ctx, connectorId) : null;
}
