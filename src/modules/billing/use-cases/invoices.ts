// Invoices as money (CONTRACTS §4): a number INV-{YYYY}-{NNN} per year, one live invoice per customer and period,
// totals with the brand's PPN, statuses that only move forward (Lunas and Dibatalkan are final; a wrong move is a
// 409 that says why). Leaving Draft posts the receivable; a payment (Xendit or an operator's) settles it once; a
// cancellation reverses it. Every change runs in the caller's transaction with the invoice row locked.
import type { Actor } from '../../../core/audit/audit.ts';
import { recordAction } from '../../../core/audit/audit.ts';
import type { Executor } from '../../../core/db/tables.ts';
import { AppError } from '../../../core/http/errors.ts';
import type { Jobs } from '../../../core/jobs/jobs.ts';
import { dayOfPeriod, jakartaDate } from '../dates.ts';
import { postCancel, postIssue, postPayment } from '../ledger.ts';
import * as brands from '../repo/brands.ts';
import * as customers from '../repo/customers.ts';
import * as invoices from '../repo/invoices.ts';

type Status = invoices.InvoiceStatus;

/**
 * Closes a payment link that can no longer be used (its invoice was paid another way, cancelled, or got a new
 * link): the payments core expires the hosted invoice at the provider, so the customer cannot pay it a second time.
 */
export const LINK_CLOSE_JOB = 'billing.payment-link.close';

const NEXT: Record<Status, Status[]> = {
  Draft: ['Menunggu Pembayaran', 'Dibatalkan'],
  'Menunggu Pembayaran': ['Lunas', 'Jatuh Tempo', 'Dibatalkan'],
  'Jatuh Tempo': ['Lunas', 'Dibatalkan'],
  Lunas: [],
  Dibatalkan: [],
};

const invalid = (field: string, message: string) =>
  new AppError('VALIDATION_ERROR', 'Validation failed', { details: { [field]: [message] } });

export const ppnOf = (subtotal: number, percent: number) => Math.round((subtotal * percent) / 100);

export interface NewInvoice {
  pelanggan_id: number;
  periode: string;
  tanggal_invoice?: string;
  tanggal_jatuh_tempo?: string;
  items: invoices.InvoiceItem[];
  status_invoice?: 'Draft' | 'Menunggu Pembayaran';
}

/** Creates an invoice; the receivable is posted unless it stays a Draft. 409 when the period already has one. */
export async function createInvoice(trx: Executor, v: NewInvoice, actor: Actor | null, now: Date) {
  const customer = await customers.getCustomer(trx, v.pelanggan_id);
  if (!customer) throw invalid('pelanggan_id', 'customer does not exist');
  const existing = await invoices.liveInvoiceOfPeriod(trx, v.pelanggan_id, v.periode);
  if (existing) {
    throw new AppError('CONFLICT', `Customer already has invoice ${existing.nomor_invoice} for ${v.periode}`);
  }
  const brand = customer.id_brand ? await brands.getBrand(trx, customer.id_brand) : undefined;
  const subtotal = v.items.reduce((s, it) => s + it.jumlah * it.harga, 0);
  if (!Number.isSafeInteger(subtotal)) throw invalid('items', 'the total is too large');
  const ppnPercent = brand?.pajak ?? 0;
  const ppn = ppnOf(subtotal, ppnPercent);
  const issuedOn = v.tanggal_invoice ?? jakartaDate(now);
  // The brand's due day in the period; an invoice made after that day (a late one) is due the day it is made.
  const scheduled = dayOfPeriod(v.periode, brand?.due_day ?? 10);
  const due = v.tanggal_jatuh_tempo ?? [scheduled, issuedOn].sort()[1] ?? scheduled; // the later of the two
  if (due < issuedOn) throw invalid('tanggal_jatuh_tempo', 'must not be before tanggal_invoice');
  const status = v.status_invoice ?? 'Menunggu Pembayaran';
  const id = await invoices.insertInvoice(
    trx,
    {
      nomor_invoice: await invoices.nextInvoiceNumber(trx, Number(issuedOn.slice(0, 4))),
      pelanggan_id: v.pelanggan_id,
      id_brand: customer.id_brand,
      periode: v.periode,
      tanggal_invoice: issuedOn,
      tanggal_jatuh_tempo: due,
      subtotal,
      ppn_percent: ppnPercent,
      ppn,
      total_harga: subtotal + ppn,
      status_invoice: status,
      payment_reference: null,
      payment_link: null,
      payment_link_expires_at: null,
      metode_pembayaran: null,
      paid_at: null,
      paid_by: null,
      created_by: actor?.accountId ?? null,
    },
    v.items,
    now,
  );
  const inv = await mustGet(trx, id, true);
  if (status !== 'Draft') await postIssue(trx, inv, now);
  if (actor) await recordAction(trx, actor, 'billing.invoice.created', id, now, { after: inv });
  return inv;
}

export async function mustGet(trx: Executor, id: number, lock = false): Promise<invoices.Invoice> {
  const inv = await invoices.getInvoice(trx, id, { lock });
  if (!inv) throw new AppError('NOT_FOUND', 'Invoice not found');
  return inv;
}

function mustMove(inv: invoices.Invoice, to: Status): void {
  if (inv.status_invoice === to) {
    throw new AppError('CONFLICT', `Invoice ${inv.nomor_invoice} is already ${to}`);
  }
  if (!NEXT[inv.status_invoice].includes(to)) {
    throw new AppError('CONFLICT', `Invoice ${inv.nomor_invoice} is ${inv.status_invoice} and cannot become ${to}`);
  }
}

/**
 * Moves an invoice to `to` with its ledger effect: leaving Draft posts the receivable, Lunas posts the payment,
 * Dibatalkan reverses an issued invoice. `Lunas` records the method and who took the money.
 */
export async function changeStatus(
  trx: Executor,
  id: number,
  to: Status,
  opts: {
    method?: string;
    channel?: 'xendit' | 'manual';
    /** The payment reference a Xendit payment came through (another live link of the invoice is then closed). */
    paidWith?: string;
    paidAt?: Date;
    actor: Actor | null;
    /** Where the job that closes the invoice's payment link is enqueued (in this transaction). */
    jobs: Pick<Jobs, 'enqueue'>;
  },
  now: Date,
): Promise<invoices.Invoice> {
  const before = await mustGet(trx, id, true);
  mustMove(before, to);
  if (before.status_invoice === 'Draft' && to !== 'Dibatalkan') await postIssue(trx, before, now);
  if (to === 'Lunas') {
    await postPayment(trx, before, opts.channel ?? 'manual', opts.paidAt ?? now);
    await invoices.updateInvoice(
      trx,
      id,
      {
        status_invoice: 'Lunas',
        metode_pembayaran: opts.method ?? 'Tunai',
        paid_at: opts.paidAt ?? now,
        paid_by: opts.actor?.accountId ?? null,
      },
      now,
    );
  } else {
    if (to === 'Dibatalkan' && before.status_invoice !== 'Draft') await postCancel(trx, before, now);
    await invoices.updateInvoice(trx, id, { status_invoice: to }, now);
  }
  // Paid (in cash, by transfer, or through an older link) or cancelled: the current Xendit link must not take the
  // money a second time.
  const linkDone = to === 'Dibatalkan' || to === 'Lunas';
  if (linkDone && before.payment_reference && before.payment_reference !== opts.paidWith) {
    await opts.jobs.enqueue(trx, LINK_CLOSE_JOB, { reference: before.payment_reference });
  }
  const after = await mustGet(trx, id);
  if (opts.actor) await recordAction(trx, opts.actor, `billing.invoice.${actionOf(to)}`, id, now, { before, after });
  return after;
}

const actionOf = (to: Status) =>
  to === 'Lunas' ? 'paid' : to === 'Dibatalkan' ? 'cancelled' : to === 'Jatuh Tempo' ? 'overdue' : 'issued';

/**
 * A Xendit payment of an invoice completed (called inside the payments core's transaction). Settles a payable
 * invoice once. Money for an invoice already paid another way or cancelled is `already`: the caller records it as a
 * late payment to refund (core/payments/late.ts), never lost and never counted twice.
 */
export async function paymentCompleted(
  trx: Executor,
  payment: { reference: string; paidAt: Date | null },
  jobs: Pick<Jobs, 'enqueue'>,
  now: Date,
): Promise<{ outcome: 'settled'; invoice: invoices.Invoice } | { outcome: 'already' | 'unknown' }> {
  const id = await invoices.invoiceIdByPayment(trx, payment.reference);
  if (id === undefined) return { outcome: 'unknown' };
  const inv = await mustGet(trx, id, true);
  if (inv.status_invoice === 'Menunggu Pembayaran' || inv.status_invoice === 'Jatuh Tempo') {
    const invoice = await changeStatus(
      trx,
      id,
      'Lunas',
      {
        method: 'Xendit',
        channel: 'xendit',
        paidWith: payment.reference,
        paidAt: payment.paidAt ?? now,
        actor: null,
        jobs,
      },
      now,
    );
    return { outcome: 'settled', invoice };
  }
  return { outcome: 'already' };
}
