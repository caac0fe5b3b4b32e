// What a CSMS-initiated action handler may use. Each handler takes only what it needs from here.
import type { ChargingStation } from '../../../domain/station/charging-station.js';
import type { LocalAuthorizationList } from '../../../domain/authorization/local-list.js';
import type { AuthorizationCache } from '../../../domain/authorization/authorization-cache.js';
import type { ReservationBook } from '../../../domain/reservation/reservations.js';
import type { SmartCharging } from '../../../domain/smart-charging/smart-charging.js';
import type { ConfigurationStore } from '../configuration-store.js';
import type { OcppSession } from '../session.js';
import type { CsmsAction, RequestOf, ResponseOf } from './types.js';
import type { UploadService } from '../../../diagnostics/log-upload.js';
import type { FirmwareRequestResult, FirmwareUpdateRequest } from '../../../firmware/update-manager.js';
import type { CertificateStore } from '../../../security/certificate-store.js';
import type { SecurityEventSink } from '../../../security/security-events.js';
import type { CsmsReconnector } from '../../../security/reconnect.js';
import type { CertificateRenewal } from '../certificate-renewal.js';

/** Certificate management and security events (security whitepaper). */
export interface SecurityContext {
  certificates: CertificateStore;
  events: SecurityEventSink;
  /** A new charge-point certificate was installed: reconnect so that it is used. */
  reconnect: CsmsReconnector;
  /** The security profile in use (0-3). */
  securityProfile(): number;
  /** CSRs: SignCertificate now (ExtendedTriggerMessage), and the end of a renewal (CertificateSigned). */
  renewal: CertificateRenewal;
  /** The charge point's identity: the CN its certificate must carry. */
  chargePointId: string;
}

export interface HandlerContext {
  station: ChargingStation;
  config: ConfigurationStore;
  session: OcppSession;
  /** Stops transactions with the reset's reason and restarts the agent (and, for Hard, the controller). */
  requestReset(type: 'Soft' | 'Hard'): boolean;
  /** Vendor DataTransfer handlers by vendorId. */
  vendorHandlers: ReadonlyMap<string, VendorDataHandler>;
  /** Local Auth List Management (SendLocalList, GetLocalListVersion) and ClearCache. */
  authorization: { localList: LocalAuthorizationList; cache: AuthorizationCache };
  /** Reservation profile (ReserveNow, CancelReservation). */
  reservations: ReservationBook;
  /** Diagnostics and log uploads (GetDiagnostics, GetLog); absent: nothing can be uploaded. */
  uploads?: UploadService;
  /** Smart Charging profile (SetChargingProfile, ClearChargingProfile, GetCompositeSchedule); absent = not offered. */
  smartCharging?: SmartCharging;
  /** Firmware Management (UpdateFirmware, SignedUpdateFirmware): src/firmware/update-manager.ts. */
  firmware: {
    /** May resolve later: the update code is loaded on the first request (composition/firmware.ts). */
    request(req: FirmwareUpdateRequest): FirmwareRequestResult | Promise<FirmwareRequestResult>;
    /** ChangeAvailability of the station while an update holds it Inoperative: kept for its end (true). */
    holdAvailability(availability: 'Operative' | 'Inoperative'): boolean;
  };
  security: SecurityContext;
}

export type IncomingHandler<A extends CsmsAction> = (req: RequestOf<A>, ctx: HandlerContext) => ResponseOf<A> | Promise<ResponseOf<A>>;

/** A charger maker's DataTransfer handler for its own vendorId (passed to startAgent). */
export type VendorDataHandler = (messageId: string | undefined, data: string | undefined) => ResponseOf<'DataTransfer'> | Promise<ResponseOf<'DataTransfer'>>;
