// A reseller's own purchases: one by id (another reseller's is not found) and the last 100.
import { history, transactionOf } from '../repo/purchases.ts';
import type { PpobDeps } from '../wire.ts';

type Deps = Pick<PpobDeps, 'db'>;

export const transactionStatus = (d: Deps, accountId: number, trxId: string) => transactionOf(d.db, accountId, trxId);

export const recentTransactions = (d: Deps, accountId: number) => history(d.db, accountId);
