// Brands: the billing rules of a product line (CONTRACTS §4), CRUD for billing admins (level 50), readable by
// every billing user. Served at `/api/brands/` and, for the original web frontend, at `/api/harga_layanan/`
// (the same rows; lists are bare arrays with `X-Total-Count`).

import { Type } from 'typebox';
import type { Core } from '../../../core/context.ts';
import { resource } from '../../../core/http/resource.ts';
import type { Router } from '../../../core/http/route.ts';
import { BILLING_LIMITS } from '../limits.ts';
import * as repo from '../repo/brands.ts';
import { BrandCreate, BrandParams, BrandSchema, BrandUpdate, ListQuery } from '../schemas.ts';
import { deleteBrand } from '../use-cases/catalogue.ts';
import { bareArray, clampLimit } from './lists.ts';

const same = <T>(row: T) => row;

export function registerBrandRoutes(router: Router, core: Core): void {
  const { now } = core;
  for (const base of ['/api/brands', '/api/harga_layanan']) {
    resource(router, {
      db: core.database.db,
      now,
      collection: `${base}/`,
      item: `${base}/:id_brand`,
      params: BrandParams,
      idOf: (p) => p.id_brand.trim(),
      access: { read: { level: 1 }, write: { level: 50 } },
      limits: [BILLING_LIMITS.general],
      audit: 'billing.brand',
      notFound: 'Brand not found',
      find: repo.getBrand,
      rowId: (b) => b.id_brand,
      list: {
        summary: 'List brands (a bare array; the total is in X-Total-Count)',
        query: ListQuery,
        response: Type.Array(BrandSchema),
        run: async (db, q, _req, reply) => bareArray(reply, await repo.listBrands(db, q.skip, clampLimit(q.limit))),
      },
      get: { summary: 'One brand', response: BrandSchema, reply: same },
      create: {
        summary: 'Create a brand with its billing rules (due day, generation lead, grace days, PPN, isolation profile)',
        body: BrandCreate,
        response: BrandSchema,
        run: (trx, v) =>
          repo.insertBrand(
            trx,
            {
              id_brand: v.id_brand.trim(),
              brand: v.brand.trim(),
              pajak: v.pajak ?? 0,
              xendit_key_name: v.xendit_key_name ?? null,
              due_day: v.due_day ?? 10,
              invoice_days_before: v.invoice_days_before ?? 5,
              grace_days: v.grace_days ?? 5,
              isolation_profile: v.isolation_profile ?? 'ISOLIR',
            },
            now(),
          ),
        reply: same,
      },
      update: {
        summary: 'Change a brand (fields left out stay as they are)',
        method: 'PATCH',
        body: BrandUpdate,
        response: BrandSchema,
        run: (trx, id, v) => repo.updateBrand(trx, id, { ...v, ...(v.brand ? { brand: v.brand.trim() } : {}) }, now()),
        reply: same,
      },
      remove: {
        summary: 'Delete a brand (409 while packages or customers use it)',
        status: 204,
        response: Type.Null(),
        errors: [409],
        run: async (trx, id, before) => {
          await deleteBrand(trx, id);
          return { row: before, outcome: 'deleted' };
        },
        reply: () => null,
      },
    });
  }
}
