// When a transaction starts and stops, as settings (2.0.1 TxStartPoint / TxStopPoint).
// 1.6 fixes them: start once authorized AND the EV is connected (either order); stop when
// deauthorized, and on EV disconnect when StopTransactionOnEVSideDisconnect is on.

export type TransactionStartPoint = 'Authorized+EVConnected';
export type TransactionStopPoint = 'Deauthorized' | 'EVDisconnected';

export interface TransactionPoints {
  start: TransactionStartPoint;
  stop: readonly TransactionStopPoint[];
}
