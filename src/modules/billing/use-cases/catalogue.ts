// Brands and packages: a package belongs to an existing brand (422 naming the field otherwise), names are trimmed,
// and neither is deleted while something still uses it (409 with a message; customers keep their history).
import type { Executor } from '../../../core/db/tables.ts';
import { AppError } from '../../../core/http/errors.ts';
import * as brands from '../repo/brands.ts';
import * as customers from '../repo/customers.ts';
import * as packages from '../repo/packages.ts';

async function mustHaveBrand(trx: Executor, idBrand: string): Promise<void> {
  if (!(await brands.getBrand(trx, idBrand))) {
    throw new AppError('VALIDATION_ERROR', 'Validation failed', { details: { id_brand: ['brand does not exist'] } });
  }
}

export async function deleteBrand(trx: Executor, idBrand: string): Promise<void> {
  if ((await packages.listPackages(trx, { idBrand, skip: 0, limit: 1 })).total > 0) {
    throw new AppError('CONFLICT', 'Brand still has packages; move or delete them first');
  }
  if (await customers.anyWithBrand(trx, idBrand)) {
    throw new AppError('CONFLICT', 'Brand still has customers; move them first');
  }
  await brands.deleteBrand(trx, idBrand);
}

export async function createPackage(
  trx: Executor,
  v: { id_brand: string; nama_paket: string; kecepatan: number; harga: number; profile_pppoe?: string | null },
  now: Date,
): Promise<packages.Package> {
  const idBrand = v.id_brand.trim();
  await mustHaveBrand(trx, idBrand);
  return packages.insertPackage(
    trx,
    {
      id_brand: idBrand,
      nama_paket: v.nama_paket.trim(),
      kecepatan: v.kecepatan,
      harga: v.harga,
      profile_pppoe: v.profile_pppoe ?? null,
    },
    now,
  );
}

export async function updatePackage(
  trx: Executor,
  id: number,
  v: Partial<{ id_brand: string; nama_paket: string; kecepatan: number; harga: number; profile_pppoe: string | null }>,
  now: Date,
): Promise<packages.Package> {
  const fields = { ...v };
  if (v.id_brand !== undefined) {
    fields.id_brand = v.id_brand.trim();
    await mustHaveBrand(trx, fields.id_brand);
  }
  if (v.nama_paket !== undefined) fields.nama_paket = v.nama_paket.trim();
  return packages.updatePackage(trx, id, fields, now);
}

export async function deletePackage(trx: Executor, id: number): Promise<void> {
  if (await customers.anyWithPackage(trx, id)) {
    throw new AppError('CONFLICT', 'Package is still used by customers; move them to another package first');
  }
  await packages.deletePackage(trx, id);
}
