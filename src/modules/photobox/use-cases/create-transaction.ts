// A kiosk session is sold: the transaction is reserved in one database transaction (location active, the price's
// quota not used up: the price row is locked while counting), then the payments core is asked for a QRIS valid
// 15 minutes, outside any transaction. A provider failure leaves the transaction FAILED (the payments listener)
// and answers 502.
import { randomBytes } from 'node:crypto';
import { withTransaction } from '../../../core/db/transaction.ts';
import { AppError } from '../../../core/http/errors.ts';
import { localTime } from '../../../core/time.ts';
import { MODULE, QR_TTL_MS } from '../constants.ts';
import { MESSAGES } from '../messages.ts';
import * as repo from '../repo/index.ts';
import { createdView } from '../views.ts';
import type { PhotoboxDeps } from '../wire.ts';

export interface TransactionInput {
  location_id: number;
  price_id?: number | null;
  email?: string | null;
  send_invoice?: boolean;
}

/** `TRX-{location_id}-{YYYYMMDDHHMMSS in LOKET_TIMEZONE, as tr_created_at shows it}-{8 upper-case hex}` */
export function newExternalId(locationId: number, at: Date): string {
  const stamp = localTime(at).slice(0, 19).replace(/[-:T]/g, '');
  return `TRX-${locationId}-${stamp}-${randomBytes(4).toString('hex').toUpperCase()}`;
}

export async function createTransaction(
  deps: Pick<PhotoboxDeps, 'db' | 'now' | 'config' | 'payments'>,
  input: TransactionInput,
  actor: { accountId: number },
) {
  const { db, now, config } = deps;
  const email = input.email?.trim().toLowerCase() || null;
  if (input.send_invoice && !email) {
    throw new AppError('VALIDATION_ERROR', 'send_invoice needs an email to send the receipt to', {
      details: { email: ['is required when send_invoice is true'] },
    });
  }
  let created: repo.Transaction | undefined;
  for (let attempt = 1; !created; attempt++) {
    try {
      created = await withTransaction(db, async (trx) => {
        const location = await repo.getLocation(trx, input.location_id);
        if (!location) throw new AppError('NOT_FOUND', MESSAGES.locationNotFound);
        if (!location.ml_is_active) throw new AppError('BUSINESS_LOGIC_ERROR', MESSAGES.locationInactive);
        let amount = config.photoboxAmount;
        if (input.price_id !== undefined && input.price_id !== null) {
          const price = await repo.getPrice(trx, input.price_id, now(), true);
          if (!price) throw new AppError('NOT_FOUND', MESSAGES.priceNotFound);
          if (!price.mp_is_active) throw new AppError('BUSINESS_LOGIC_ERROR', MESSAGES.priceInactive);
          if (price.mp_quota !== null && price.used >= price.mp_quota) {
            throw new AppError('CONFLICT', MESSAGES.quotaUsedUp);
          }
          amount = price.mp_amount;
        }
        const at = now();
        return repo.insertTransaction(
          trx,
          {
            tr_external_id: newExternalId(location.ml_id, at),
            tr_location_id: location.ml_id,
            tr_price_id: input.price_id ?? null,
            tr_account_id: actor.accountId,
            tr_amount: amount,
            tr_email: email,
            tr_send_invoice: input.send_invoice ?? false,
            tr_expired_at: new Date(at.getTime() + QR_TTL_MS),
          },
          at,
        );
      });
    } catch (err) {
      // 32 random bits within one second and location: a clash is rare, and simply drawn again.
      if (!repo.isUniqueViolation(err) || attempt >= 3) throw err;
    }
  }
  const intent = await deps.payments.createQr({
    module: MODULE,
    reference: created.tr_external_id,
    amount: created.tr_amount,
    ttlMs: QR_TTL_MS,
  });
  const row = await repo.setQr(
    db,
    created.tr_id,
    {
      tr_qris_string: intent.qr_string,
      tr_qris_url: intent.qr_string ? `${config.publicUrl}/payments/${created.tr_external_id}/qr.png` : null,
      tr_xendit_id: intent.provider_id,
      ...(intent.expires_at ? { tr_expired_at: intent.expires_at } : {}),
    },
    now(),
  );
  return createdView(row);
}
