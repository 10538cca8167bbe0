// PPOB administration (level 50 in `ppob`), in the platform's envelope: the product catalogue (one resource),
// the provider price-list sync, and ledgered balance adjustments.
import { Type } from 'typebox';
import { originOf } from '../../../core/audit/audit.ts';
import { platformEnvelope } from '../../../core/http/envelopes.ts';
import { AppError } from '../../../core/http/errors.ts';
import { resource } from '../../../core/http/resource.ts';
import type { Router } from '../../../core/http/route.ts';
import { allProducts, findProduct } from '../repo/products.ts';
import {
  Adjustment,
  AdjustmentView,
  AdminProduct,
  ProductCreate,
  ProductIdParams,
  ProductUpdate,
  SyncQuery,
  SyncSummary,
} from '../schemas.ts';
import { adjustBalance } from '../use-cases/adjust-balance.ts';
import { syncPriceList } from '../use-cases/price-sync.ts';
import { createProduct, PRODUCT_NOT_FOUND, removeProduct, updateProduct } from '../use-cases/products.ts';
import type { PpobDeps } from '../wire.ts';

const admin = { level: 50 } as const;
const tags = ['ppob admin'];
const same = <T>(row: T) => row;

export function registerAdminRoutes(router: Router, d: PpobDeps) {
  const { db, now } = d;

  resource(router, {
    db,
    envelope: platformEnvelope,
    now,
    collection: '/api/admin/ppob/products',
    item: '/api/admin/ppob/products/:id',
    params: ProductIdParams,
    idOf: (p) => p.id,
    access: { read: admin, write: admin },
    tags,
    audit: 'ppob.product',
    notFound: PRODUCT_NOT_FOUND,
    find: findProduct,
    rowId: (p) => p.id,
    changed: () => d.catalogue.changed(),
    list: {
      summary: 'All products, inactive included',
      response: Type.Array(AdminProduct),
      run: (db) => allProducts(db),
    },
    create: {
      summary: 'Create a product (kode_produk unique)',
      body: ProductCreate,
      response: AdminProduct,
      run: (trx, v) => createProduct(trx, v, now()),
      reply: same,
    },
    update: {
      summary: 'Change a product',
      method: 'PATCH',
      body: ProductUpdate,
      response: AdminProduct,
      run: (trx, id, v) => updateProduct(trx, id, v, now()),
      reply: same,
    },
    remove: {
      summary: 'Delete a product (one that was ever sold is deactivated instead)',
      response: Type.Object({ result: Type.String() }),
      run: (trx, id, before) => removeProduct(trx, id, before, now()),
      reply: (r) => ({ result: r.outcome }),
    },
  });

  router.post(
    '/api/admin/ppob/products/sync',
    {
      auth: admin,
      envelope: platformEnvelope,
      errors: [502],
      schema: {
        tags,
        summary:
          "Bring the provider's price list into the catalogue (also runs every hour with Digiflazz); retires products only after a complete listing",
        querystring: SyncQuery,
        response: { 200: SyncSummary },
      },
    },
    async (req) => {
      try {
        return await syncPriceList(d, req.auth.accountId, originOf(req), {
          dryRun: req.query.dry_run,
          force: req.query.force,
        });
      } catch (err) {
        if (err instanceof AppError) throw err;
        req.log.warn({ err }, 'price list sync failed');
        throw new AppError('EXTERNAL_SERVICE_ERROR', 'The provider did not give its price list; try again later');
      }
    },
  );

  router.post(
    '/api/admin/ppob/balance-adjustments',
    {
      auth: admin,
      envelope: platformEnvelope,
      errors: [400, 404],
      schema: {
        tags,
        summary: 'Credit or debit a reseller balance (ledgered and audited; never below zero)',
        body: Adjustment,
        response: { 201: AdjustmentView },
      },
    },
    async (req, reply) => reply.code(201).send(await adjustBalance(d, req.body, req.auth.accountId, originOf(req))),
  );
}
