// The admin's package catalogue (level 50), through the one resource shape: list, get, create (201), change (PUT,
// fields left out stay), delete (409 once it has purchases); each change with its activity entry.
import { Type } from 'typebox';
import { resource } from '../../../core/http/resource.ts';
import type { Router } from '../../../core/http/route.ts';
import { im3Ok, im3OkSchema } from '../envelope.ts';
import { IM3_LIMITS } from '../limits.ts';
import * as repo from '../repo.ts';
import { IdParams, PackageBody, PackagePatch, PackageSchema } from '../schemas.ts';
import { createPackage, deletePackage, updatePackage } from '../use-cases/packages.ts';
import { packageView } from '../views.ts';
import type { Im3Deps } from '../wire.ts';

export function registerAdminRoutes(router: Router, deps: Im3Deps): void {
  const { db, now } = deps;
  const ADMIN = { level: 50 };
  const one = im3OkSchema(PackageSchema);

  resource(router, {
    db,
    now,
    collection: '/api/admin/im3/packages',
    item: '/api/admin/im3/packages/:id',
    params: IdParams,
    idOf: (p) => p.id,
    access: { read: ADMIN, write: ADMIN },
    limits: [IM3_LIMITS.other],
    tags: ['im3 admin'],
    audit: 'im3.package',
    notFound: 'Package not found',
    notFoundCode: 'PACKAGE_NOT_FOUND',
    find: repo.findPackage,
    rowId: (p) => p.id,
    list: {
      summary: 'All packages',
      response: im3OkSchema(Type.Array(PackageSchema)),
      run: async (db, _query, req) =>
        im3Ok(String(req.id), (await repo.listPackages(db)).map(packageView), 'Packages retrieved'),
    },
    get: {
      summary: 'One package',
      response: one,
      reply: (p, req) => im3Ok(String(req.id), packageView(p), 'Package retrieved'),
    },
    create: {
      summary: 'Add a package (pvr_code unique)',
      body: PackageBody,
      response: one,
      run: (trx, fields) => createPackage(trx, fields, now()),
      reply: (p, req) => im3Ok(String(req.id), packageView(p), 'Package created'),
    },
    update: {
      summary: 'Change a package (fields left out stay as they are)',
      body: PackagePatch,
      response: one,
      run: (trx, id, fields) => updatePackage(trx, id, fields, now()),
      reply: (p, req) => im3Ok(String(req.id), packageView(p), 'Package updated'),
    },
    remove: {
      summary: 'Delete a package (409 once it has purchases)',
      response: im3OkSchema(Type.Null()),
      errors: [409],
      run: async (trx, id, before) => {
        await deletePackage(trx, id);
        return { row: before, outcome: 'deleted' };
      },
      reply: (_r, req) => im3Ok(String(req.id), null, 'Package deleted'),
    },
  });
}
