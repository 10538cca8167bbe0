// The caller's purchases: the list (newest first), one with its status history, and a cancel while not final.
import { withTransaction } from '../../../core/db/transaction.ts';
import { AppError } from '../../../core/http/errors.ts';
import { findOwnTransaction, type Im3Status, listOwnTransactions, transition } from '../repo.ts';
import { transactionView } from '../views.ts';
import type { Im3Deps } from '../wire.ts';

const OPEN: readonly Im3Status[] = [
  'PENDING',
  'PROCESSING',
  'CHECKING_ELIGIBILITY',
  'WAITING_FOR_ELIGIBILITY',
  'INITIATING_PAYMENT',
  'PAYMENT_INITIATED',
];

const notFound = () => new AppError('NOT_FOUND', 'Transaction not found');

export async function listMyTransactions(
  deps: Pick<Im3Deps, 'db' | 'config'>,
  accountId: number,
  page: number,
  perPage: number,
) {
  const { rows, total } = await listOwnTransactions(deps.db, accountId, (page - 1) * perPage, perPage);
  const items = [];
  for (const r of rows) items.push(await transactionView(deps.db, r, deps.config.im3StatusNames, false));
  return { items, meta: { page, per_page: perPage, total, pages: Math.ceil(total / perPage) } };
}

export function getMyTransaction(deps: Pick<Im3Deps, 'db' | 'config'>, accountId: number, id: number) {
  // The row and its history from one snapshot: the last entry is the status shown.
  return withTransaction(
    deps.db,
    async (trx) => {
      const tx = await findOwnTransaction(trx, accountId, id);
      if (!tx) throw notFound();
      return transactionView(trx, tx, deps.config.im3StatusNames, true);
    },
    { isolation: 'repeatable read' },
  );
}

export async function cancelMyTransaction(deps: Pick<Im3Deps, 'db' | 'now' | 'config'>, accountId: number, id: number) {
  const { db } = deps;
  const tx = await findOwnTransaction(db, accountId, id);
  if (!tx) throw notFound();
  const moved = await transition(db, id, OPEN, 'CANCELLED', deps.now(), { error_message: 'Cancelled by the user' });
  const now = await findOwnTransaction(db, accountId, id);
  if (!moved) throw new AppError('BUSINESS_LOGIC_ERROR', `This transaction is already ${now?.status ?? tx.status}`);
  if (!now) throw notFound();
  return transactionView(db, now, deps.config.im3StatusNames);
}
