// Late payments: money that came through an invoice's Xendit link after the invoice was paid another way (cash,
// transfer) or cancelled, or after its link was closed. The payments core keeps each one once, as owed back in the
// ledger (src/core/payments/late.ts); billing's administrators see them here, with the invoice they were meant for,
// and mark each refunded once the money is paid back.
import { Type } from 'typebox';
import type { Core } from '../../../core/context.ts';
import type { Router } from '../../../core/http/route.ts';
import { OrNull as Nullable } from '../../../core/http/types.ts';
import type { LatePayment } from '../../../core/payments/late.ts';
import { localTime, localTimeOrNull } from '../../../core/time.ts';
import { BILLING_LIMITS } from '../limits.ts';
import { invoicesByPayment } from '../repo/invoices.ts';
import { IdParams, MAX_LIMIT } from '../schemas.ts';
import { clampLimit, envelopePage } from './lists.ts';

const MODULE = 'billing';

const LatePaymentSchema = Type.Object({
  id: Type.Integer(),
  payment_reference: Type.String(),
  amount: Type.Integer(),
  reason: Type.Union([Type.Literal('after_settle'), Type.Literal('after_cancel'), Type.Literal('after_expiry')], {
    description:
      'after_settle: the invoice was already paid or cancelled; after_cancel: its link had been closed; after_expiry: the link had expired',
  }),
  status: Type.Union([Type.Literal('TO_REFUND'), Type.Literal('REFUNDED')]),
  xendit_payment_id: Nullable(Type.String()),
  invoice_id: Nullable(Type.Integer()),
  nomor_invoice: Nullable(Type.String()),
  pelanggan_id: Nullable(Type.Integer()),
  pelanggan_nama: Nullable(Type.String()),
  paid_at: Type.String({ format: 'date-time' }),
  refunded_at: Nullable(Type.String({ format: 'date-time' })),
  created_at: Type.String({ format: 'date-time' }),
});

const ListQuery = Type.Object({
  status: Type.Optional(Type.Union([Type.Literal('TO_REFUND'), Type.Literal('REFUNDED')])),
  skip: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 }),
  limit: Type.Integer({ minimum: 1, default: 15, description: `at most ${MAX_LIMIT} (a larger one is clamped)` }),
});

type InvoiceRef = { id: number; nomor_invoice: string; pelanggan_id: number; pelanggan_nama: string | null };

const view = (l: LatePayment, inv: InvoiceRef | undefined) => ({
  id: l.id,
  payment_reference: l.reference,
  amount: l.amount,
  reason: l.reason,
  status: l.status,
  xendit_payment_id: l.provider_payment_id,
  invoice_id: inv?.id ?? null,
  nomor_invoice: inv?.nomor_invoice ?? null,
  pelanggan_id: inv?.pelanggan_id ?? null,
  pelanggan_nama: inv?.pelanggan_nama ?? null,
  paid_at: localTime(l.paid_at),
  refunded_at: localTimeOrNull(l.refunded_at),
  created_at: localTime(l.created_at),
});

export function registerLatePaymentRoutes(router: Router, core: Core): void {
  const { db } = core.database;
  const { late } = core.payments;
  const auth = { level: 50 } as const;
  const limits = [BILLING_LIMITS.general];

  router.get(
    '/api/late-payments/',
    {
      auth,
      limits,
      schema: {
        summary: 'Money paid through a link after its invoice was paid, cancelled or its link closed: to refund',
        querystring: ListQuery,
        response: {
          200: Type.Object({
            data: Type.Array(LatePaymentSchema),
            total_count: Type.Integer(),
            skip: Type.Integer(),
            limit: Type.Integer(),
          }),
        },
      },
    },
    async (req) => {
      const limit = clampLimit(req.query.limit);
      const page = await late.list(MODULE, { status: req.query.status, skip: req.query.skip, limit });
      const invoices = await invoicesByPayment(
        db,
        page.rows.map((r) => r.reference),
      );
      const rows = page.rows.map((r) => view(r, invoices.get(r.reference)));
      return envelopePage(rows, page.total, req.query.skip, limit);
    },
  );

  router.post(
    '/api/late-payments/:id/refunded',
    {
      auth,
      limits,
      errors: [404, 409],
      schema: {
        summary: 'Mark a late payment refunded (the money was paid back outside Loket); once, a second time is 409',
        params: IdParams,
        response: { 200: LatePaymentSchema },
      },
    },
    async (req) => {
      const row = await late.markRefunded(MODULE, req.params.id, { accountId: req.auth.accountId });
      return view(row, (await invoicesByPayment(db, [row.reference])).get(row.reference));
    },
  );
}
