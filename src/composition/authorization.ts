// Part of the composition root: the local authorization list, the authorization cache, the decision
// order over them and the CSMS, and the reservation book, each on its SQLite repository and read
// through the OCPP configuration.
import type { Logger } from 'pino';
import type { Clock } from '../platform/clock.js';
import { errorText } from '../platform/errors.js';
import { childLogger } from '../platform/logger.js';
import type { RemoteAuthorizer } from '../domain/ports.js';
import { AuthorizationCache } from '../domain/authorization/authorization-cache.js';
import { LocalAuthorizationList } from '../domain/authorization/local-list.js';
import { AuthorizationService } from '../domain/authorization/authorizer.js';
import { ReservationBook } from '../domain/reservation/reservations.js';
import type { ConfigurationStore } from '../ocpp/v16/configuration-store.js';
import type { AgentDatabase } from '../store/database.js';
import { SqliteLocalListRepo } from '../store/local-list-repo.js';
import { SqliteAuthCacheRepo } from '../store/auth-cache-repo.js';
import { SqliteReservationRepo } from '../store/reservation-repo.js';

export interface AuthorizationParts {
  service: AuthorizationService;
  localList: LocalAuthorizationList;
  cache: AuthorizationCache;
  reservations: ReservationBook;
}

export interface AuthorizationDeps {
  database: AgentDatabase;
  config: ConfigurationStore;
  clock: Clock;
  /** Asks the CSMS (Authorize.req); 'offline' when it cannot. */
  remote: RemoteAuthorizer;
}

export function buildAuthorization({ database, config, clock, remote }: AuthorizationDeps, log: Logger): AuthorizationParts {
  const authLog = childLogger(log, 'authorization');
  const localList = new LocalAuthorizationList(new SqliteLocalListRepo(database), {
    enabled: () => config.getBoolean('LocalAuthListEnabled'),
    maxEntries: () => config.getInt('LocalAuthListMaxLength'),
    maxUpdateEntries: () => config.getInt('SendLocalListMaxLength'),
  });
  const cache = new AuthorizationCache(new SqliteAuthCacheRepo(database), clock, {
    onError: (err, context) => authLog.warn({ err: errorText(err), context }, 'authorization cache write failed'),
  });
  const service = new AuthorizationService({
    remote,
    list: localList,
    cache,
    settings: {
      localPreAuthorize: () => config.getBoolean('LocalPreAuthorize'),
      localAuthorizeOffline: () => config.getBoolean('LocalAuthorizeOffline'),
      allowOfflineTxForUnknownId: () => config.getBoolean('AllowOfflineTxForUnknownId'),
      authorizationCacheEnabled: () => config.getBoolean('AuthorizationCacheEnabled'),
    },
    clock,
  });
  const reservations = new ReservationBook(
    new SqliteReservationRepo(database),
    clock,
    { reserveConnectorZeroSupported: () => config.getBoolean('ReserveConnectorZeroSupported') },
    {
      onEnded: (r, why) => authLog.info({ reservationId: r.id, connector: r.evseId ?? 0, why }, 'reservation ended'),
      onError: (err, context) => authLog.warn({ err: errorText(err), context }, 'reservation store failed'),
    },
  );
  return { service, localList, cache, reservations };
}

