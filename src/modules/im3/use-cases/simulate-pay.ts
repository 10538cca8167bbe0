// Simulator only: the customer paid the QR code of a purchase (the simulated operator then answers PAID).
import { AppError } from '../../../core/http/errors.ts';
import { findTransaction, markSimPaymentPaid } from '../repo.ts';
import type { Im3Deps } from '../wire.ts';

export async function simulatePay(deps: Pick<Im3Deps, 'db' | 'now'>, id: number) {
  const tx = await findTransaction(deps.db, id);
  if (!tx?.payment_ref) throw new AppError('NOT_FOUND', 'No simulated payment for this transaction');
  await markSimPaymentPaid(deps.db, tx.payment_ref, deps.now());
  return { transaction_id: tx.id, paid: true };
}
