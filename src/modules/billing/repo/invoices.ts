// SQL for invoices and their items. Every function takes the handle it runs on; a caller that changes an invoice
// reads it `forUpdate` first, in the same transaction, so two changes of one invoice take turns.
import { type Generated, type Selectable, sql } from 'kysely';
import { containsPattern } from '../../../core/db/like.ts';
import type { Executor, Timestamp } from '../../../core/db/tables.ts';

export const INVOICE_STATUS = ['Draft', 'Menunggu Pembayaran', 'Lunas', 'Jatuh Tempo', 'Dibatalkan'] as const;
export type InvoiceStatus = (typeof INVOICE_STATUS)[number];

interface BillingInvoicesTable {
  id: Generated<number>;
  nomor_invoice: string;
  pelanggan_id: number;
  id_brand: string | null;
  periode: string;
  tanggal_invoice: string;
  tanggal_jatuh_tempo: string;
  subtotal: string | number;
  ppn_percent: string | number;
  ppn: string | number;
  total_harga: string | number;
  status_invoice: InvoiceStatus;
  payment_reference: string | null;
  payment_link: string | null;
  payment_link_expires_at: Timestamp | null;
  metode_pembayaran: string | null;
  paid_at: Timestamp | null;
  paid_by: number | null;
  created_by: number | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

interface BillingInvoiceItemsTable {
  id: Generated<number>;
  invoice_id: number;
  deskripsi: string;
  jumlah: number;
  harga: string | number;
}

interface BillingPaymentLinksTable {
  reference: string;
  invoice_id: number;
  created_at: Timestamp;
}

interface BillingInvoiceCountersTable {
  year: number;
  last: number;
}

declare module '../../../core/db/tables.ts' {
  interface Tables {
    billing_invoices: BillingInvoicesTable;
    billing_invoice_items: BillingInvoiceItemsTable;
    billing_invoice_counters: BillingInvoiceCountersTable;
    billing_payment_links: BillingPaymentLinksTable;
  }
}

export interface InvoiceItem {
  deskripsi: string;
  jumlah: number;
  harga: number;
}

export interface Invoice
  extends Omit<Selectable<BillingInvoicesTable>, 'subtotal' | 'ppn_percent' | 'ppn' | 'total_harga'> {
  subtotal: number;
  ppn_percent: number;
  ppn: number;
  total_harga: number;
  items: InvoiceItem[];
  pelanggan_nama: string;
  email: string | null;
  no_telp: string | null;
}

export type InvoiceFields = Omit<
  Selectable<BillingInvoicesTable>,
  'id' | 'created_at' | 'updated_at' | 'subtotal' | 'ppn_percent' | 'ppn' | 'total_harga'
> & { subtotal: number; ppn_percent: number; ppn: number; total_harga: number };

export interface InvoiceFilter {
  pelangganId?: number;
  statuses?: InvoiceStatus[];
  periode?: string;
  search?: string;
  dueFrom?: string;
  dueTo?: string;
  skip: number;
  limit: number;
}

/** The next number of `year`, never given out twice (the counter row is locked until the caller commits). */
export async function nextInvoiceNumber(db: Executor, year: number): Promise<string> {
  const row = await db
    .insertInto('billing_invoice_counters')
    .values({ year, last: 1 })
    .onConflict((oc) => oc.column('year').doUpdateSet({ last: sql`billing_invoice_counters.last + 1` }))
    .returning('last')
    .executeTakeFirstOrThrow();
  return `INV-${year}-${String(row.last).padStart(3, '0')}`;
}

const base = (db: Executor) =>
  db
    .selectFrom('billing_invoices as i')
    .innerJoin('billing_customers as c', 'c.id', 'i.pelanggan_id')
    .selectAll('i')
    .select([
      sql<string>`to_char(i.tanggal_invoice, 'YYYY-MM-DD')`.as('tanggal_invoice'),
      sql<string>`to_char(i.tanggal_jatuh_tempo, 'YYYY-MM-DD')`.as('tanggal_jatuh_tempo'),
      'c.nama as pelanggan_nama',
      'c.email',
      'c.no_telp',
    ]);

type BaseRow = Awaited<ReturnType<ReturnType<typeof base>['execute']>>[number];

function invoiceOf(r: BaseRow, items: InvoiceItem[]): Invoice {
  return {
    ...r,
    subtotal: Number(r.subtotal),
    ppn_percent: Number(r.ppn_percent),
    ppn: Number(r.ppn),
    total_harga: Number(r.total_harga),
    items,
  };
}

async function itemsOf(db: Executor, ids: number[]): Promise<Map<number, InvoiceItem[]>> {
  const out = new Map<number, InvoiceItem[]>();
  if (ids.length === 0) return out;
  const rows = await db
    .selectFrom('billing_invoice_items')
    .select(['invoice_id', 'deskripsi', 'jumlah', 'harga'])
    .where('invoice_id', 'in', ids)
    .orderBy('id')
    .execute();
  for (const r of rows) {
    const list = out.get(r.invoice_id) ?? out.set(r.invoice_id, []).get(r.invoice_id);
    list?.push({ deskripsi: r.deskripsi, jumlah: r.jumlah, harga: Number(r.harga) });
  }
  return out;
}

function filtered(db: Executor, f: Omit<InvoiceFilter, 'skip' | 'limit'>) {
  let q = base(db);
  if (f.pelangganId !== undefined) q = q.where('i.pelanggan_id', '=', f.pelangganId);
  if (f.statuses?.length) q = q.where('i.status_invoice', 'in', f.statuses);
  if (f.periode !== undefined) q = q.where('i.periode', '=', f.periode);
  if (f.dueFrom !== undefined) q = q.where('i.tanggal_jatuh_tempo', '>=', f.dueFrom);
  if (f.dueTo !== undefined) q = q.where('i.tanggal_jatuh_tempo', '<=', f.dueTo);
  if (f.search) {
    const like = containsPattern(f.search);
    q = q.where((eb) => eb.or([eb('i.nomor_invoice', 'ilike', like), eb('c.nama', 'ilike', like)]));
  }
  return q;
}

export async function listInvoices(db: Executor, f: InvoiceFilter): Promise<{ rows: Invoice[]; total: number }> {
  const [rows, count] = await Promise.all([
    filtered(db, f).orderBy('i.id', 'desc').offset(f.skip).limit(f.limit).execute(),
    db
      .selectFrom(filtered(db, f).as('x'))
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  const items = await itemsOf(
    db,
    rows.map((r) => r.id),
  );
  return { rows: rows.map((r) => invoiceOf(r, items.get(r.id) ?? [])), total: Number(count.n) };
}

export async function getInvoice(
  db: Executor,
  id: number,
  opts: { lock?: boolean } = {},
): Promise<Invoice | undefined> {
  if (opts.lock) {
    const locked = await db
      .selectFrom('billing_invoices')
      .select('id')
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst();
    if (!locked) return undefined;
  }
  const row = await base(db).where('i.id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  return invoiceOf(row, (await itemsOf(db, [id])).get(id) ?? []);
}

/** The invoice a payment link belongs to, current or replaced. */
export async function invoiceIdByPayment(db: Executor, reference: string): Promise<number | undefined> {
  const row = await db
    .selectFrom('billing_payment_links')
    .select('invoice_id')
    .where('reference', '=', reference)
    .executeTakeFirst();
  return row?.invoice_id;
}

export async function recordPaymentLink(db: Executor, reference: string, invoiceId: number, now: Date): Promise<void> {
  await db.insertInto('billing_payment_links').values({ reference, invoice_id: invoiceId, created_at: now }).execute();
}

export async function liveInvoiceOfPeriod(db: Executor, pelangganId: number, periode: string) {
  return db
    .selectFrom('billing_invoices')
    .select(['id', 'nomor_invoice'])
    .where('pelanggan_id', '=', pelangganId)
    .where('periode', '=', periode)
    .where('status_invoice', '!=', 'Dibatalkan')
    .executeTakeFirst();
}

export async function insertInvoice(db: Executor, v: InvoiceFields, items: InvoiceItem[], now: Date): Promise<number> {
  const row = await db
    .insertInto('billing_invoices')
    .values({ ...v, created_at: now, updated_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('billing_invoice_items')
    .values(items.map((it) => ({ ...it, invoice_id: row.id })))
    .execute();
  return row.id;
}

export async function updateInvoice(
  db: Executor,
  id: number,
  v: Partial<Omit<InvoiceFields, 'nomor_invoice' | 'pelanggan_id'>>,
  now: Date,
): Promise<void> {
  await db
    .updateTable('billing_invoices')
    .set({ ...v, updated_at: now })
    .where('id', '=', id)
    .execute();
}

/** Open invoices of a customer (waiting or overdue), for cancellation when the customer is deleted. */
export async function openInvoiceIds(db: Executor, pelangganId: number): Promise<number[]> {
  const rows = await db
    .selectFrom('billing_invoices')
    .select('id')
    .where('pelanggan_id', '=', pelangganId)
    .where('status_invoice', 'in', ['Draft', 'Menunggu Pembayaran', 'Jatuh Tempo'])
    .execute();
  return rows.map((r) => r.id);
}

/** The invoices (with their customer's name) that payment references belong to, current or replaced links. */
export async function invoicesByPayment(
  db: Executor,
  references: readonly string[],
): Promise<Map<string, { id: number; nomor_invoice: string; pelanggan_id: number; pelanggan_nama: string | null }>> {
  if (references.length === 0) return new Map();
  const rows = await db
    .selectFrom('billing_payment_links as l')
    .innerJoin('billing_invoices as i', 'i.id', 'l.invoice_id')
    .leftJoin('billing_customers as c', 'c.id', 'i.pelanggan_id')
    .select(['l.reference', 'i.id', 'i.nomor_invoice', 'i.pelanggan_id', 'c.nama as pelanggan_nama'])
    .where('l.reference', 'in', references)
    .execute();
  return new Map(rows.map(({ reference, ...inv }) => [reference, inv]));
}
