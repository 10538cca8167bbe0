// The catalogue as admins change it (level 50): run by the resource helper in its transaction, with its activity
// entry; every change drops the catalogue cache on every instance once committed. A product that was ever sold is
// deactivated instead of deleted, so history keeps its name.
import type { Executor } from '../../../core/db/tables.ts';
import { AppError } from '../../../core/http/errors.ts';
import * as products from '../repo/products.ts';
import type { Product } from '../repo/tables.ts';

export const PRODUCT_NOT_FOUND = 'Produk tidak ditemukan';

export const createProduct = (trx: Executor, v: products.ProductInput, now: Date) =>
  products.insertProduct(trx, v, now);

export async function updateProduct(trx: Executor, id: number, v: Partial<products.ProductInput>, now: Date) {
  const p = await products.updateProduct(trx, id, v, now);
  if (!p) throw new AppError('NOT_FOUND', PRODUCT_NOT_FOUND);
  return p;
}

export async function removeProduct(
  trx: Executor,
  id: number,
  before: Product,
  now: Date,
): Promise<{ row: Product; outcome: 'deleted' | 'deactivated' }> {
  if (await products.wasSold(trx, id)) {
    return { row: (await products.updateProduct(trx, id, { aktif: false }, now)) ?? before, outcome: 'deactivated' };
  }
  await products.deleteProduct(trx, id);
  return { row: before, outcome: 'deleted' };
}
