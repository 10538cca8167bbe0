// The back office's reads of transactions: a page (newest first, with totals) and a count by status.
import * as repo from '../repo/index.ts';
import { paging, rowView } from '../views.ts';
import type { PhotoboxDeps } from '../wire.ts';

export async function listTransactions(deps: Pick<PhotoboxDeps, 'db'>, f: repo.TransactionFilter) {
  const { rows, total } = await repo.listTransactions(deps.db, f);
  return { data: rows.map(rowView), ...paging(total, f.skip, f.limit) };
}

export const countTransactions = (deps: Pick<PhotoboxDeps, 'db'>, statuses: repo.TransactionStatus[] | undefined) =>
  repo.countTransactions(deps.db, statuses);
