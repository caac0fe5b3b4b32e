// Part of the composition root: the domain station over the controller, its settings read from
// the OCPP configuration (1.6 transaction points), its stored availability and its journal.
import type { Logger } from 'pino';
import type { AgentConfig } from '../config/agent-config.js';
import type { Clock } from '../platform/clock.js';
import { errorText } from '../platform/errors.js';
import { childLogger } from '../platform/logger.js';
import type { ChargeControllerPort } from '../domain/ports.js';
import { ChargingStation } from '../domain/station/charging-station.js';
import type { TransactionJournal } from '../domain/station/transactions.js';
import type { AuthorizationService } from '../domain/authorization/authorizer.js';
import type { ReservationBook } from '../domain/reservation/reservations.js';
import type { ConfigurationStore } from '../ocpp/v16/configuration-store.js';
import { transactionPoints16 } from '../ocpp/v16/mappers.js';
import type { AgentDatabase } from '../store/database.js';
import { SqliteAvailabilityRepo } from '../store/availability-repo.js';

export interface StationDeps {
  controller: ChargeControllerPort;
  authorizer: AuthorizationService;
  reservations: ReservationBook;
  /** Where started and ended transactions are recorded and reported (the outbox). */
  journal: TransactionJournal;
  database: AgentDatabase;
  config: ConfigurationStore;
  clock: Clock;
}

export function buildStation(cfg: AgentConfig, deps: StationDeps, log: Logger): ChargingStation {
  const { config, authorizer } = deps;
  const stationLog = childLogger(log, 'station');
  const station = new ChargingStation(
    deps.controller,
    authorizer,
    {
      connectionTimeoutS: () => config.getInt('ConnectionTimeOut'),
      transactionPoints: () => transactionPoints16(config.getBoolean('StopTransactionOnEVSideDisconnect')),
      stopTransactionOnInvalidId: () => config.getBoolean('StopTransactionOnInvalidId'),
      authorizeRemoteTxRequests: () => config.getBoolean('AuthorizeRemoteTxRequests'),
      maxCurrentA: () => cfg.controller.maxCurrentA,
      maxEnergyOnInvalidIdWh: () => config.getInt('MaxEnergyOnInvalidId'),
      unlockConnectorOnEVSideDisconnect: () => config.getBoolean('UnlockConnectorOnEVSideDisconnect'),
    },
    deps.clock,
    (err, context) => stationLog.warn({ err: errorText(err), context }, 'station operation failed'),
    { availability: new SqliteAvailabilityRepo(deps.database), reservations: deps.reservations, journal: deps.journal, learner: authorizer },
  );
  // One line per card and per decision: an installer reading the journal sees why a card did
  // or did not start a session without turning on debug logs.
  station.subscribe({
    cardPresented: ({ idToken }) => stationLog.info({ idToken: idToken.value }, 'card presented'),
    authorizationDecided: ({ idToken, accepted, status }) =>
      stationLog.info({ idToken: idToken.value, accepted, status }, accepted ? 'card accepted' : 'card refused'),
  });
  return station;
}
