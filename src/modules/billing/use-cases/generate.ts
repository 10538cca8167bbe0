// Recurring billing: each active customer with a package gets one invoice per period (the package's price, prorated
// by days in the month of installation), on the brand's schedule. Each customer is its own transaction, and the
// one-live-invoice-per-period index makes a second run, or two instances at once, create nothing twice.
import type { Actor } from '../../../core/audit/audit.ts';
import type { Core } from '../../../core/context.ts';
import { withTransaction } from '../../../core/db/transaction.ts';
import { AppError } from '../../../core/http/errors.ts';
import { dayOfPeriod, jakartaDate } from '../dates.ts';
import * as brands from '../repo/brands.ts';
import * as generation from '../repo/generation.ts';
import * as invoices from '../repo/invoices.ts';
import { createInvoice } from './invoices.ts';

export const PAYMENT_LINK_JOB = 'billing.payment-link';

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

export function createGeneration(core: Pick<Core, 'database' | 'jobs' | 'now'>) {
  const { db } = core.database;

  async function forCustomer(
    pelangganId: number,
    periode: string,
    actor: Actor | null,
    out: GenerationResult,
  ): Promise<void> {
    const c = await generation.billable(db, pelangganId);
    if (!c) {
      out.skipped.push({ pelanggan_id: pelangganId, reason: 'not an active customer with a package' });
      return;
    }
    const harga = proratedPrice(c.harga, periode, c.tanggal_instalasi);
    if (harga === 0) {
      out.skipped.push({ pelanggan_id: pelangganId, reason: 'installed after this period' });
      return;
    }
    try {
      const inv = await withTransaction(db, async (trx) => {
        const existing = await invoices.liveInvoiceOfPeriod(trx, pelangganId, periode);
        if (existing) return existing.nomor_invoice;
        const prorated = harga !== c.harga;
        const created = await createInvoice(
          trx,
          {
            pelanggan_id: pelangganId,
            periode,
            items: [
              {
                deskripsi: `${c.nama_paket} ${periode}${prorated ? ' (prorata)' : ''}`,
                jumlah: 1,
                harga,
              },
            ],
          },
          actor,
          core.now(),
        );
        await core.jobs.enqueue(trx, PAYMENT_LINK_JOB, { invoiceId: created.id });
        return created;
      });
      if (typeof inv === 'string') out.skipped.push({ pelanggan_id: pelangganId, reason: `already has ${inv}` });
      else
        out.created.push({
          id: inv.id,
          nomor_invoice: inv.nomor_invoice,
          pelanggan_id: pelangganId,
          total_harga: inv.total_harga,
        });
    } catch (err) {
      // Another instance created it between our check and our insert.
      if (err instanceof AppError && err.code === 'CONFLICT') {
        out.skipped.push({ pelanggan_id: pelangganId, reason: err.message });
      } else if ((err as { code?: unknown })?.code === '23505') {
        out.skipped.push({ pelanggan_id: pelangganId, reason: 'already has an invoice for this period' });
      } else throw err;
    }
  }

  return {
    /** One customer's invoice for `periode`. */
    async one(pelangganId: number, periode: string, actor: Actor | null): Promise<GenerationResult> {
      const out: GenerationResult = { periode, created: [], skipped: [] };
      await forCustomer(pelangganId, periode, actor, out);
      return out;
    },

    /** Every active customer's invoice for `periode` (of one brand when given). */
    async all(periode: string, actor: Actor | null, idBrand?: string): Promise<GenerationResult> {
      const out: GenerationResult = { periode, created: [], skipped: [] };
      for (const id of await generation.billableIds(db, idBrand)) await forCustomer(id, periode, actor, out);
      return out;
    },

    /**
     * The daily run: for each brand, the next period whose due date is at most the brand's lead days away is
     * generated; and invoices unpaid past their due date become Jatuh Tempo. Safe to run any number of times.
     */
    async daily(): Promise<{ generated: GenerationResult[]; overdue: number }> {
      const today = jakartaDate(core.now());
      const generated: GenerationResult[] = [];
      for (const b of (await brands.listBrands(db, 0, 10_000)).rows) {
        const periode = upcomingPeriod(today, b.due_day, b.invoice_days_before);
        if (periode) generated.push(await this.all(periode, null, b.id_brand));
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
