// The CSMS's answers to StartTransaction and StopTransaction (§4.8, §4.10), told to the domain
// in its words: the identifier info is learnt (authorization cache), and a refused start is
// the station's business (StopTransactionOnInvalidId, MaxEnergyOnInvalidId).
import type { AuthorizationInfo } from '../../domain/model/authorization.js';
import type { IdToken } from '../../domain/model/id-token.js';
import { fromIdTagInfo } from './id-tag-info.js';
import { idTokenOf } from './mappers.js';
import type { MessengerHooks } from './transaction-messages.js';

export interface TransactionAnswerSinks {
  station: { startAnswered(localId: string, idToken: IdToken, info: AuthorizationInfo): void };
  learner: { learn(idToken: IdToken, info: AuthorizationInfo): void };
}

export function transactionAnswerHooks({ station, learner }: TransactionAnswerSinks): MessengerHooks {
  return {
    startAnswered: (localId, idTag, info) => station.startAnswered(localId, idTokenOf(idTag), fromIdTagInfo(info)),
    stopAnswered: (idTag, info) => learner.learn(idTokenOf(idTag), fromIdTagInfo(info)),
  };
}
