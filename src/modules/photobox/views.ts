// Rows as the API shows them: the document's field names, times in LOKET_TIMEZONE with the offset (core/time.ts), and paging as the document counts.
import type { LatePayment } from '../../core/payments/late.ts';
import { localTime } from '../../core/time.ts';
import type { Location, PriceWithUse, Transaction } from './repo/index.ts';

export const time = (d: Date | string): string => localTime(d);
export const timeOrNull = (d: Date | string | null): string | null => (d === null ? null : time(d));

/** `page` is 1-based; `pages` is 0 when there is nothing to show. */
export function paging(total: number, skip: number, limit: number) {
  return { total, page: Math.floor(skip / limit) + 1, size: limit, pages: Math.ceil(total / limit) };
}

export const locationView = (l: Location) => ({
  ml_id: l.ml_id,
  ml_name: l.ml_name,
  ml_address: l.ml_address,
  ml_machine_code: l.ml_machine_code,
  ml_is_active: l.ml_is_active,
  ml_created_at: time(l.ml_created_at),
  ml_updated_at: time(l.ml_updated_at),
});

export const priceView = (p: PriceWithUse) => ({
  mp_id: p.mp_id,
  mp_name: p.mp_name,
  mp_amount: p.mp_amount,
  mp_quota: p.mp_quota,
  remaining_quota: p.mp_quota === null ? null : Math.max(0, p.mp_quota - p.used),
  mp_is_active: p.mp_is_active,
  mp_created_at: time(p.mp_created_at),
  mp_updated_at: time(p.mp_updated_at),
});

export const createdView = (t: Transaction) => ({
  tr_id: t.tr_id,
  tr_external_id: t.tr_external_id,
  tr_location_id: t.tr_location_id,
  tr_price_id: t.tr_price_id,
  tr_amount: t.tr_amount,
  tr_status: t.tr_status,
  tr_qris_string: t.tr_qris_string,
  tr_qris_url: t.tr_qris_url,
  tr_email: t.tr_email,
  tr_send_invoice: t.tr_send_invoice,
  tr_expired_at: time(t.tr_expired_at),
  tr_created_at: time(t.tr_created_at),
});

export const statusView = (
  t: Pick<Transaction, 'tr_id' | 'tr_external_id' | 'tr_status' | 'tr_paid_at' | 'tr_amount' | 'tr_expired_at'>,
) => ({
  tr_id: t.tr_id,
  tr_external_id: t.tr_external_id,
  tr_status: t.tr_status,
  tr_paid_at: timeOrNull(t.tr_paid_at),
  tr_amount: t.tr_amount,
  tr_expired_at: time(t.tr_expired_at),
});

export const rowView = (t: Transaction & { ml_id: number; ml_name: string; photo_count: number | null }) => ({
  tr_id: t.tr_id,
  tr_external_id: t.tr_external_id,
  tr_status: t.tr_status,
  tr_amount: t.tr_amount,
  tr_location_id: t.tr_location_id,
  tr_price_id: t.tr_price_id,
  tr_email: t.tr_email,
  tr_paid_at: timeOrNull(t.tr_paid_at),
  tr_expired_at: time(t.tr_expired_at),
  tr_created_at: time(t.tr_created_at),
  photo_count: t.photo_count ?? 0,
  location: { ml_id: t.ml_id, ml_name: t.ml_name },
});

export type StatusView = ReturnType<typeof statusView>;

export const latePaymentView = (l: LatePayment) => ({
  id: l.id,
  tr_external_id: l.reference,
  amount: l.amount,
  reason: l.reason,
  status: l.status,
  xendit_payment_id: l.provider_payment_id,
  paid_at: time(l.paid_at),
  refunded_at: timeOrNull(l.refunded_at),
  created_at: time(l.created_at),
});
