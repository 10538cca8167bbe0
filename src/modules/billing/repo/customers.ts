// SQL for billing customers (pelanggan). Every function takes the handle it runs on. A deleted customer keeps its
// row (`deleted_at`) for the invoices and ledger entries that refer to it, and leaves every list.
import { type Generated, type Selectable, sql } from 'kysely';
import { containsPattern } from '../../../core/db/like.ts';
import type { Executor, Timestamp } from '../../../core/db/tables.ts';
import { nationalPhone } from '../../../core/phone.ts';

export type CustomerStatus = 'Aktif' | 'Isolir' | 'Berhenti';

interface BillingCustomersTable {
  id: Generated<number>;
  nama: string;
  no_ktp: string | null;
  email: string | null;
  no_telp: string | null;
  alamat: string | null;
  alamat_2: string | null;
  blok: string | null;
  unit: string | null;
  tanggal_instalasi: string | null;
  id_brand: string | null;
  paket_layanan_id: number | null;
  status: CustomerStatus;
  created_at: Timestamp;
  updated_at: Timestamp;
  deleted_at: Timestamp | null;
}

declare module '../../../core/db/tables.ts' {
  interface Tables {
    billing_customers: BillingCustomersTable;
    /** One row per live customer, kept by triggers (migrations/0062): the search's haystack. */
    billing_customer_search: { id: number; haystack: string };
  }
}

export type CustomerRow = Omit<Selectable<BillingCustomersTable>, 'deleted_at'>;
export type CustomerFields = Omit<CustomerRow, 'id' | 'created_at' | 'updated_at'>;

/** A customer with its package and brand, as lists and the detail view show it. */
export interface Customer extends CustomerRow {
  package: { id: number; nama_paket: string; harga: number; kecepatan: number; profile_pppoe: string | null } | null;
  brand: { id_brand: string; brand: string; pajak: number; xendit_key_name: string | null; due_day: number } | null;
}

export interface CustomerFilter {
  search?: string;
  alamat?: string;
  idBrand?: string;
  status?: CustomerStatus;
  /** The package's exact name (the subscriptions list's `paket_layanan_name`). */
  packageName?: string;
  skip: number;
  limit: number;
}

const live = (db: Executor) => db.selectFrom('billing_customers as c').where('c.deleted_at', 'is', null);

const SEPARATOR = '\n';

/**
 * What a search term is looked for as: the term itself and, when it is a phone number in any accepted spelling
 * (`628…`, `+628…`, with spaces or dashes; CONTRACTS §6), the stored form `08…` too. A list keyed by its term (the
 * list cache) stays right: one term always finds the same rows.
 */
const searchForms = (term: string): string[] => {
  const stored = nationalPhone(term);
  return stored === undefined || stored === term ? [term] : [term, stored];
};

/**
 * Live customers whose nama, email or no_telp contains one of the term's forms (case-insensitive), from the narrow
 * search table (migrations/0062: the three fields lower-cased, one trigram index).
 */
const searchRows = (db: Executor, term: string) =>
  db
    .selectFrom('billing_customer_search as s')
    .where((eb) =>
      eb.or(searchForms(term).map((form) => eb('s.haystack', 'like', sql<string>`lower(${containsPattern(form)})`))),
    );
const searchIds = (db: Executor, term: string) => searchRows(db, term).select('s.id');

/** Live customers matching a list's filters (the list, its count and the CSV export share it). */
export function filtered(db: Executor, f: Omit<CustomerFilter, 'skip' | 'limit'>) {
  let q = live(db);
  const { search } = f;
  if (search) {
    q = q.where('c.id', 'in', searchIds(db, search));
    // The narrow table joins the three fields with a line feed: a term that has one could match across two.
    if (search.includes(SEPARATOR)) {
      q = q.where((eb) =>
        eb.or(
          searchForms(search).flatMap((form) => {
            const like = containsPattern(form);
            return [eb('c.nama', 'ilike', like), eb('c.email', 'ilike', like), eb('c.no_telp', 'ilike', like)];
          }),
        ),
      );
    }
  }
  if (f.alamat !== undefined) q = q.where('c.alamat', '=', f.alamat);
  if (f.idBrand !== undefined) q = q.where('c.id_brand', '=', f.idBrand);
  if (f.status !== undefined) q = q.where('c.status', '=', f.status);
  const { packageName } = f;
  if (packageName !== undefined) {
    q = q.where('c.paket_layanan_id', 'in', (eb) =>
      eb.selectFrom('billing_packages').select('id').where('nama_paket', '=', packageName),
    );
  }
  return q;
}

const withCatalogue = (q: ReturnType<typeof live>) =>
  q
    .leftJoin('billing_packages as p', 'p.id', 'c.paket_layanan_id')
    .leftJoin('billing_brands as b', 'b.id_brand', 'c.id_brand')
    .select([
      'c.id',
      'c.nama',
      'c.no_ktp',
      'c.email',
      'c.no_telp',
      'c.alamat',
      'c.alamat_2',
      'c.blok',
      'c.unit',
      sql<string | null>`to_char(c.tanggal_instalasi, 'YYYY-MM-DD')`.as('tanggal_instalasi'),
      'c.id_brand',
      'c.paket_layanan_id',
      'c.status',
      'c.created_at',
      'c.updated_at',
      'p.nama_paket',
      'p.harga',
      'p.kecepatan',
      'p.profile_pppoe',
      'b.brand',
      'b.pajak',
      'b.xendit_key_name',
      'b.due_day',
    ]);

type Joined = Awaited<ReturnType<ReturnType<typeof withCatalogue>['execute']>>[number];

const customerOf = (r: Joined): Customer => ({
  id: r.id,
  nama: r.nama,
  no_ktp: r.no_ktp,
  email: r.email,
  no_telp: r.no_telp,
  alamat: r.alamat,
  alamat_2: r.alamat_2,
  blok: r.blok,
  unit: r.unit,
  tanggal_instalasi: r.tanggal_instalasi,
  id_brand: r.id_brand,
  paket_layanan_id: r.paket_layanan_id,
  status: r.status,
  created_at: r.created_at,
  updated_at: r.updated_at,
  package:
    r.paket_layanan_id !== null && r.nama_paket !== null
      ? {
          id: r.paket_layanan_id,
          nama_paket: r.nama_paket,
          harga: Number(r.harga),
          kecepatan: Number(r.kecepatan),
          profile_pppoe: r.profile_pppoe ?? null,
        }
      : null,
  brand:
    r.id_brand !== null && r.brand !== null
      ? {
          id_brand: r.id_brand,
          brand: r.brand,
          pajak: Number(r.pajak),
          xendit_key_name: r.xendit_key_name ?? null,
          due_day: Number(r.due_day),
        }
      : null,
});

/** The number of live customers matching a list's filters (exact). */
export async function countCustomers(db: Executor, f: Omit<CustomerFilter, 'skip' | 'limit'>): Promise<number> {
  // Search alone (or no filter): the narrow table holds exactly the live customers, so it is counted alone.
  const { search, ...others } = f;
  const narrow = Object.values(others).every((v) => v === undefined) && !search?.includes(SEPARATOR);
  const row = narrow
    ? await (search ? searchRows(db, search) : db.selectFrom('billing_customer_search as s'))
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    : await filtered(db, f)
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * A page of the list and the exact number of matches. The page is read first: when it is short and not past the
 * end (a rare term's few matches), the total is known without counting. `count` may answer from a cache.
 */
export async function listCustomers(
  db: Executor,
  f: CustomerFilter,
  count: (f: Omit<CustomerFilter, 'skip' | 'limit'>) => Promise<number> = (filters) => countCustomers(db, filters),
): Promise<{ rows: Customer[]; total: number }> {
  const rows = await withCatalogue(filtered(db, f)).orderBy('c.id').offset(f.skip).limit(f.limit).execute();
  const { skip, limit, ...filters } = f;
  const total = rows.length < limit && (rows.length > 0 || skip === 0) ? skip + rows.length : await count(filters);
  return { rows: rows.map(customerOf), total };
}

// The advisory lock key of migrations/0064: writers of customers, packages and brands hold it shared.
const LIST_WRITERS_LOCK = 7310519064;

/** The version of what customer lists show (migrations/0064): moves with every write of a customer, package or brand. */
export async function listVersion(db: Executor): Promise<string> {
  const row = await sql<{ v: string }>`
    SELECT last_value::text || '/' || is_called::text AS v FROM billing_customer_list_seq`.execute(db);
  return String(row.rows[0]?.v ?? '');
}

/**
 * The version, then (a statement later) whether every writer that took it has ended (migrations/0064): when
 * `settled` is true, a statement run after this one sees every write counted up to `version`.
 */
export async function settledListVersion(db: Executor): Promise<{ version: string; settled: boolean }> {
  const version = await listVersion(db);
  const row = await sql<{ settled: boolean }>`
    SELECT CASE WHEN pg_try_advisory_lock(${sql.lit(LIST_WRITERS_LOCK)}::bigint)
      THEN pg_advisory_unlock(${sql.lit(LIST_WRITERS_LOCK)}::bigint) ELSE false END AS settled`.execute(db);
  return { version, settled: row.rows[0]?.settled === true };
}

/** Every live customer's id and name (the frontend's selection lists). */
export const customerChoices = (db: Executor) => live(db).select(['c.id', 'c.nama']).orderBy('c.id').execute();

export async function getCustomer(db: Executor, id: number): Promise<Customer | undefined> {
  const row = await withCatalogue(live(db).where('c.id', '=', id)).executeTakeFirst();
  return row ? customerOf(row) : undefined;
}

/** Distinct addresses of live customers (the reports' location filter). */
export async function distinctAddresses(db: Executor): Promise<string[]> {
  const rows = await live(db)
    .select('c.alamat')
    .distinct()
    .where('c.alamat', 'is not', null)
    .orderBy('c.alamat')
    .execute();
  return rows.flatMap((r) => (r.alamat ? [r.alamat] : []));
}

export async function insertCustomer(db: Executor, v: CustomerFields, now: Date): Promise<number> {
  const row = await db
    .insertInto('billing_customers')
    .values({ ...v, created_at: now, updated_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function updateCustomer(db: Executor, id: number, v: Partial<CustomerFields>, now: Date): Promise<void> {
  await db
    .updateTable('billing_customers')
    .set({ ...v, updated_at: now })
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .execute();
}

export async function softDeleteCustomer(db: Executor, id: number, now: Date): Promise<void> {
  await db
    .updateTable('billing_customers')
    .set({ deleted_at: now, updated_at: now, status: 'Berhenti' })
    .where('id', '=', id)
    .execute();
}

export async function anyWithBrand(db: Executor, idBrand: string): Promise<boolean> {
  const row = await db
    .selectFrom('billing_customers')
    .select('id')
    .where('id_brand', '=', idBrand)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export async function anyWithPackage(db: Executor, packageId: number): Promise<boolean> {
  const row = await db
    .selectFrom('billing_customers')
    .select('id')
    .where('paket_layanan_id', '=', packageId)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
