// The payments listener: the core calls it inside its own transaction when a transaction's QRIS payment changed.
// Transitions are one way (a transaction no longer PENDING never changes again); once the change has committed,
// every instance is told to drop its polling copy; a paid transaction that asked for a receipt gets one e-mailed.
import type { Trx } from '../../../core/db/tables.ts';
import { afterCommit } from '../../../core/db/transaction.ts';
import type { PaymentIntent } from '../../../core/payments/service.ts';
import { STATUS_TOPIC } from '../constants.ts';
import * as repo from '../repo/index.ts';
import type { PhotoboxDeps } from '../wire.ts';
import { receiptMail } from './mails.ts';

export async function onPaymentChanged(
  deps: Pick<PhotoboxDeps, 'now' | 'bus' | 'logger' | 'outbox'>,
  trx: Trx,
  intent: PaymentIntent,
): Promise<void> {
  const tr = await repo.transactionByExternalId(trx, intent.reference, true);
  if (tr?.tr_status !== 'PENDING') return;
  const paidAt = intent.status === 'COMPLETED' ? (intent.paid_at ?? deps.now()) : null;
  await repo.settlePending(
    trx,
    tr.tr_id,
    { tr_status: intent.status, tr_paid_at: paidAt, tr_xendit_id: tr.tr_xendit_id ?? intent.provider_id },
    deps.now(),
  );
  afterCommit(trx, () => {
    deps.bus.publish(STATUS_TOPIC, { id: tr.tr_external_id }).catch((err: unknown) => {
      // Other instances then trust their copy for at most the cache's PENDING age (60 s).
      deps.logger.warn(
        { err: { message: err instanceof Error ? err.message : String(err) } },
        'photobox status notice not sent',
      );
    });
  });
  if (intent.status === 'COMPLETED' && tr.tr_send_invoice && tr.tr_email && paidAt) {
    const location = await repo.getLocation(trx, tr.tr_location_id);
    await deps.outbox.send(trx, receiptMail(tr.tr_email, tr, location, paidAt));
  }
}
