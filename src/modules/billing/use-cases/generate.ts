// Recurring billing: each active customer with a package gets one invoice per period (the package's price, prorated
// by days in the month of installation), on the brand's schedule. A period is generated a batch of customers at a
// time, each batch one transaction of a fixed number of statements: the year's invoice counter is locked first (so
// generators take turns and a batch's numbers follow on without gaps), then the batch's customers without a live
// invoice are read, their invoices and items inserted at once (ON CONFLICT DO NOTHING on the one-live-invoice index:
// a second run, or two instances at once, create nothing twice), the receivables posted journal by journal in one
// statement, the payment-link jobs enqueued together, and one activity entry written for the batch.
import type { Actor } from '../../../core/audit/audit.ts';
import { recordAction } from '../../../core/audit/audit.ts';
import type { Core } from '../../../core/context.ts';
import { withTransaction } from '../../../core/db/transaction.ts';
import { dayOfPeriod, jakartaDate } from '../dates.ts';
import { postIssues } from '../ledger.ts';
import { invoicesGenerated, notifyBilling } from '../notifications.ts';
import * as brands from '../repo/brands.ts';
import * as generation from '../repo/generation.ts';
import { ppnOf } from './invoices.ts';

export const PAYMENT_LINK_JOB = 'billing.payment-link';

/** Customers per transaction: large enough that a period of 100,000 takes a minute, small enough to keep locks short. */
export const GENERATION_BATCH = 2_000;

/** The price of `periode` for a customer installed on `installed` (YYYY-MM-DD), prorated by days; 0 = not yet. */
export function proratedPrice(harga: number, periode: string, installed: string | null): number {
  if (!installed || installed.slice(0, 7) < periode) return harga;
  if (installed.slice(0, 7) > periode) return 0;
  const days = Number(dayOfPeriod(periode, 31).slice(8));
  const day = Number(installed.slice(8, 10));
  return Math.round((harga * (days - day + 1)) / days);
}

export interface GenerationResult {
  periode: string;
  created: { id: number; nomor_invoice: string; pelanggan_id: number; total_harga: number }[];
  skipped: { pelanggan_id: number; reason: string }[];
}

/** A single customer's generation, in the product's words; the route answers each refusal with its own status. */
export type OneGeneration =
  | { outcome: 'created'; result: GenerationResult }
  | { outcome: 'not-billable' }
  | { outcome: 'already-invoiced' }
  | { outcome: 'not-yet-installed' };

const NOT_YET_INSTALLED = 'installed after this period';

export function createGeneration(
  core: Pick<Core, 'database' | 'jobs' | 'now' | 'notifications'>,
  options: { batchSize?: number } = {},
) {
  const { db } = core.database;
  const batchSize = options.batchSize ?? GENERATION_BATCH;

  /** One transaction: the next batch of customers after `afterId`; answers the last customer id seen. */
  async function batch(
    periode: string,
    actor: Actor | null,
    scope: {
      afterId: number;
      idBrand?: string;
      pelangganId?: number;
      installedFrom?: string;
      cancelledCounts?: boolean;
    },
    out: GenerationResult,
  ): Promise<number | undefined> {
    const now = core.now();
    const issuedOn = jakartaDate(now);
    const year = Number(issuedOn.slice(0, 4));
    return withTransaction(db, async (trx) => {
      const last = await generation.lockCounter(trx, year);
      const rows = await generation.candidates(trx, periode, { ...scope, limit: batchSize });
      const skipped: GenerationResult['skipped'] = [];
      const fresh: generation.NewPeriodInvoice[] = [];
      for (const c of rows) {
        if (c.live) {
          skipped.push({ pelanggan_id: c.id, reason: `already has ${c.live}` });
          continue;
        }
        const harga = proratedPrice(c.harga, periode, c.tanggal_instalasi);
        if (harga === 0) {
          skipped.push({ pelanggan_id: c.id, reason: NOT_YET_INSTALLED });
          continue;
        }
        // The brand's due day in the period; an invoice made after that day (a late one) is due the day it is made.
        const scheduled = dayOfPeriod(periode, c.due_day);
        fresh.push({
          pelanggan_id: c.id,
          id_brand: c.id_brand,
          subtotal: harga,
          ppn_percent: c.pajak,
          ppn: ppnOf(harga, c.pajak),
          tanggal_jatuh_tempo: [scheduled, issuedOn].sort()[1] ?? scheduled, // the later of the two
          deskripsi: `${c.nama_paket} ${periode}${harga !== c.harga ? ' (prorata)' : ''}`,
        });
      }
      const made = await generation.insertPeriodInvoices(
        trx,
        { periode, year, last, issuedOn, createdBy: actor?.accountId ?? null, now },
        fresh,
      );
      if (made.length > 0) {
        await generation.setCounter(trx, year, Math.max(last, ...made.map((m) => m.n)));
        await postIssues(
          trx,
          made.map((m) => ({ ...m, total_harga: m.subtotal + m.ppn })),
          now,
        );
        await core.jobs.enqueueMany(
          trx,
          PAYMENT_LINK_JOB,
          made.map((m) => ({ invoiceId: m.id })),
        );
        await notifyBilling(core, trx, invoicesGenerated(periode, made));
        if (actor) {
          await recordAction(trx, actor, 'billing.invoice.generated', periode, now, {
            after: {
              periode,
              count: made.length,
              first: made.reduce((a, m) => (m.n < a.n ? m : a)).nomor_invoice,
              last: made.reduce((a, m) => (m.n > a.n ? m : a)).nomor_invoice,
            },
          });
        }
      }
      // A customer another instance invoiced between our read and our insert.
      const madeFor = new Set(made.map((m) => m.pelanggan_id));
      for (const f of fresh) {
        if (!madeFor.has(f.pelanggan_id)) {
          skipped.push({ pelanggan_id: f.pelanggan_id, reason: 'already has an invoice for this period' });
        }
      }
      out.created.push(
        ...made.map((m) => ({
          id: m.id,
          nomor_invoice: m.nomor_invoice,
          pelanggan_id: m.pelanggan_id,
          total_harga: m.subtotal + m.ppn,
        })),
      );
      out.skipped.push(...skipped.sort((a, b) => a.pelanggan_id - b.pelanggan_id));
      return rows.length < batchSize ? undefined : rows.at(-1)?.id;
    });
  }

  return {
    /**
     * One customer's invoice for `periode`, or why there is none: the customer is not billable (unknown, deleted,
     * stopped or without a package), already has the period's invoice, or was installed after the period.
     */
    async one(pelangganId: number, periode: string, actor: Actor | null): Promise<OneGeneration> {
      // Read first: a refusal writes nothing (not even the year's invoice counter the batch locks).
      const [c] = await generation.candidates(db, periode, { afterId: pelangganId - 1, pelangganId, limit: 1 });
      if (!c) return { outcome: 'not-billable' };
      if (c.live) return { outcome: 'already-invoiced' };
      if (proratedPrice(c.harga, periode, c.tanggal_instalasi) === 0) return { outcome: 'not-yet-installed' };
      const out: GenerationResult = { periode, created: [], skipped: [] };
      await batch(periode, actor, { afterId: pelangganId - 1, pelangganId }, out);
      if (out.created.length > 0) return { outcome: 'created', result: out };
      const [skip] = out.skipped;
      if (!skip) return { outcome: 'not-billable' };
      if (skip.reason === NOT_YET_INSTALLED) return { outcome: 'not-yet-installed' };
      return { outcome: 'already-invoiced' };
    },

    /**
     * Every active customer's invoice for `periode` (of one brand when given), a batch per transaction. `catchUp`:
     * only customers installed on or after that day, and not one whose invoice of the period was cancelled.
     */
    async all(periode: string, actor: Actor | null, idBrand?: string, catchUp?: string): Promise<GenerationResult> {
      const out: GenerationResult = { periode, created: [], skipped: [] };
      const scope = catchUp ? { idBrand, installedFrom: catchUp, cancelledCounts: true } : { idBrand };
      let afterId: number | undefined = 0;
      while (afterId !== undefined) afterId = await batch(periode, actor, { afterId, ...scope }, out);
      return out;
    },

    /**
     * The daily run: for each brand, the next period whose due date is at most the brand's lead days away is
     * generated; customers installed this month after its period was generated get this month's prorated invoice;
     * and invoices unpaid past their due date become Jatuh Tempo. Safe to run any number of times.
     */
    async daily(): Promise<{ generated: GenerationResult[]; overdue: number }> {
      const today = jakartaDate(core.now());
      const thisMonth = today.slice(0, 7);
      const generated: GenerationResult[] = [];
      for (const b of (await brands.listBrands(db, 0, 10_000)).rows) {
        const periode = upcomingPeriod(today, b.due_day, b.invoice_days_before);
        if (periode) generated.push(await this.all(periode, null, b.id_brand));
        // Past this month's due date its period's run is over; a customer installed since then would otherwise
        // get a first invoice only for next month, at full price, and the days of this month never. One an operator
        // cancelled is not made again.
        if (periode !== thisMonth && today > dayOfPeriod(thisMonth, b.due_day)) {
          const late = await this.all(thisMonth, null, b.id_brand, `${thisMonth}-01`);
          if (late.created.length > 0) generated.push(late);
        }
      }
      const overdue = await generation.markOverdue(db, today, core.now());
      return { generated, overdue };
    },
  };
}

export type Generation = ReturnType<typeof createGeneration>;

/** The period (this month or the next) whose due day falls within `lead` days from `today`, if any. */
export function upcomingPeriod(today: string, dueDay: number, lead: number): string | undefined {
  const [y, m] = today.split('-').map(Number) as [number, number];
  for (const offset of [0, 1]) {
    const d = new Date(Date.UTC(y, m - 1 + offset, 1));
    const periode = d.toISOString().slice(0, 7);
    const due = dayOfPeriod(periode, dueDay);
    const opens = new Date(Date.parse(`${due}T00:00:00Z`) - lead * 86_400_000).toISOString().slice(0, 10);
    if (today >= opens && today <= due) return periode;
  }
  return undefined;
}
