// THE registry of CSMS-initiated OCPP 1.6 actions: one line each. Typed over the
// generated action map, so a missing action fails tsc; 'NotSupported' is explicit.
import type { CsmsAction } from './types.js';
import type { IncomingHandler } from './context.js';
import { ChangeAvailability } from './ChangeAvailability.js';
import { ChangeConfiguration } from './ChangeConfiguration.js';
import { DataTransfer } from './DataTransfer.js';
import { GetConfiguration } from './GetConfiguration.js';
import { RemoteStartTransaction } from './RemoteStartTransaction.js';
import { RemoteStopTransaction } from './RemoteStopTransaction.js';
import { Reset } from './Reset.js';
import { TriggerMessage } from './TriggerMessage.js';
import { UnlockConnector } from './UnlockConnector.js';
import { ClearCache } from './ClearCache.js';
import { GetLocalListVersion } from './GetLocalListVersion.js';
import { SendLocalList } from './SendLocalList.js';
import { ReserveNow } from './ReserveNow.js';
import { CancelReservation } from './CancelReservation.js';
import { GetDiagnostics } from './GetDiagnostics.js';
import { GetLog } from './GetLog.js';
import { SetChargingProfile } from './SetChargingProfile.js';
import { ClearChargingProfile } from './ClearChargingProfile.js';
import { GetCompositeSchedule } from './GetCompositeSchedule.js';
import { UpdateFirmware } from './UpdateFirmware.js';
import { SignedUpdateFirmware } from './SignedUpdateFirmware.js';
import { CertificateSigned } from './CertificateSigned.js';
import { DeleteCertificate } from './DeleteCertificate.js';
import { ExtendedTriggerMessage } from './ExtendedTriggerMessage.js';
import { GetInstalledCertificateIds } from './GetInstalledCertificateIds.js';
import { InstallCertificate } from './InstallCertificate.js';

export type IncomingRegistry = { [A in CsmsAction]: IncomingHandler<A> | 'NotSupported' };

export const INCOMING_ACTIONS: IncomingRegistry = {
  // Core
  ChangeAvailability,
  ChangeConfiguration,
  ClearCache,
  DataTransfer,
  GetConfiguration,
  RemoteStartTransaction,
  RemoteStopTransaction,
  Reset,
  UnlockConnector,
  // Firmware Management
  GetDiagnostics,
  UpdateFirmware,
  // Local Auth List Management
  GetLocalListVersion,
  SendLocalList,
  // Remote Trigger
  TriggerMessage,
  // Reservation
  CancelReservation,
  ReserveNow,
  // Smart Charging
  ClearChargingProfile,
  GetCompositeSchedule,
  SetChargingProfile,
  // Security whitepaper
  CertificateSigned,
  DeleteCertificate,
  ExtendedTriggerMessage,
  GetInstalledCertificateIds,
  GetLog,
  InstallCertificate,
  SignedUpdateFirmware,
};
