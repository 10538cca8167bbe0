// SQL for the dashboard and the reports. Money (revenue, what is still owed, its age) is read from the ledger
// postings that issuing, paying and cancelling an invoice made (src/core/ledger/read.ts); counts and segments are
// read from the billing tables. Every query is one set-based statement: no per-customer or per-invoice calls.
import { type RawBuilder, sql } from 'kysely';
import type { Executor } from '../../../core/db/tables.ts';
import { accountsUnder, postings } from '../../../core/ledger/read.ts';
import { INVOICE_JOURNALS, RECEIVABLE_PREFIX } from '../ledger.ts';

const ALL_KINDS = Object.values(INVOICE_JOURNALS);
const n = (v: unknown) => Number(v ?? 0);

/** A journal's or payment's date in billing's calendar (UTC+7): the expression of the paid-late index (0044). */
const wib = (col: string) => sql.raw(`((${col} AT TIME ZONE 'UTC') + interval '7 hours')`);

export interface Scope {
  idBrand?: string;
  alamat?: string;
}
export interface Range {
  from: Date;
  to: Date;
}

const scoped = (s: Scope) =>
  sql`${s.idBrand !== undefined ? sql`AND i.id_brand = ${s.idBrand}` : sql``} ${
    s.alamat !== undefined ? sql`AND c.alamat = ${s.alamat}` : sql``
  }`;

// ---- revenue ---------------------------------------------------------------------------------------------------

export type GroupBy = 'month' | 'brand' | 'status';

export interface RevenueGroup {
  key: string | null;
  label: string | null;
  /** Receivables posted by issuing invoices in the range, and reversed by cancelling them. */
  ditagihkan: number;
  dibatalkan: number;
  /** Money received: payments posted in the range. */
  dibayar: number;
  invoices_dibayar: number;
  /** Invoices with any posting in the range. */
  jumlah_invoice: number;
}

const groupKey: Record<GroupBy, { key: RawBuilder<unknown>; label: RawBuilder<unknown> }> = {
  month: { key: sql`to_char(${wib('p.at')}, 'YYYY-MM')`, label: sql`to_char(${wib('p.at')}, 'YYYY-MM')` },
  brand: { key: sql`i.id_brand`, label: sql`COALESCE(b.brand, i.id_brand)` },
  status: { key: sql`i.status_invoice`, label: sql`i.status_invoice` },
};

/** The range's ledger postings on customers' receivables, grouped (a receivable goes down when an invoice is issued). */
export async function revenueGroups(db: Executor, r: Range, s: Scope, by: GroupBy): Promise<RevenueGroup[]> {
  const { key, label } = groupKey[by];
  const rows = await sql<Record<string, unknown>>`
    SELECT ${key} AS key, ${label} AS label,
      COALESCE(sum(-p.amount) FILTER (WHERE p.kind = ${INVOICE_JOURNALS.issue}), 0) AS ditagihkan,
      COALESCE(sum(p.amount) FILTER (WHERE p.kind = ${INVOICE_JOURNALS.cancel}), 0) AS dibatalkan,
      COALESCE(sum(p.amount) FILTER (WHERE p.kind = ${INVOICE_JOURNALS.payment}), 0) AS dibayar,
      count(*) FILTER (WHERE p.kind = ${INVOICE_JOURNALS.payment}) AS invoices_dibayar,
      count(DISTINCT p.reference) AS jumlah_invoice
    FROM ${postings({ kinds: ALL_KINDS, accountPrefix: RECEIVABLE_PREFIX, ...r })} AS p
    JOIN billing_invoices i ON i.id = p.reference::int
    JOIN billing_customers c ON c.id = i.pelanggan_id
    LEFT JOIN billing_brands b ON b.id_brand = i.id_brand
    WHERE true ${scoped(s)}
    GROUP BY 1, 2 ORDER BY 1 NULLS LAST`.execute(db);
  return rows.rows.map((row) => ({
    key: (row.key as string | null) ?? null,
    label: (row.label as string | null) ?? null,
    ditagihkan: n(row.ditagihkan),
    dibatalkan: n(row.dibatalkan),
    dibayar: n(row.dibayar),
    invoices_dibayar: n(row.invoices_dibayar),
    jumlah_invoice: n(row.jumlah_invoice),
  }));
}

export interface PaymentRow {
  id: number;
  invoice_number: string;
  pelanggan_id: number;
  pelanggan_nama: string;
  alamat: string | null;
  id_brand: string | null;
  paid_at: Date;
  metode_pembayaran: string | null;
  total_harga: number;
}

/** The payments posted in the range, oldest first, with the invoice and customer they settled. */
export async function payments(
  db: Executor,
  r: Range,
  s: Scope,
  page: { skip: number; limit: number },
): Promise<{ rows: PaymentRow[]; total: number }> {
  const rows = await sql<PaymentRow & { total: unknown }>`
    SELECT i.id, i.nomor_invoice AS invoice_number, i.pelanggan_id, c.nama AS pelanggan_nama, c.alamat, i.id_brand,
      p.at AS paid_at, i.metode_pembayaran, p.amount AS total_harga, count(*) OVER () AS total
    FROM ${postings({ kinds: [INVOICE_JOURNALS.payment], accountPrefix: RECEIVABLE_PREFIX, ...r })} AS p
    JOIN billing_invoices i ON i.id = p.reference::int
    JOIN billing_customers c ON c.id = i.pelanggan_id
    WHERE true ${scoped(s)}
    ORDER BY p.at, i.id
    OFFSET ${page.skip} LIMIT ${page.limit}`.execute(db);
  const total = rows.rows[0] ? n(rows.rows[0].total) : page.skip > 0 ? await countPayments(db, r, s) : 0;
  return {
    rows: rows.rows.map(({ total: _, ...row }) => ({ ...row, total_harga: n(row.total_harga) })),
    total,
  };
}

async function countPayments(db: Executor, r: Range, s: Scope): Promise<number> {
  const row = await sql<{ n: unknown }>`
    SELECT count(*) AS n
    FROM ${postings({ kinds: [INVOICE_JOURNALS.payment], accountPrefix: RECEIVABLE_PREFIX, ...r })} AS p
    JOIN billing_invoices i ON i.id = p.reference::int
    JOIN billing_customers c ON c.id = i.pelanggan_id
    WHERE true ${scoped(s)}`.execute(db);
  return n(row.rows[0]?.n);
}

// ---- aging -----------------------------------------------------------------------------------------------------

export const AGING_BUCKETS = ['current', '1-30', '31-60', '61-90', '>90'] as const;
export type AgingBucket = (typeof AGING_BUCKETS)[number];

/**
 * What customers still owe, per invoice, from the ledger (issue minus payments and cancellation), bucketed by days
 * past the due date on `today`. Only invoices still waiting for payment can owe anything: a payment or a
 * cancellation is posted in the same transaction that makes an invoice Lunas or Dibatalkan, so the status only
 * narrows which invoices' postings are read.
 */
export async function aging(
  db: Executor,
  today: string,
  s: Scope,
): Promise<{ bucket: AgingBucket; jumlah_invoice: number; total: number }[]> {
  const rows = await sql<{ bucket: AgingBucket; jumlah_invoice: unknown; total: unknown }>`
    SELECT bucket, count(*) AS jumlah_invoice, sum(owed) AS total FROM (
      SELECT CASE
          WHEN ${today}::date - i.tanggal_jatuh_tempo <= 0 THEN 'current'
          WHEN ${today}::date - i.tanggal_jatuh_tempo <= 30 THEN '1-30'
          WHEN ${today}::date - i.tanggal_jatuh_tempo <= 60 THEN '31-60'
          WHEN ${today}::date - i.tanggal_jatuh_tempo <= 90 THEN '61-90'
          ELSE '>90' END AS bucket,
        -sum(p.amount) AS owed
      FROM billing_invoices i
      JOIN billing_customers c ON c.id = i.pelanggan_id
      JOIN ${postings({ kinds: ALL_KINDS, accountPrefix: RECEIVABLE_PREFIX })} AS p ON p.reference = i.id::text
      WHERE i.status_invoice IN ('Menunggu Pembayaran', 'Jatuh Tempo') ${scoped(s)}
      GROUP BY i.id, i.tanggal_jatuh_tempo
      HAVING sum(p.amount) <> 0
    ) owing GROUP BY bucket`.execute(db);
  const found = new Map(rows.rows.map((r) => [r.bucket, r]));
  return AGING_BUCKETS.map((bucket) => ({
    bucket,
    jumlah_invoice: n(found.get(bucket)?.jumlah_invoice),
    total: n(found.get(bucket)?.total),
  }));
}

/** Everything customers owe now: minus the sum of their receivable balances. */
export async function outstanding(db: Executor): Promise<number> {
  const row = await sql<{ t: unknown }>`SELECT -COALESCE(sum(balance), 0) AS t FROM ${accountsUnder(
    RECEIVABLE_PREFIX,
  )} AS r`.execute(db);
  return n(row.rows[0]?.t);
}

// ---- loyalty ---------------------------------------------------------------------------------------------------

export const SEGMENTS = ['setia', 'lunas-telat', 'menunggak'] as const;
export type Segment = (typeof SEGMENTS)[number];

/**
 * Every live customer with its loyalty segment (CONTRACTS §4), null for a customer who stopped (`Berhenti`):
 * `menunggak` has an invoice still to pay past its due date on `today`; `lunas-telat` has ever paid after the due
 * date; `setia` is the rest. Columns `c` (the customer row) and `segmen`.
 */
function segmented(today: string) {
  return sql`(
    SELECT c.*, CASE WHEN c.status = 'Berhenti' THEN NULL
        WHEN o.pelanggan_id IS NOT NULL THEN 'menunggak'
        WHEN l.pelanggan_id IS NOT NULL THEN 'lunas-telat'
        ELSE 'setia' END AS segmen
    FROM billing_customers c
    LEFT JOIN (
      SELECT DISTINCT pelanggan_id FROM billing_invoices
      WHERE status_invoice IN ('Menunggu Pembayaran', 'Jatuh Tempo') AND tanggal_jatuh_tempo < ${today}::date
    ) o ON o.pelanggan_id = c.id
    LEFT JOIN (
      SELECT DISTINCT pelanggan_id FROM billing_invoices
      WHERE paid_at IS NOT NULL AND ${wib('paid_at')}::date > tanggal_jatuh_tempo
    ) l ON l.pelanggan_id = c.id
    WHERE c.deleted_at IS NULL
  )`;
}

export async function segmentCounts(db: Executor, today: string): Promise<Record<Segment, number>> {
  const rows = await sql<{ segmen: Segment; n: unknown }>`
    SELECT segmen, count(*) AS n FROM ${segmented(today)} AS s WHERE segmen IS NOT NULL GROUP BY segmen`.execute(db);
  const counts: Record<Segment, number> = { setia: 0, 'lunas-telat': 0, menunggak: 0 };
  for (const r of rows.rows) counts[r.segmen] = n(r.n);
  return counts;
}

export interface CustomerFilter {
  segment?: Segment;
  /** Only customers that have a segment (every one but those who stopped). */
  segmented?: boolean;
  status?: string;
  idBrand?: string;
}

export interface CustomerReportRow {
  id: number;
  nama: string;
  id_pelanggan: string | null;
  alamat: string | null;
  no_telp: string | null;
  email: string | null;
  id_brand: string | null;
  brand: string | null;
  layanan: string | null;
  status: string;
  segmen: Segment | null;
  /** What the customer owes now, from the ledger (minus the receivable's balance). */
  tunggakan: number;
}

/** Customers with their segment and what they owe, by id, one page; the total and the sum owed of every match. */
export async function customers(
  db: Executor,
  today: string,
  f: CustomerFilter,
  page: { skip: number; limit: number },
): Promise<{ rows: CustomerReportRow[]; total: number; tunggakan: number }> {
  const where = sql`WHERE true
    ${f.segment !== undefined ? sql`AND s.segmen = ${f.segment}` : sql``}
    ${f.segmented ? sql`AND s.segmen IS NOT NULL` : sql``}
    ${f.status !== undefined ? sql`AND s.status = ${f.status}` : sql``}
    ${f.idBrand !== undefined ? sql`AND s.id_brand = ${f.idBrand}` : sql``}`;
  const rows = await sql<CustomerReportRow & { total: unknown; total_tunggakan: unknown }>`
    SELECT s.id, s.nama, t.id_pelanggan, s.alamat, s.no_telp, s.email, s.id_brand, b.brand, k.nama_paket AS layanan,
      s.status, s.segmen, -COALESCE(r.balance, 0) AS tunggakan,
      count(*) OVER () AS total, sum(-COALESCE(r.balance, 0)) OVER () AS total_tunggakan
    FROM ${segmented(today)} AS s
    LEFT JOIN billing_brands b ON b.id_brand = s.id_brand
    LEFT JOIN billing_packages k ON k.id = s.paket_layanan_id
    LEFT JOIN billing_technical_data t ON t.pelanggan_id = s.id
    LEFT JOIN ${accountsUnder(RECEIVABLE_PREFIX)} AS r ON r.code = ${RECEIVABLE_PREFIX} || s.id
    ${where}
    ORDER BY s.id OFFSET ${page.skip} LIMIT ${page.limit}`.execute(db);
  const first = rows.rows[0];
  if (!first && page.skip > 0) {
    const all = await customers(db, today, f, { skip: 0, limit: 1 });
    return { rows: [], total: all.total, tunggakan: all.tunggakan };
  }
  return {
    rows: rows.rows.map(({ total: _t, total_tunggakan: _s, ...row }) => ({ ...row, tunggakan: n(row.tunggakan) })),
    total: n(first?.total),
    tunggakan: n(first?.total_tunggakan),
  };
}

// ---- dashboard -------------------------------------------------------------------------------------------------

export interface CustomerTallies {
  brand: Map<string | null, number>;
  alamat: Map<string | null, number>;
  /** By address and block (`alamat`, `blok`). */
  blok: Map<string, { alamat: string | null; blok: string | null; n: number }>;
  kecepatan: Map<number | null, number>;
  status: Map<string, number>;
  bulan: Map<string | null, number>;
  total: number;
}

/** Live customers counted by brand, address, package speed, status and installation month, in one scan. */
export async function customerTallies(db: Executor): Promise<CustomerTallies> {
  const rows = await sql<Record<string, unknown>>`
    SELECT brand, alamat, blok, kecepatan, status, bulan, GROUPING(brand) AS g_brand, GROUPING(alamat) AS g_alamat,
      GROUPING(blok) AS g_blok, GROUPING(kecepatan) AS g_kecepatan, GROUPING(status) AS g_status, GROUPING(bulan) AS g_bulan, count(*) AS n
    FROM (
      SELECT c.id_brand AS brand, c.alamat, c.blok, p.kecepatan, c.status,
        to_char(COALESCE(c.tanggal_instalasi, ${wib('c.created_at')}::date), 'YYYY-MM') AS bulan
      FROM billing_customers c LEFT JOIN billing_packages p ON p.id = c.paket_layanan_id
      WHERE c.deleted_at IS NULL
    ) live
    GROUP BY GROUPING SETS ((brand), (alamat), (alamat, blok), (kecepatan), (status), (bulan), ())`.execute(db);
  const t: CustomerTallies = {
    brand: new Map(),
    alamat: new Map(),
    blok: new Map(),
    kecepatan: new Map(),
    status: new Map(),
    bulan: new Map(),
    total: 0,
  };
  for (const r of rows.rows) {
    const count = n(r.n);
    if (n(r.g_brand) === 0) t.brand.set(r.brand as string | null, count);
    else if (n(r.g_alamat) === 0 && n(r.g_blok) === 0) {
      const [alamat, blok] = [r.alamat as string | null, r.blok as string | null];
      t.blok.set(JSON.stringify([alamat, blok]), { alamat, blok, n: count });
    } else if (n(r.g_alamat) === 0) t.alamat.set(r.alamat as string | null, count);
    else if (n(r.g_kecepatan) === 0) t.kecepatan.set(r.kecepatan === null ? null : n(r.kecepatan), count);
    else if (n(r.g_status) === 0) t.status.set(r.status as string, count);
    else if (n(r.g_bulan) === 0) t.bulan.set(r.bulan as string | null, count);
    else t.total = count;
  }
  return t;
}

export async function brandNames(db: Executor): Promise<{ id_brand: string; brand: string }[]> {
  return db.selectFrom('billing_brands').select(['id_brand', 'brand']).orderBy('id_brand').execute();
}

/** Payments posted in the range by the invoices' brand (money received, from the ledger). */
export async function paymentsByBrand(db: Executor, r: Range): Promise<Map<string | null, number>> {
  const rows = await sql<{ id_brand: string | null; total: unknown }>`
    SELECT i.id_brand, sum(p.amount) AS total
    FROM ${postings({ kinds: [INVOICE_JOURNALS.payment], accountPrefix: RECEIVABLE_PREFIX, ...r })} AS p
    JOIN billing_invoices i ON i.id = p.reference::int
    GROUP BY i.id_brand`.execute(db);
  return new Map(rows.rows.map((row) => [row.id_brand, n(row.total)]));
}

/** Invoices of the given periods counted by status. */
export async function invoiceCounts(db: Executor, periods: string[]): Promise<Map<string, Map<string, number>>> {
  const rows = await db
    .selectFrom('billing_invoices')
    .select(['periode', 'status_invoice', (eb) => eb.fn.countAll<string>().as('n')])
    .where('periode', 'in', periods)
    .groupBy(['periode', 'status_invoice'])
    .execute();
  const out = new Map<string, Map<string, number>>();
  for (const r of rows) {
    const per = out.get(r.periode) ?? new Map<string, number>();
    per.set(r.status_invoice, n(r.n));
    out.set(r.periode, per);
  }
  return out;
}

export async function badges(db: Executor) {
  const row = await sql<Record<string, unknown>>`
    SELECT
      (SELECT count(*) FROM billing_customers WHERE deleted_at IS NULL AND status = 'Isolir') AS suspended_count,
      (SELECT count(*) FROM billing_invoices WHERE status_invoice IN ('Menunggu Pembayaran', 'Jatuh Tempo'))
        AS unpaid_invoice_count,
      (SELECT count(*) FROM billing_customers WHERE deleted_at IS NULL AND status = 'Berhenti') AS stopped_count
  `.execute(db);
  const r = row.rows[0] ?? {};
  return {
    suspended_count: n(r.suspended_count),
    unpaid_invoice_count: n(r.unpaid_invoice_count),
    stopped_count: n(r.stopped_count),
  };
}

/**
 * What the dashboard depends on, in one cheap read: the change counter that every write of an invoice (issue,
 * payment and cancellation change the row with their ledger posting), a customer, a brand or a package moves
 * (migrations/0044).
 */
export async function fingerprint(db: Executor): Promise<string> {
  const row = await sql<{
    v: unknown;
  }>`SELECT last_value::text || '/' || is_called::text AS v FROM billing_changes_seq`.execute(db);
  return String(row.rows[0]?.v ?? '');
}

/** Live customers per package speed, and within each speed by address and by brand (one scan). */
export async function packageBreakdown(db: Executor) {
  const rows = await sql<Record<string, unknown>>`
    SELECT p.kecepatan, c.alamat, c.id_brand, GROUPING(c.alamat) AS g_alamat, GROUPING(c.id_brand) AS g_brand,
      count(*) AS n
    FROM billing_customers c LEFT JOIN billing_packages p ON p.id = c.paket_layanan_id
    WHERE c.deleted_at IS NULL
    GROUP BY GROUPING SETS ((p.kecepatan), (p.kecepatan, c.alamat), (p.kecepatan, c.id_brand))`.execute(db);
  return rows.rows.map((r) => ({
    kecepatan: r.kecepatan === null ? null : n(r.kecepatan),
    alamat: n(r.g_alamat) === 0 ? ((r.alamat as string | null) ?? null) : undefined,
    id_brand: n(r.g_brand) === 0 ? ((r.id_brand as string | null) ?? null) : undefined,
    n: n(r.n),
  }));
}
