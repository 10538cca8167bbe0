// SQL for the billing module. Every function takes the handle it runs on.
import type { Selectable } from 'kysely';
import type { Executor, Timestamp } from '../../../core/db/tables.ts';

interface BillingBrandsTable {
  id_brand: string;
  brand: string;
  pajak: string | number;
  xendit_key_name: string | null;
  due_day: number;
  invoice_days_before: number;
  grace_days: number;
  isolation_profile: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

declare module '../../../core/db/tables.ts' {
  interface Tables {
    billing_brands: BillingBrandsTable;
  }
}

export type Brand = Omit<Selectable<BillingBrandsTable>, 'pajak'> & { pajak: number };
export type BrandFields = Omit<Brand, 'id_brand' | 'created_at' | 'updated_at'>;

// numeric arrives as text from PostgreSQL; PPN is a small percentage, exact in a double.
const brandOf = (row: Selectable<BillingBrandsTable>): Brand => ({ ...row, pajak: Number(row.pajak) });

export async function listBrands(db: Executor, skip: number, limit: number): Promise<{ rows: Brand[]; total: number }> {
  const [rows, count] = await Promise.all([
    db.selectFrom('billing_brands').selectAll().orderBy('id_brand').offset(skip).limit(limit).execute(),
    db
      .selectFrom('billing_brands')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  return { rows: rows.map(brandOf), total: Number(count.n) };
}

export async function getBrand(db: Executor, id: string): Promise<Brand | undefined> {
  const row = await db.selectFrom('billing_brands').selectAll().where('id_brand', '=', id).executeTakeFirst();
  return row ? brandOf(row) : undefined;
}

export async function insertBrand(db: Executor, v: BrandFields & { id_brand: string }, now: Date): Promise<Brand> {
  const row = await db
    .insertInto('billing_brands')
    .values({ ...v, created_at: now, updated_at: now })
    .returningAll()
    .executeTakeFirstOrThrow();
  return brandOf(row);
}

export async function updateBrand(db: Executor, id: string, v: Partial<BrandFields>, now: Date): Promise<Brand> {
  const row = await db
    .updateTable('billing_brands')
    .set({ ...v, updated_at: now })
    .where('id_brand', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return brandOf(row);
}

export async function deleteBrand(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('billing_brands').where('id_brand', '=', id).execute();
}
