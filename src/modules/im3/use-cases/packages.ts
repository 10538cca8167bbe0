// The package catalogue: users list it; admins add, change and delete packages (through the resource helper, which
// runs each change in one transaction with its activity entry). pvr_code is unique; a package that has purchases
// stays.
import type { Executor } from '../../../core/db/tables.ts';
import { AppError } from '../../../core/http/errors.ts';
import * as repo from '../repo.ts';
import { packageView } from '../views.ts';
import { isUniqueViolation } from './common.ts';

const duplicate = () => new AppError('CONFLICT', 'A package with this pvr_code already exists');
export const packageNotFound = () => new AppError('PACKAGE_NOT_FOUND', 'Package not found');

export async function listPackages(db: Executor) {
  return (await repo.listPackages(db)).map(packageView);
}

export async function getPackage(db: Executor, id: number) {
  const p = await repo.findPackage(db, id);
  if (!p) throw packageNotFound();
  return packageView(p);
}

export async function createPackage(trx: Executor, fields: repo.PackageFields, at: Date): Promise<repo.Package> {
  try {
    return await repo.insertPackage(trx, fields, at);
  } catch (err) {
    if (isUniqueViolation(err)) throw duplicate();
    throw err;
  }
}

export async function updatePackage(
  trx: Executor,
  id: number,
  fields: Partial<repo.PackageFields>,
  at: Date,
): Promise<repo.Package> {
  let p: repo.Package | undefined;
  try {
    p = await repo.updatePackage(trx, id, fields, at);
  } catch (err) {
    if (isUniqueViolation(err)) throw duplicate();
    throw err;
  }
  if (!p) throw packageNotFound();
  return p;
}

export async function deletePackage(trx: Executor, id: number): Promise<void> {
  if (await repo.packageInUse(trx, id)) {
    throw new AppError('CONFLICT', 'This package has purchases; it cannot be deleted');
  }
  await repo.deletePackage(trx, id);
}
