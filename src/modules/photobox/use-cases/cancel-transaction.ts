// The kiosk's "Batal": a PENDING transaction is cancelled through the payments core, which asks Xendit to close the
// QR code and makes the payment EXPIRED (reason `cancelled`); the payments listener then makes the transaction
// EXPIRED (the document's statuses have no CANCELLED). A paid transaction is refused with 409. A kiosk cancels only
// its own transactions; photobox admins (level 50) any.
import { AppError } from '../../../core/http/errors.ts';
import { MESSAGES } from '../messages.ts';
import * as repo from '../repo/index.ts';
import { type StatusView, statusView } from '../views.ts';
import type { PhotoboxDeps } from '../wire.ts';

export async function cancelTransaction(
  deps: Pick<PhotoboxDeps, 'db' | 'payments' | 'polls'>,
  externalId: string,
  actor: { accountId: number; level: number },
): Promise<StatusView> {
  const tr = await repo.transactionByExternalId(deps.db, externalId);
  // Another kiosk's transaction is answered as missing: its existence is not the caller's business.
  if (!tr || (actor.level < 50 && tr.tr_account_id !== actor.accountId)) {
    throw new AppError('NOT_FOUND', MESSAGES.transactionNotFound);
  }
  if (tr.tr_status === 'COMPLETED') throw new AppError('CONFLICT', MESSAGES.alreadyPaid);
  if (tr.tr_status === 'PENDING') {
    try {
      await deps.payments.cancel(externalId);
    } catch (err) {
      if (err instanceof AppError && err.code === 'CONFLICT') throw new AppError('CONFLICT', MESSAGES.alreadyPaid);
      throw err;
    }
  }
  const after = await repo.transactionByExternalId(deps.db, externalId);
  if (!after) throw new AppError('NOT_FOUND', MESSAGES.transactionNotFound);
  return statusView(after);
}
