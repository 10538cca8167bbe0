// Packages on sale and the caller's purchases: list the catalogue (both spellings), buy (`{"package_id"}` or the id
// in the path; 202, the purchase runs in the background), follow and cancel a purchase.
import { Type } from 'typebox';
import { AppError } from '../../../core/http/errors.ts';
import type { Router } from '../../../core/http/route.ts';
import { im3Ok, im3OkSchema } from '../envelope.ts';
import { IM3_LIMITS } from '../limits.ts';
import { IdParams, PackageSchema, Paging, Purchase, PurchaseResult, TransactionSchema } from '../schemas.ts';
import { getPackage, listPackages } from '../use-cases/packages.ts';
import { purchase } from '../use-cases/purchase.ts';
import { cancelMyTransaction, getMyTransaction, listMyTransactions } from '../use-cases/transactions.ts';
import type { Im3Deps } from '../wire.ts';

const USER = { level: 1 };
const PROCESSING = 'Transaction is being processed';

export function registerPackageRoutes(router: Router, deps: Im3Deps): void {
  const limits = [IM3_LIMITS.packages];

  for (const url of ['/api/packages/packages', '/api/packages/']) {
    router.get(
      url,
      {
        auth: USER,
        limits,
        schema: { summary: 'Packages on sale', response: { 200: im3OkSchema(Type.Array(PackageSchema)) } },
      },
      async (req) => {
        const items = await listPackages(deps.db);
        return im3Ok(String(req.id), items, 'Packages retrieved', { total: items.length });
      },
    );
  }

  // The original frontend reads one package by its id (`GET /api/packages/{id}`). As the original's integer route, a
  // path that is not a number is no route at all (404 NOT_FOUND), not a validation error.
  router.get(
    '/api/packages/:id',
    {
      auth: USER,
      limits,
      errors: [404],
      schema: {
        summary: 'One package on sale',
        params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
        response: { 200: im3OkSchema(PackageSchema) },
      },
    },
    async (req) => {
      const id = /^[1-9][0-9]{0,9}$/.test(req.params.id) ? Number(req.params.id) : 0;
      if (id < 1 || id > 2_147_483_647) throw new AppError('NOT_FOUND', `No route for GET ${req.url.split('?')[0]}`);
      return im3Ok(String(req.id), await getPackage(deps.db, id), 'Package retrieved');
    },
  );

  const purchaseErrors = [404, 409, 422];
  const purchaseResponse = { 202: im3OkSchema(PurchaseResult) };
  router.post(
    '/api/packages/packages/purchase',
    {
      auth: USER,
      limits,
      errors: purchaseErrors,
      schema: {
        summary: 'Buy a package (`{"package_id"}`); the purchase runs in the background',
        body: Purchase,
        response: purchaseResponse,
      },
    },
    async (req, reply) => {
      const result = await purchase(deps, req.auth.accountId, req.body.package_id);
      return reply.code(202).send(im3Ok(String(req.id), result, PROCESSING));
    },
  );
  router.post(
    '/api/packages/:id/purchase',
    {
      auth: USER,
      limits,
      errors: purchaseErrors,
      schema: { summary: 'Buy a package (id in the path)', params: IdParams, response: purchaseResponse },
    },
    async (req, reply) => {
      const result = await purchase(deps, req.auth.accountId, req.params.id);
      return reply.code(202).send(im3Ok(String(req.id), result, PROCESSING));
    },
  );

  router.get(
    '/api/packages/transactions',
    {
      auth: USER,
      limits,
      schema: {
        summary: 'My purchases, newest first',
        querystring: Paging,
        response: { 200: im3OkSchema(Type.Array(TransactionSchema)) },
      },
    },
    async (req) => {
      const { items, meta } = await listMyTransactions(deps, req.auth.accountId, req.query.page, req.query.per_page);
      return im3Ok(String(req.id), items, 'Transactions retrieved', meta);
    },
  );

  router.get(
    '/api/packages/transactions/:id',
    {
      auth: USER,
      limits,
      errors: [404],
      schema: {
        summary: 'One of my purchases, with its status history',
        params: IdParams,
        response: { 200: im3OkSchema(TransactionSchema) },
      },
    },
    async (req) =>
      im3Ok(String(req.id), await getMyTransaction(deps, req.auth.accountId, req.params.id), 'Transaction retrieved'),
  );

  router.post(
    '/api/packages/transactions/:id/cancel',
    {
      auth: USER,
      limits,
      errors: [404, 422],
      schema: {
        summary: 'Cancel a purchase that is not final yet',
        params: IdParams,
        response: { 200: im3OkSchema(TransactionSchema) },
      },
    },
    async (req) =>
      im3Ok(
        String(req.id),
        await cancelMyTransaction(deps, req.auth.accountId, req.params.id),
        'Transaction cancelled',
      ),
  );
}
