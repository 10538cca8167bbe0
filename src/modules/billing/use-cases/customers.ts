// Customers: the brand must exist, the package is named by id (`paket_layanan_id`) or by name (`layanan`, matched
// within the brand) and must belong to the customer's brand; phone numbers are stored as 08…; both spellings of the
// installation date are read. Every problem is a 422 naming its field, and nothing is written.
import { cacheStore, freshRead, versioned } from '../../../core/cache.ts';
import type { Core } from '../../../core/context.ts';
import type { Executor } from '../../../core/db/tables.ts';
import { AppError, type FieldErrors } from '../../../core/http/errors.ts';
import { nationalPhone } from '../../../core/phone.ts';
import * as brands from '../repo/brands.ts';
import * as customers from '../repo/customers.ts';
import * as packages from '../repo/packages.ts';

export interface CustomerInput {
  nama?: string;
  email?: string | null;
  no_telp?: string | null;
  no_ktp?: string | null;
  alamat?: string | null;
  alamat_2?: string | null;
  blok?: string | null;
  unit?: string | null;
  tanggal_instalasi?: string | null;
  tgl_instalasi?: string | null;
  id_brand?: string | null;
  paket_layanan_id?: number | null;
  layanan?: string | null;
  status?: customers.CustomerStatus;
}

const invalid = (details: FieldErrors) => new AppError('VALIDATION_ERROR', 'Validation failed', { details });
const text = (v: string | null | undefined) => (v === undefined ? undefined : v === null ? null : v.trim() || null);

/**
 * Where the catalogue rules look brands and packages up. A request reads the database directly; an import reads
 * through `cachedCatalogue`, so thousands of rows naming the same few packages cost a few queries.
 */
export interface Catalogue {
  brandExists(idBrand: string): Promise<boolean>;
  packageById(id: number): Promise<packages.Package | undefined>;
  packagesByName(name: string, idBrand: string | null | undefined): Promise<packages.Package[]>;
}

export const dbCatalogue = (trx: Executor): Catalogue => ({
  brandExists: async (idBrand) => (await brands.getBrand(trx, idBrand)) !== undefined,
  packageById: (id) => packages.getPackage(trx, id),
  packagesByName: (name, idBrand) => packages.packageByName(trx, name, idBrand),
});

/** The same answers, each asked once (for the length of one import, inside its transaction). */
export function cachedCatalogue(inner: Catalogue): Catalogue {
  const memo = new Map<string, Promise<unknown>>();
  const once = <T>(key: string, ask: () => Promise<T>): Promise<T> => {
    let hit = memo.get(key) as Promise<T> | undefined;
    if (!hit) {
      hit = ask();
      memo.set(key, hit);
    }
    return hit;
  };
  return {
    brandExists: (idBrand) => once(`b\0${idBrand}`, () => inner.brandExists(idBrand)),
    packageById: (id) => once(`i\0${id}`, () => inner.packageById(id)),
    packagesByName: (name, idBrand) =>
      once(`n\0${name.trim().toLowerCase()}\0${idBrand ?? ''}`, () => inner.packagesByName(name, idBrand)),
  };
}

/**
 * The one check of a customer's values (JSON create and update, and every CSV import row): the columns the change
 * writes, or the problems per field. `current` is the row being changed (absent for a new customer).
 */
export async function checkCustomer(
  catalogue: Catalogue,
  v: CustomerInput,
  current: customers.CustomerRow | undefined,
): Promise<{ fields: Partial<customers.CustomerFields>; problems: FieldErrors | undefined }> {
  const out: Partial<customers.CustomerFields> = {};
  const problems: FieldErrors = {};
  if (v.nama !== undefined) out.nama = v.nama.trim();
  for (const key of ['email', 'no_ktp', 'alamat', 'alamat_2', 'blok', 'unit'] as const) {
    const value = text(v[key]);
    if (value !== undefined) out[key] = value;
  }
  if (v.no_telp !== undefined) {
    if (v.no_telp === null || v.no_telp.trim() === '') out.no_telp = null;
    else {
      const phone = nationalPhone(v.no_telp);
      if (phone) out.no_telp = phone;
      else problems.no_telp = ['must be an Indonesian mobile number (08…, 628… or +628…)'];
    }
  }
  // Both spellings in one change (the original frontend sends back the whole row it read, with its own names
  // edited): the one that differs from the stored value is the edit.
  const echoed = (given: unknown, stored: unknown) => current !== undefined && given === stored;
  const installed =
    v.tanggal_instalasi !== undefined &&
    !(v.tgl_instalasi !== undefined && echoed(v.tanggal_instalasi, current?.tanggal_instalasi))
      ? v.tanggal_instalasi
      : v.tgl_instalasi;
  if (installed !== undefined) out.tanggal_instalasi = installed;
  if (v.status !== undefined) out.status = v.status;

  let idBrand = v.id_brand === undefined ? current?.id_brand : text(v.id_brand);
  if (v.id_brand !== undefined) {
    if (idBrand && !(await catalogue.brandExists(idBrand))) problems.id_brand = ['brand does not exist'];
    out.id_brand = idBrand ?? null;
  }
  let pkg: packages.Package | undefined;
  const byName = v.layanan !== undefined && v.layanan !== null && v.layanan.trim() !== '';
  if (
    v.paket_layanan_id !== undefined &&
    v.paket_layanan_id !== null &&
    !(byName && echoed(v.paket_layanan_id, current?.paket_layanan_id))
  ) {
    pkg = await catalogue.packageById(v.paket_layanan_id);
    if (!pkg) problems.paket_layanan_id = ['package does not exist'];
  } else if (byName) {
    const found = await catalogue.packagesByName(v.layanan as string, idBrand);
    if (found.length === 1) pkg = found[0];
    else if (found.length === 0) problems.layanan = ['no package with this name'];
    else problems.layanan = ['several brands have a package with this name; give id_brand'];
  }
  if (v.paket_layanan_id === null || v.layanan === null) out.paket_layanan_id = null;
  if (pkg) {
    out.paket_layanan_id = pkg.id;
    if (!idBrand) {
      idBrand = pkg.id_brand;
      out.id_brand = idBrand;
    } else if (idBrand !== pkg.id_brand && !problems.id_brand) {
      problems[v.paket_layanan_id ? 'paket_layanan_id' : 'layanan'] = [`package belongs to brand ${pkg.id_brand}`];
    }
  } else if (v.id_brand !== undefined && current?.paket_layanan_id && !problems.id_brand) {
    // A brand change keeps the package only when the package belongs to the new brand.
    const kept = await catalogue.packageById(current.paket_layanan_id);
    if (kept && kept.id_brand !== idBrand) problems.id_brand = [`the customer's package belongs to ${kept.id_brand}`];
  }
  return { fields: out, problems: Object.keys(problems).length > 0 ? problems : undefined };
}

/** A new customer's columns: the checked values over the defaults. */
export const newCustomerFields = (
  nama: string,
  fields: Partial<customers.CustomerFields>,
): customers.CustomerFields => ({
  nama: nama.trim(),
  email: null,
  no_telp: null,
  no_ktp: null,
  alamat: null,
  alamat_2: null,
  blok: null,
  unit: null,
  tanggal_instalasi: null,
  id_brand: null,
  paket_layanan_id: null,
  status: 'Aktif',
  ...fields,
});

async function resolve(trx: Executor, v: CustomerInput, current: customers.CustomerRow | undefined) {
  const { fields, problems } = await checkCustomer(dbCatalogue(trx), v, current);
  if (problems) throw invalid(problems);
  return fields;
}

export async function createCustomer(trx: Executor, v: CustomerInput & { nama: string }, now: Date) {
  const fields = await resolve(trx, v, undefined);
  const id = await customers.insertCustomer(trx, newCustomerFields(v.nama, fields), now);
  return mustGet(trx, id);
}

export async function updateCustomer(
  trx: Executor,
  id: number,
  v: CustomerInput,
  before: customers.CustomerRow,
  now: Date,
) {
  const fields = await resolve(trx, v, before);
  if (Object.keys(fields).length > 0) await customers.updateCustomer(trx, id, fields, now);
  return mustGet(trx, id);
}

export async function mustGet(trx: Executor, id: number): Promise<customers.Customer> {
  const c = await customers.getCustomer(trx, id);
  if (!c) throw new AppError('NOT_FOUND', 'Customer not found');
  return c;
}

// ---- the list, cached per query ------------------------------------------------------------------------------------

/**
 * How long a cached page or count is kept at most. It is only ever served under its own version, so this bounds
 * memory, not staleness: at one minute every search an operator repeated after a pause paid its exact count again
 * (a frequent name's count reads thousands of rows), which put 0.1–0.2 s into the benchmark's p99 each minute.
 */
export const LIST_CACHE_TTL_MS = 10 * 60_000;

type Page = { rows: customers.Customer[]; total: number };

/** A page read back from Redis (JSON): its timestamps become dates again. */
function revivePage(raw: unknown): Page {
  const p = raw as Page;
  return {
    total: p.total,
    rows: p.rows.map((r) => ({ ...r, created_at: new Date(r.created_at), updated_at: new Date(r.updated_at) })),
  };
}

/**
 * `/api/pelanggan/`'s pages and exact totals, cached per query under the version of what a list shows
 * (migrations/0064: it moves with every write of a customer, package or brand, never with invoices), in Redis when
 * there is one so every instance shares them. A request reads the version (one cheap statement, shared by the
 * requests that arrive while it runs: `freshRead`) and is answered from the cache when a page was kept under it;
 * else it reads the database, and keeps the result only when every writer counted in that version had ended before
 * the read (`settledListVersion`), so a page read while a customer's write was still committing is never kept under
 * the version that write took. A write on any instance moves the version in the database, so the next list on every
 * instance reads again.
 */
export function customerList(core: Pick<Core, 'database' | 'redis' | 'config'>) {
  const { db } = core.database;
  const store = cacheStore(core.redis, `${core.config.redisPrefix}cache:billing:pelanggan:`);
  // A page of 15 customers is about 20 kB of objects: at most 500 pages (~10 MB) stay in the process (the route
  // keeps its answers' text besides).
  const pages = versioned<Page>({ store, ttlMs: LIST_CACHE_TTL_MS, maxLocal: 500, revive: revivePage });
  const counts = versioned<number>({ store, ttlMs: LIST_CACHE_TTL_MS });
  return {
    /** The list's version now (a read that started after this call). */
    version: freshRead(() => customers.listVersion(db)),
    /** One page under `version`, and whether what is derived from it may be kept under that version too. */
    page: (f: customers.CustomerFilter, version: string): Promise<{ value: Page; keep: boolean }> =>
      pages.lookup(`page:${JSON.stringify(f)}`, version, async () => {
        const check = await customers.settledListVersion(db);
        const keep = check.settled && check.version === version;
        const count = (filters: Omit<customers.CustomerFilter, 'skip' | 'limit'>) =>
          counts.get(`count:${JSON.stringify(filters)}`, version, async () => ({
            value: await customers.countCustomers(db, filters),
            keep,
          }));
        return { value: await customers.listCustomers(db, f, count), keep };
      }),
  };
}
