// SQL for recurring billing: which customers are billed, a period's invoices written a batch at a time, and the
// overdue sweep.
import { sql } from 'kysely';
import type { Executor } from '../../../core/db/tables.ts';

/** An active, live customer with a package, and what it costs. */
export async function billable(db: Executor, pelangganId: number) {
  const row = await db
    .selectFrom('billing_customers as c')
    .innerJoin('billing_packages as p', 'p.id', 'c.paket_layanan_id')
    .select([
      'c.id',
      'p.nama_paket',
      'p.harga',
      sql<string | null>`to_char(c.tanggal_instalasi, 'YYYY-MM-DD')`.as('tanggal_instalasi'),
    ])
    .where('c.id', '=', pelangganId)
    .where('c.deleted_at', 'is', null)
    .where('c.status', '!=', 'Berhenti')
    .executeTakeFirst();
  return row && { ...row, harga: Number(row.harga) };
}

export async function billableIds(db: Executor, idBrand?: string): Promise<number[]> {
  let q = db
    .selectFrom('billing_customers')
    .select('id')
    .where('deleted_at', 'is', null)
    .where('status', '!=', 'Berhenti')
    .where('paket_layanan_id', 'is not', null);
  if (idBrand !== undefined) q = q.where('id_brand', '=', idBrand);
  return (await q.orderBy('id').execute()).map((r) => r.id);
}

/** A billable customer of a batch: its package, installation day, brand terms, and its live invoice of the period. */
export interface Candidate {
  id: number;
  id_brand: string | null;
  nama_paket: string;
  harga: number;
  tanggal_instalasi: string | null;
  pajak: number;
  due_day: number;
  live: string | null;
}

/**
 * The next `limit` billable customers after `afterId` in id order (of one brand, or one customer, when given), with
 * what their invoice of `periode` needs and the number of the live one they already have.
 */
export async function candidates(
  db: Executor,
  periode: string,
  o: {
    afterId: number;
    limit: number;
    idBrand?: string;
    pelangganId?: number;
    installedFrom?: string;
    /** A cancelled invoice of the period counts as one (the customer is skipped, not invoiced again). */
    cancelledCounts?: boolean;
  },
): Promise<Candidate[]> {
  const rows = await sql<{
    id: number;
    id_brand: string | null;
    nama_paket: string;
    harga: string | number;
    tanggal_instalasi: string | null;
    pajak: string | number | null;
    due_day: number | null;
    live: string | null;
  }>`
    SELECT c.id, c.id_brand, p.nama_paket, p.harga, to_char(c.tanggal_instalasi, 'YYYY-MM-DD') AS tanggal_instalasi,
           b.pajak, b.due_day,
           (SELECT i.nomor_invoice FROM billing_invoices i
             WHERE i.pelanggan_id = c.id AND i.periode = ${periode}
               ${o.cancelledCounts ? sql`` : sql`AND i.status_invoice <> 'Dibatalkan'`}
             LIMIT 1) AS live
      FROM billing_customers c
      JOIN billing_packages p ON p.id = c.paket_layanan_id
      LEFT JOIN billing_brands b ON b.id_brand = c.id_brand
     WHERE c.deleted_at IS NULL AND c.status <> 'Berhenti' AND c.id > ${o.afterId}
       ${o.idBrand === undefined ? sql`` : sql`AND c.id_brand = ${o.idBrand}`}
       ${o.pelangganId === undefined ? sql`` : sql`AND c.id = ${o.pelangganId}`}
       ${o.installedFrom === undefined ? sql`` : sql`AND c.tanggal_instalasi >= ${o.installedFrom}`}
     ORDER BY c.id
     LIMIT ${o.limit}`.execute(db);
  return rows.rows.map((r) => ({
    ...r,
    harga: Number(r.harga),
    pajak: Number(r.pajak ?? 0),
    due_day: r.due_day ?? 10,
  }));
}

/**
 * Locks the invoice counter of `year` until the caller commits and answers its last number: whoever holds it is the
 * only one numbering (and generating) invoices, so a batch's numbers follow on without gaps.
 */
export async function lockCounter(db: Executor, year: number): Promise<number> {
  const row = await sql<{ last: number }>`
    INSERT INTO billing_invoice_counters (year, last) VALUES (${year}, 0)
    ON CONFLICT (year) DO UPDATE SET last = billing_invoice_counters.last
    RETURNING last`.execute(db);
  return Number(row.rows[0]?.last ?? 0);
}

export async function setCounter(db: Executor, year: number, last: number): Promise<void> {
  await db.updateTable('billing_invoice_counters').set({ last }).where('year', '=', year).execute();
}

export interface NewPeriodInvoice {
  pelanggan_id: number;
  id_brand: string | null;
  subtotal: number;
  ppn_percent: number;
  ppn: number;
  tanggal_jatuh_tempo: string;
  deskripsi: string;
}

/**
 * Inserts one invoice (one item) per row for `periode`, numbered `INV-{year}-{last+1…}` in customer order, skipping
 * a customer that has a live invoice of the period by then (the one-live-invoice index is the final guard: ON
 * CONFLICT DO NOTHING). Answers the invoices made.
 */
export async function insertPeriodInvoices(
  db: Executor,
  v: { periode: string; year: number; last: number; issuedOn: string; createdBy: number | null; now: Date },
  rows: NewPeriodInvoice[],
): Promise<{ id: number; pelanggan_id: number; nomor_invoice: string; n: number; subtotal: number; ppn: number }[]> {
  if (rows.length === 0) return [];
  const made = await sql<{ id: number; pelanggan_id: number; nomor_invoice: string; subtotal: string; ppn: string }>`
    WITH src AS (
      SELECT u.* FROM unnest(
        ${rows.map((r) => r.pelanggan_id)}::int[], ${rows.map((r) => r.id_brand)}::text[],
        ${rows.map((r) => r.subtotal)}::bigint[], ${rows.map((r) => r.ppn_percent)}::numeric[],
        ${rows.map((r) => r.ppn)}::bigint[], ${rows.map((r) => r.tanggal_jatuh_tempo)}::date[]
      ) AS u (pelanggan_id, id_brand, subtotal, ppn_percent, ppn, due)
      WHERE NOT EXISTS (
        SELECT 1 FROM billing_invoices i
         WHERE i.pelanggan_id = u.pelanggan_id AND i.periode = ${v.periode} AND i.status_invoice <> 'Dibatalkan')
    ), numbered AS (
      SELECT src.*, ${v.last}::bigint + row_number() OVER (ORDER BY pelanggan_id) AS n FROM src
    )
    INSERT INTO billing_invoices (nomor_invoice, pelanggan_id, id_brand, periode, tanggal_invoice, tanggal_jatuh_tempo,
                                  subtotal, ppn_percent, ppn, total_harga, status_invoice, created_by, created_at,
                                  updated_at)
    SELECT 'INV-' || ${String(v.year)}::text || '-' || lpad(n::text, greatest(3, length(n::text)), '0'),
           pelanggan_id, id_brand, ${v.periode}, ${v.issuedOn}::date, due, subtotal, ppn_percent, ppn, subtotal + ppn,
           'Menunggu Pembayaran', ${v.createdBy}::int, ${v.now}, ${v.now}
      FROM numbered ORDER BY n
    ON CONFLICT DO NOTHING
    RETURNING id, pelanggan_id, nomor_invoice, subtotal, ppn`.execute(db);
  const byCustomer = new Map(rows.map((r) => [r.pelanggan_id, r]));
  const out = made.rows.map((r) => ({
    id: r.id,
    pelanggan_id: r.pelanggan_id,
    nomor_invoice: r.nomor_invoice,
    n: Number(r.nomor_invoice.slice(r.nomor_invoice.lastIndexOf('-') + 1)),
    subtotal: Number(r.subtotal),
    ppn: Number(r.ppn),
  }));
  out.sort((a, b) => a.pelanggan_id - b.pelanggan_id);
  if (out.length > 0) {
    await sql`
      INSERT INTO billing_invoice_items (invoice_id, deskripsi, jumlah, harga)
      SELECT invoice_id, deskripsi, 1, harga FROM unnest(
        ${out.map((r) => r.id)}::int[], ${out.map((r) => byCustomer.get(r.pelanggan_id)?.deskripsi ?? '')}::text[],
        ${out.map((r) => r.subtotal)}::bigint[]
      ) AS u (invoice_id, deskripsi, harga)`.execute(db);
  }
  return out;
}

/** Invoices waiting for payment past their due date become Jatuh Tempo; answers how many. */
export async function markOverdue(db: Executor, today: string, now: Date): Promise<number> {
  const res = await db
    .updateTable('billing_invoices')
    .set({ status_invoice: 'Jatuh Tempo', updated_at: now })
    .where('status_invoice', '=', 'Menunggu Pembayaran')
    .where('tanggal_jatuh_tempo', '<', today)
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}
