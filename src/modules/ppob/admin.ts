// PPOB administration (level 50 in `ppob`): the product catalogue and ledgered balance adjustments.
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { originOf } from '../../core/audit/audit.ts';
import type { Core } from '../../core/context.ts';
import { errorResponses, platformEnvelope } from '../../core/http/envelopes.ts';
import { AppError } from '../../core/http/errors.ts';
import type { PpobService, ProductInput } from './service.ts';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));
const fields = {
  nama: Type.String({ minLength: 1, maxLength: 50 }),
  harga: Type.Integer({ minimum: 1, maximum: 100_000_000 }),
  deskripsi: Nullable(Type.String({ maxLength: 2000 })),
  plp: Nullable(Type.String({ maxLength: 20 })),
  plp_nomor: Nullable(Type.String({ maxLength: 20 })),
  provider_sku: Nullable(Type.String({ maxLength: 50 })),
  kategori: Nullable(Type.String({ maxLength: 50 })),
  brand: Nullable(Type.String({ maxLength: 50 })),
  aktif: Type.Optional(Type.Boolean()),
};
const KodeProduk = Type.String({ minLength: 1, maxLength: 20, pattern: '^[A-Za-z0-9_.-]+$' });
const ProductCreate = Type.Object({ kode_produk: KodeProduk, ...fields }, { additionalProperties: false });
const ProductUpdate = Type.Partial(Type.Object({ kode_produk: KodeProduk, ...fields }), {
  additionalProperties: false,
  minProperties: 1,
});
const Product = Type.Object(
  {
    id: Type.Integer(),
    kode_produk: Type.String(),
    nama: Type.String(),
    harga: Type.Integer(),
    aktif: Type.Boolean(),
  },
  { additionalProperties: true },
);
const Adjustment = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: 320 }),
    amount: Type.Integer({ minimum: -100_000_000, maximum: 100_000_000, not: { const: 0 } }),
    reason: Type.String({ minLength: 3, maxLength: 500 }),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) });

export function registerPpobAdminRoutes(app: FastifyInstance, core: Core, service: PpobService) {
  const admin = core.identity.guards.bearer('ppob', 50);
  const base = { tags: ['ppob admin'], security: [{ bearer: [] }] };
  const errors = (...c: number[]) => errorResponses(platformEnvelope, c);

  app.get(
    '/api/admin/ppob/products',
    {
      onRequest: [admin],
      schema: {
        ...base,
        summary: 'All products, inactive included',
        response: { 200: Type.Array(Product), ...errors(401, 403) },
      },
    },
    async () => service.listAllProducts(),
  );
  app.post(
    '/api/admin/ppob/products',
    {
      onRequest: [admin],
      schema: {
        ...base,
        summary: 'Create a product (kode_produk unique)',
        body: ProductCreate,
        response: { 201: Product, ...errors(401, 403, 409, 422) },
      },
    },
    async (req, reply) => {
      const p = await service.createProduct(req.body as ProductInput, req.auth!.accountId, originOf(req));
      return reply.code(201).send(p);
    },
  );
  app.patch(
    '/api/admin/ppob/products/:id',
    {
      onRequest: [admin],
      schema: {
        ...base,
        summary: 'Change a product',
        params: IdParams,
        body: ProductUpdate,
        response: { 200: Product, ...errors(401, 403, 404, 409, 422) },
      },
    },
    async (req) =>
      service.updateProduct(
        (req.params as { id: number }).id,
        req.body as Partial<ProductInput>,
        req.auth!.accountId,
        originOf(req),
      ),
  );
  app.delete(
    '/api/admin/ppob/products/:id',
    {
      onRequest: [admin],
      schema: {
        ...base,
        summary: 'Delete a product (one that was ever sold is deactivated instead)',
        params: IdParams,
        response: { 200: Type.Object({ result: Type.String() }), ...errors(401, 403, 404) },
      },
    },
    async (req) => ({
      result: await service.deleteProduct((req.params as { id: number }).id, req.auth!.accountId, originOf(req)),
    }),
  );
  app.post(
    '/api/admin/ppob/products/sync',
    {
      onRequest: [admin],
      schema: {
        ...base,
        summary: "Bring the provider's price list into the catalogue (also runs every hour with Digiflazz)",
        response: {
          200: Type.Object({
            listed: Type.Integer(),
            skipped: Type.Integer(),
            created: Type.Integer(),
            updated: Type.Integer(),
            deactivated: Type.Integer(),
          }),
          ...errors(401, 403, 502),
        },
      },
    },
    async (req) => {
      try {
        return await service.syncPriceList(req.auth!.accountId, originOf(req));
      } catch (err) {
        if (err instanceof AppError) throw err;
        req.log.warn({ err }, 'price list sync failed');
        throw new AppError('EXTERNAL_SERVICE_ERROR', 'The provider did not give its price list; try again later');
      }
    },
  );
  app.post(
    '/api/admin/ppob/balance-adjustments',
    {
      onRequest: [admin],
      schema: {
        ...base,
        summary: 'Credit or debit a reseller balance (ledgered and audited; never below zero)',
        body: Adjustment,
        response: {
          201: Type.Object({
            reference: Type.String(),
            email: Type.Union([Type.String(), Type.Null()]),
            amount: Type.Integer(),
            saldo: Type.Integer(),
          }),
          ...errors(400, 401, 403, 404, 422),
        },
      },
    },
    async (req, reply) => {
      const r = await service.adjustBalance(req.body as Static<typeof Adjustment>, req.auth!.accountId, originOf(req));
      return reply.code(201).send(r);
    },
  );
}
