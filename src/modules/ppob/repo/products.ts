// SQL on the product catalogue. Every function takes the handle it runs on.
import type { Executor } from '../../../core/db/tables.ts';

export interface ProductInput {
  kode_produk: string;
  nama: string;
  harga: number;
  deskripsi?: string | null;
  plp?: string | null;
  plp_nomor?: string | null;
  provider_sku?: string | null;
  kategori?: string | null;
  brand?: string | null;
  aktif?: boolean;
}

export const activeProducts = (db: Executor) =>
  db.selectFrom('ppob_products').selectAll().where('aktif', '=', true).orderBy('id').execute();

export const allProducts = (db: Executor) => db.selectFrom('ppob_products').selectAll().orderBy('id').execute();

export const findProduct = (db: Executor, id: number) =>
  db.selectFrom('ppob_products').selectAll().where('id', '=', id).executeTakeFirst();

export const anyProduct = (db: Executor) => db.selectFrom('ppob_products').select('id').limit(1).executeTakeFirst();

export const providerSkuOf = async (db: Executor, id: number) =>
  (await db.selectFrom('ppob_products').select('provider_sku').where('id', '=', id).executeTakeFirst())?.provider_sku;

/** Every product, locked for the caller's transaction without a key lock (purchases referencing one still go on). */
export const lockAllProducts = (trx: Executor) =>
  trx.selectFrom('ppob_products').selectAll().forNoKeyUpdate().execute();

export const insertProduct = (db: Executor, v: ProductInput, now: Date) =>
  db
    .insertInto('ppob_products')
    .values({ ...v, updated_at: now })
    .returningAll()
    .executeTakeFirstOrThrow();

export const updateProduct = (db: Executor, id: number, v: Partial<ProductInput>, now: Date) =>
  db
    .updateTable('ppob_products')
    .set({ ...v, updated_at: now })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();

export const deleteProduct = (db: Executor, id: number) =>
  db.deleteFrom('ppob_products').where('id', '=', id).execute();

/** Whether any purchase ever referenced the product. */
export const wasSold = async (db: Executor, id: number) =>
  (await db.selectFrom('ppob_transactions').select('id').where('produk_id', '=', id).limit(1).executeTakeFirst()) !==
  undefined;
