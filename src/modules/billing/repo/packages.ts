// SQL for billing packages (paket_layanan). Every function takes the handle it runs on.
import type { Generated, Selectable } from 'kysely';
import type { Executor, Timestamp } from '../../../core/db/tables.ts';

interface BillingPackagesTable {
  id: Generated<number>;
  id_brand: string;
  nama_paket: string;
  kecepatan: number;
  harga: string | number;
  profile_pppoe: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

declare module '../../../core/db/tables.ts' {
  interface Tables {
    billing_packages: BillingPackagesTable;
  }
}

export type Package = Omit<Selectable<BillingPackagesTable>, 'harga'> & { harga: number };
export type PackageFields = Omit<Package, 'id' | 'created_at' | 'updated_at'>;

// bigint arrives as text from PostgreSQL; a package price is far below 2^53 rupiah.
const packageOf = (row: Selectable<BillingPackagesTable>): Package => ({ ...row, harga: Number(row.harga) });

export async function listPackages(
  db: Executor,
  f: { idBrand?: string; skip: number; limit: number },
): Promise<{ rows: Package[]; total: number }> {
  let q = db.selectFrom('billing_packages');
  if (f.idBrand !== undefined) q = q.where('id_brand', '=', f.idBrand);
  const [rows, count] = await Promise.all([
    q.selectAll().orderBy('id').offset(f.skip).limit(f.limit).execute(),
    q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows: rows.map(packageOf), total: Number(count.n) };
}

export async function getPackage(db: Executor, id: number): Promise<Package | undefined> {
  const row = await db.selectFrom('billing_packages').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? packageOf(row) : undefined;
}

/** A package by name (case-insensitive), within a brand when one is given: how CSV rows and `layanan` name one. */
export async function packageByName(db: Executor, name: string, idBrand?: string | null): Promise<Package[]> {
  let q = db
    .selectFrom('billing_packages')
    .selectAll()
    .where((eb) => eb(eb.fn('lower', ['nama_paket']), '=', name.trim().toLowerCase()));
  if (idBrand) q = q.where('id_brand', '=', idBrand);
  return (await q.orderBy('id').execute()).map(packageOf);
}

export async function insertPackage(db: Executor, v: PackageFields, now: Date): Promise<Package> {
  const row = await db
    .insertInto('billing_packages')
    .values({ ...v, created_at: now, updated_at: now })
    .returningAll()
    .executeTakeFirstOrThrow();
  return packageOf(row);
}

export async function updatePackage(db: Executor, id: number, v: Partial<PackageFields>, now: Date): Promise<Package> {
  const row = await db
    .updateTable('billing_packages')
    .set({ ...v, updated_at: now })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return packageOf(row);
}

export async function deletePackage(db: Executor, id: number): Promise<void> {
  await db.deleteFrom('billing_packages').where('id', '=', id).execute();
}
