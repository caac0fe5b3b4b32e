// `transactions`: the active transactions and the most recent stopped ones, with the CSMS
// transaction id once known and the energy delivered.
import { onlyArgs } from './args.js';
import type { DiagCommand } from './types.js';

export const transactions: DiagCommand = {
  name: 'transactions',
  summary: 'active and recent transactions',
  run: (args, { host }) => {
    onlyArgs('transactions', args, []);
    return { transactions: host.transactions() };
  },
};
