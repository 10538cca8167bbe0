// Packages (paket_layanan): what a customer pays for, per brand (speed, monthly price, PPPoE profile). CRUD for
// billing admins (level 50), readable by every billing user; lists are bare arrays with `X-Total-Count`.
import { Type } from 'typebox';
import type { Core } from '../../../core/context.ts';
import { resource } from '../../../core/http/resource.ts';
import type { Router } from '../../../core/http/route.ts';
import { BILLING_LIMITS } from '../limits.ts';
import * as repo from '../repo/packages.ts';
import { IdParams, PackageCreate, PackageQuery, PackageSchema, PackageUpdate } from '../schemas.ts';
import { createPackage, deletePackage, updatePackage } from '../use-cases/catalogue.ts';
import { bareArray, clampLimit } from './lists.ts';

const same = <T>(row: T) => row;

export function registerPackageRoutes(router: Router, core: Core): void {
  const { now } = core;
  resource(router, {
    db: core.database.db,
    now,
    collection: '/api/paket_layanan/',
    item: '/api/paket_layanan/:id',
    params: IdParams,
    idOf: (p) => p.id,
    access: { read: { level: 1 }, write: { level: 50 } },
    limits: [BILLING_LIMITS.general],
    audit: 'billing.package',
    notFound: 'Package not found',
    find: repo.getPackage,
    rowId: (p) => p.id,
    list: {
      summary: 'List packages, optionally of one brand (a bare array; the total is in X-Total-Count)',
      query: PackageQuery,
      response: Type.Array(PackageSchema),
      run: async (db, q, _req, reply) =>
        bareArray(
          reply,
          await repo.listPackages(db, {
            idBrand: q.id_brand?.trim() || undefined,
            skip: q.skip,
            limit: clampLimit(q.limit),
          }),
        ),
    },
    get: { summary: 'One package', response: PackageSchema, reply: same },
    create: {
      summary: 'Create a package of a brand (names are unique per brand, case-insensitively)',
      body: PackageCreate,
      response: PackageSchema,
      run: (trx, v) => createPackage(trx, v, now()),
      reply: same,
    },
    update: {
      summary: 'Change a package (fields left out stay as they are)',
      method: 'PATCH',
      body: PackageUpdate,
      response: PackageSchema,
      run: (trx, id, v) => updatePackage(trx, id, v, now()),
      reply: same,
    },
    remove: {
      summary: 'Delete a package (409 while customers use it)',
      status: 204,
      response: Type.Null(),
      errors: [409],
      run: async (trx, id, before) => {
        await deletePackage(trx, id);
        return { row: before, outcome: 'deleted' };
      },
      reply: () => null,
    },
  });
}
