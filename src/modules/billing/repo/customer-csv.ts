// SQL of the customers' CSV export and import: keyset pages of the list's filters, the customers a file's rows may
// repeat, and the set-based insert of an import (one statement per batch, inside the import's transaction).
import { sql } from 'kysely';
import type { Executor } from '../../../core/db/tables.ts';
import { type CustomerFields, type CustomerFilter, filtered } from './customers.ts';

export type ExportFilter = Omit<CustomerFilter, 'skip' | 'limit'>;

/** A customer as the CSV file has it (the package by name). */
export interface CsvCustomer {
  id: number;
  nama: string;
  no_ktp: string | null;
  email: string | null;
  no_telp: string | null;
  layanan: string | null;
  alamat: string | null;
  tanggal_instalasi: string | null;
  id_brand: string | null;
  alamat_2: string | null;
  blok: string | null;
  unit: string | null;
}

export async function countForExport(db: Executor, f: ExportFilter): Promise<number> {
  const row = await filtered(db, f)
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * One page of the export in id order: the rows after `afterId` (keyset), skipping `offset` rows first (only the
 * first page of an export with `skip` has one).
 */
export async function exportPage(
  db: Executor,
  f: ExportFilter,
  page: { afterId: number; offset: number; size: number },
): Promise<CsvCustomer[]> {
  let q = filtered(db, f)
    .leftJoin('billing_packages as p', 'p.id', 'c.paket_layanan_id')
    .select([
      'c.id',
      'c.nama',
      'c.no_ktp',
      'c.email',
      'c.no_telp',
      'p.nama_paket as layanan',
      'c.alamat',
      sql<string | null>`to_char(c.tanggal_instalasi, 'YYYY-MM-DD')`.as('tanggal_instalasi'),
      'c.id_brand',
      'c.alamat_2',
      'c.blok',
      'c.unit',
    ])
    .where('c.id', '>', page.afterId)
    .orderBy('c.id')
    .limit(page.size);
  if (page.offset > 0) q = q.offset(page.offset);
  return q.execute();
}

/** The identifying values of a live customer, for the import's duplicate check. */
export interface CustomerIdentity {
  id: number;
  nama: string;
  email: string | null;
  no_telp: string | null;
  alamat: string | null;
}

/**
 * Live customers that share an e-mail (case-insensitive), a phone number or a name (case-insensitive) with the
 * given lists; the caller decides which of them are the same customer. Each list is joined as one array.
 */
export async function customersSharing(
  db: Executor,
  keys: { emails: string[]; phones: string[]; names: string[] },
): Promise<CustomerIdentity[]> {
  const found = new Map<number, CustomerIdentity>();
  const cols = sql`c.id, c.nama, c.email, c.no_telp, c.alamat`;
  const queries = [
    keys.emails.length > 0 &&
      sql<CustomerIdentity>`SELECT ${cols} FROM billing_customers c
        JOIN (SELECT DISTINCT unnest(${keys.emails}::text[]) AS v) k ON lower(c.email) = k.v
        WHERE c.deleted_at IS NULL`,
    keys.phones.length > 0 &&
      sql<CustomerIdentity>`SELECT ${cols} FROM billing_customers c
        JOIN (SELECT DISTINCT unnest(${keys.phones}::text[]) AS v) k ON c.no_telp = k.v
        WHERE c.deleted_at IS NULL`,
    keys.names.length > 0 &&
      sql<CustomerIdentity>`SELECT ${cols} FROM billing_customers c
        JOIN (SELECT DISTINCT unnest(${keys.names}::text[]) AS v) k ON lower(c.nama) = k.v
        WHERE c.deleted_at IS NULL`,
  ];
  for (const q of queries) {
    if (!q) continue;
    for (const row of (await q.execute(db)).rows) found.set(row.id, row);
  }
  return [...found.values()];
}

/** Inserts new customers, one statement per `batch` rows (arrays of columns through unnest). */
export async function insertCustomers(db: Executor, rows: CustomerFields[], now: Date, batch = 5000): Promise<number> {
  let created = 0;
  for (let start = 0; start < rows.length; start += batch) {
    const part = rows.slice(start, start + batch);
    const col = <K extends keyof CustomerFields>(k: K) => part.map((r) => r[k]);
    const result = await sql`INSERT INTO billing_customers
        (nama, no_ktp, email, no_telp, alamat, alamat_2, blok, unit, tanggal_instalasi, id_brand, paket_layanan_id,
         status, created_at, updated_at)
      SELECT t.nama, t.no_ktp, t.email, t.no_telp, t.alamat, t.alamat_2, t.blok, t.unit, t.tanggal_instalasi::date,
             t.id_brand, t.paket_layanan_id, t.status, ${now}, ${now}
      FROM unnest(${col('nama')}::text[], ${col('no_ktp')}::text[], ${col('email')}::text[], ${col('no_telp')}::text[],
                  ${col('alamat')}::text[], ${col('alamat_2')}::text[], ${col('blok')}::text[], ${col('unit')}::text[],
                  ${col('tanggal_instalasi')}::text[], ${col('id_brand')}::text[], ${col('paket_layanan_id')}::int[],
                  ${col('status')}::text[])
        AS t(nama, no_ktp, email, no_telp, alamat, alamat_2, blok, unit, tanggal_instalasi, id_brand,
             paket_layanan_id, status)`.execute(db);
    created += Number(result.numAffectedRows ?? 0);
  }
  return created;
}

/** Serializes imports: two uploads of one file at once must not both find their rows new. */
export async function lockImports(trx: Executor): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(7310519040)`.execute(trx);
}
