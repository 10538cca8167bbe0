// Xendit callbacks in the shapes Loket accepts, reduced to the facts the payments service needs, and built again
// by the simulator so that a simulated payment travels the same road as a real one.
import { randomBytes } from 'node:crypto';

export type CallbackStatus = 'PENDING' | 'COMPLETED' | 'FAILED' | 'EXPIRED';

export interface CallbackFacts {
  /** Xendit's `qr.v2`, `qr.v1`, `invoice`, or the name a module's reader gives its own shape. */
  shape: string;
  reference: string;
  status: CallbackStatus;
  /**
   * Every Xendit shape carries it; a module's own shape may not. NaN when the body carries an amount that is not
   * a number (nor a string that is exactly one): such a callback never settles anything.
   */
  amount: number | undefined;
  /** When the body names one; anything but IDR never settles a rupiah payment. */
  currency?: string | undefined;
  providerPaymentId: string | undefined;
  paidAt: Date | undefined;
}

/**
 * Reads a callback body of a module's own shape (one its clients send that is none of Xendit's), or answers
 * undefined. Module readers are tried after Xendit's QR shapes and before the invoice shape.
 */
export type CallbackReader = (body: Json) => CallbackFacts | undefined;

export type { IntakeResult as WebhookResult } from './service.ts';

export type Json = Record<string, unknown>;
export const obj = (v: unknown): Json | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
export const str = (v: unknown): string | undefined =>
  typeof v === 'string' && v.length > 0 && v.length <= 200 ? v : undefined;
/**
 * An amount as callbacks send it: a number, or a string that is exactly one ("40000", as some Xendit payloads
 * have it). Absent is undefined; present but anything else is NaN, which no payment's amount equals.
 */
export const amountOf = (v: unknown): number | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return Number.isFinite(v) ? v : Number.NaN;
  if (typeof v === 'string' && /^\d{1,15}(\.\d{1,6})?$/.test(v)) return Number(v);
  return Number.NaN;
};
const num = amountOf;
const date = (v: unknown): Date | undefined => {
  const d = typeof v === 'string' ? new Date(v) : undefined;
  return d && !Number.isNaN(d.getTime()) ? d : undefined;
};

export function mapStatus(raw: string | undefined): CallbackStatus | undefined {
  switch (raw?.toUpperCase()) {
    case 'COMPLETED':
    case 'SUCCEEDED':
    case 'PAID':
    case 'SETTLED':
      return 'COMPLETED';
    case 'FAILED':
      return 'FAILED';
    case 'EXPIRED':
      return 'EXPIRED';
    case 'PENDING':
    case 'ACTIVE':
      return 'PENDING';
    default:
      return undefined;
  }
}

/** The facts of a callback, or undefined when the body is none of the accepted shapes. */
export function readCallback(body: unknown, readers: readonly CallbackReader[] = []): CallbackFacts | undefined {
  const b = obj(body);
  if (!b) return undefined;
  const data = obj(b.data);
  if (data && str(data.reference_id)) {
    const status = mapStatus(str(data.status));
    if (!status) return undefined;
    return {
      shape: 'qr.v2',
      reference: str(data.reference_id) as string,
      status,
      amount: num(data.amount),
      currency: str(data.currency),
      providerPaymentId: str(data.id),
      paidAt: status === 'COMPLETED' ? (date(data.created) ?? date(b.created)) : undefined,
    };
  }
  const qr = obj(b.qr_code);
  if (qr && str(qr.external_id)) {
    const status = mapStatus(str(b.status));
    if (!status) return undefined;
    return {
      shape: 'qr.v1',
      reference: str(qr.external_id) as string,
      status,
      amount: num(b.amount),
      currency: str(b.currency),
      providerPaymentId: str(b.id),
      paidAt: status === 'COMPLETED' ? date(b.created) : undefined,
    };
  }
  for (const read of readers) {
    const facts = read(b);
    if (facts) return facts;
  }
  const reference = str(b.external_id);
  const status = mapStatus(str(b.status));
  if (!reference || !status) return undefined;
  return {
    shape: 'invoice',
    reference,
    status,
    amount: num(b.paid_amount) ?? num(b.amount),
    currency: str(b.currency),
    providerPaymentId: str(b.id),
    paidAt: status === 'COMPLETED' ? date(b.paid_at) : undefined,
  };
}

const id = (prefix: string) => `${prefix}${randomBytes(12).toString('hex')}`;

/** The callback Xendit sends when a QR code is paid, in the API version the deployment uses. */
export function qrPaidCallback(
  version: 'v1' | 'v2',
  qr: { providerId: string; reference: string; amount: number; qrString: string; paymentId: string; paidAt: Date },
): Json {
  if (version === 'v1') {
    return {
      event: 'qr.payment',
      id: qr.paymentId,
      amount: qr.amount,
      created: qr.paidAt.toISOString(),
      qr_code: { id: qr.providerId, external_id: qr.reference, qr_string: qr.qrString, type: 'DYNAMIC' },
      status: 'COMPLETED',
    };
  }
  const business = 'loket-simulator';
  return {
    event: 'qr.payment',
    business_id: business,
    created: qr.paidAt.toISOString(),
    data: {
      id: qr.paymentId,
      business_id: business,
      currency: 'IDR',
      amount: qr.amount,
      status: 'SUCCEEDED',
      created: qr.paidAt.toISOString(),
      qr_id: qr.providerId,
      qr_string: qr.qrString,
      reference_id: qr.reference,
      type: 'DYNAMIC',
      channel_code: 'QRIS',
      payment_detail: { receipt_id: id(''), source: 'SIMULATOR' },
    },
  };
}

/** The callback Xendit sends when an invoice is paid or expires. */
export function invoiceCallback(inv: {
  providerId: string;
  reference: string;
  amount: number;
  status: 'PAID' | 'EXPIRED';
  paidAt: Date | null;
}): Json {
  return {
    id: inv.providerId,
    external_id: inv.reference,
    user_id: 'loket-simulator',
    is_high: false,
    status: inv.status,
    merchant_name: 'Loket',
    amount: inv.amount,
    currency: 'IDR',
    ...(inv.status === 'PAID'
      ? {
          paid_amount: inv.amount,
          paid_at: (inv.paidAt ?? new Date()).toISOString(),
          payment_method: 'QR_CODE',
          payment_channel: 'QRIS',
        }
      : {}),
    created: new Date().toISOString(),
    updated: new Date().toISOString(),
  };
}
