// Invoices: operators (level 10) create, settle in cash, cancel and generate; every billing user reads. Lists are
// bare arrays with `X-Total-Count` (the original frontend sorts them itself); `/count` is a bare number.
import { Type } from 'typebox';
import { originOf } from '../../../core/audit/audit.ts';
import type { Core } from '../../../core/context.ts';
import { withTransaction } from '../../../core/db/transaction.ts';
import { AppError } from '../../../core/http/errors.ts';
import type { Router } from '../../../core/http/route.ts';
import type { RequestAuth } from '../../../core/identity/guards.ts';
import { jakartaDate } from '../dates.ts';
import { BILLING_LIMITS } from '../limits.ts';
import { invoiceIssued, invoicePaid, notifyBilling } from '../notifications.ts';
import * as repo from '../repo/invoices.ts';
import {
  GenerateAnswer,
  GenerateRequest,
  IdParams,
  InvoiceCreate,
  InvoiceQuery,
  InvoiceSchema,
  InvoiceStatusChange,
  MarkAsPaid,
} from '../schemas.ts';
import { type Generation, PAYMENT_LINK_JOB } from '../use-cases/generate.ts';
import { changeStatus, createInvoice, mustGet } from '../use-cases/invoices.ts';
import type { Isolation } from '../use-cases/isolation.ts';
import type { PaymentLinks } from '../use-cases/payment-links.ts';
import { invoiceView, statusesFor } from '../views.ts';
import { bareArray, clampLimit } from './lists.ts';

const actorOf = (req: { auth: RequestAuth; id: string; ip: string }) => ({
  accountId: req.auth.accountId,
  origin: originOf(req),
});

export function registerInvoiceRoutes(
  router: Router,
  core: Core,
  deps: { links: PaymentLinks; generation: Generation; isolation: Isolation },
): void {
  const { db } = core.database;
  const limits = [BILLING_LIMITS.general];
  const view = (i: repo.Invoice) => invoiceView(i, core.now());
  const read = { level: 1 } as const;
  const operate = { level: 10 } as const;

  function filterOf(q: {
    pelanggan_id?: number;
    status_invoice?: string;
    periode?: string;
    search?: string;
    start_date?: string;
    end_date?: string;
  }) {
    const statuses = statusesFor(q.status_invoice?.trim());
    if (statuses === null) {
      throw new AppError('VALIDATION_ERROR', 'Validation failed', {
        details: { status_invoice: ['unknown status'] },
      });
    }
    return {
      pelangganId: q.pelanggan_id,
      statuses,
      periode: q.periode,
      search: q.search?.trim() || undefined,
      dueFrom: q.start_date,
      dueTo: q.end_date,
    };
  }

  router.get(
    '/api/invoices/',
    {
      auth: read,
      limits,
      schema: {
        summary: 'List invoices: by customer, status (also Belum Dibayar, Kadaluarsa), period, due-date range, search',
        querystring: InvoiceQuery,
        response: { 200: Type.Array(InvoiceSchema) },
      },
    },
    async (req, reply) => {
      const page = await repo.listInvoices(db, {
        ...filterOf(req.query),
        skip: req.query.skip,
        limit: clampLimit(req.query.limit),
      });
      return bareArray(reply, page).map(view);
    },
  );

  router.get(
    '/api/invoices/count',
    {
      auth: read,
      limits,
      schema: {
        summary: 'How many invoices the same filters find',
        querystring: InvoiceQuery,
        response: { 200: Type.Integer() },
      },
    },
    async (req) => (await repo.listInvoices(db, { ...filterOf(req.query), skip: 0, limit: 1 })).total,
  );

  router.get(
    '/api/invoices/:id',
    {
      auth: read,
      limits,
      errors: [404],
      schema: { summary: 'One invoice with its items', params: IdParams, response: { 200: InvoiceSchema } },
    },
    async (req) => view(await mustGet(db, req.params.id)),
  );

  router.post(
    '/api/invoices/',
    {
      auth: operate,
      limits,
      errors: [409],
      schema: {
        summary: 'Create an invoice with its items (PPN from the brand); it gets a payment link unless it is a Draft',
        body: InvoiceCreate,
        response: { 201: InvoiceSchema },
      },
    },
    async (req, reply) => {
      const inv = await withTransaction(db, async (trx) => {
        const created = await createInvoice(trx, req.body, actorOf(req), core.now());
        if (created.status_invoice !== 'Draft') {
          await core.jobs.enqueue(trx, PAYMENT_LINK_JOB, { invoiceId: created.id });
          await notifyBilling(core, trx, invoiceIssued(created));
        }
        return created;
      });
      return reply.code(201).send(view(inv));
    },
  );

  router.patch(
    '/api/invoices/:id/status',
    {
      auth: operate,
      limits,
      errors: [404, 409],
      schema: {
        summary:
          'Move an invoice forward (Lunas with metode_pembayaran records a payment; Lunas and Dibatalkan are final)',
        params: IdParams,
        body: InvoiceStatusChange,
        response: { 200: InvoiceSchema },
      },
    },
    async (req) => {
      const to = req.body.status_invoice as repo.InvoiceStatus;
      const inv = await withTransaction(db, async (trx) => {
        const after = await changeStatus(
          trx,
          req.params.id,
          to,
          { method: req.body.metode_pembayaran ?? undefined, actor: actorOf(req), jobs: core.jobs },
          core.now(),
        );
        if (to === 'Menunggu Pembayaran') {
          await core.jobs.enqueue(trx, PAYMENT_LINK_JOB, { invoiceId: after.id });
          await notifyBilling(core, trx, invoiceIssued(after));
        }
        if (to === 'Lunas') {
          await notifyBilling(core, trx, invoicePaid(after));
          await deps.isolation.restoreIfPaid(trx, after.pelanggan_id, 'pembayaran diterima');
        }
        return after;
      });
      return view(inv);
    },
  );

  router.post(
    '/api/invoices/:id/mark-as-paid',
    {
      auth: operate,
      limits,
      errors: [404, 409],
      schema: {
        summary: 'Record a payment taken by an operator (cash, transfer, …): the invoice becomes Lunas once',
        params: IdParams,
        body: MarkAsPaid,
        response: { 200: InvoiceSchema },
      },
    },
    async (req) =>
      view(
        await withTransaction(db, async (trx) => {
          const paid = await changeStatus(
            trx,
            req.params.id,
            'Lunas',
            { method: req.body.metode_pembayaran ?? 'Tunai', actor: actorOf(req), jobs: core.jobs },
            core.now(),
          );
          await notifyBilling(core, trx, invoicePaid(paid));
          await deps.isolation.restoreIfPaid(trx, paid.pelanggan_id, 'pembayaran diterima');
          return paid;
        }),
      ),
  );

  router.delete(
    '/api/invoices/:id',
    {
      auth: operate,
      limits,
      errors: [404, 409],
      schema: {
        summary: 'Cancel an unpaid invoice (204; its receivable is reversed); a paid one is refused with 409',
        params: IdParams,
        response: { 204: Type.Null() },
      },
    },
    async (req, reply) => {
      await withTransaction(db, (trx) =>
        changeStatus(trx, req.params.id, 'Dibatalkan', { actor: actorOf(req), jobs: core.jobs }, core.now()),
      );
      return reply.code(204).send();
    },
  );

  router.post(
    '/api/invoices/:id/payment-link',
    {
      auth: operate,
      limits,
      errors: [404, 409, 502],
      schema: {
        summary: 'Make a new payment link (for example after the old one expired)',
        params: IdParams,
        response: { 200: InvoiceSchema },
      },
    },
    async (req) => view(await deps.links.ensure(req.params.id, { force: true })),
  );

  router.post(
    '/api/invoices/generate',
    {
      auth: operate,
      limits,
      errors: [404, 409],
      schema: {
        summary:
          "Generate invoices for a period (default: this month): every active customer's (says what it created and skipped), or one customer's (pelanggan_id or langganan_id: 404 when the customer is not billable, 409 when the period's invoice exists)",
        body: GenerateRequest,
        response: { 200: GenerateAnswer },
      },
    },
    async (req) => {
      const periode = req.body.periode ?? jakartaDate(core.now()).slice(0, 7);
      const actor = actorOf(req);
      const { pelanggan_id, langganan_id } = req.body;
      const one = pelanggan_id ?? langganan_id;
      if (one === undefined) return deps.generation.all(periode, actor);
      // The original frontend treats any 2xx as "created" and reads a refusal's `detail` as a string; it checks
      // for "tidak ditemukan" to reload its selection lists.
      const got = await deps.generation.one(one, periode, actor);
      const subject = pelanggan_id === undefined ? 'Langganan' : 'Pelanggan';
      switch (got.outcome) {
        case 'created':
          return got.result;
        case 'not-billable':
          throw new AppError(
            'NOT_FOUND',
            `${subject} dengan ID ${one} tidak ditemukan, tidak aktif, atau belum memiliki paket layanan`,
          );
        case 'already-invoiced':
          throw new AppError('CONFLICT', `Invoice untuk periode ini (${periode}) sudah ada.`);
        case 'not-yet-installed':
          throw new AppError('CONFLICT', `Pelanggan baru terpasang setelah periode ${periode}: belum ada tagihan.`);
      }
    },
  );
}
