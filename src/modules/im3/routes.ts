// HTTP for the IM3 module: every route answers in the IM3 envelope ({success, request_id, timestamp, data,
// message, meta}; errors {success:false, …, error:{code, message, details}}), with the documented rate limits.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Static, type TSchema, Type } from 'typebox';
import { originOf } from '../../core/audit/audit.ts';
import type { Core } from '../../core/context.ts';
import { errorResponses } from '../../core/http/envelopes.ts';
import { AppError } from '../../core/http/errors.ts';
import { rateLimit } from '../../core/limits/limiter.ts';
import { im3Envelope, im3Ok, im3OkSchema } from './envelope.ts';
import { IM3_LIMITS } from './limits.ts';
import type { Im3Service } from './service.ts';

const USER = 1;
const ADMIN = 50;

const Username = Type.String({ pattern: '^[a-zA-Z0-9_]{3,80}$', description: '3-80 letters, digits or _' });
const Password = Type.String({ minLength: 8, maxLength: 256 });
const Email = Type.String({ format: 'email', maxLength: 320 });
const Id = Type.Integer({ minimum: 1, maximum: 2_147_483_647 });
const IdParams = Type.Object({ id: Id });
const Money = Type.Integer({ minimum: 1, maximum: 100_000_000 });

const Register = Type.Object({ username: Username, password: Password, email: Type.Optional(Email) });
const UpdateMe = Type.Object(
  {
    username: Type.Optional(Username),
    email: Type.Optional(Type.Union([Email, Type.Null()])),
    phone_number: Type.Optional(Type.Union([Type.String({ minLength: 6, maxLength: 20 }), Type.Null()])),
  },
  { minProperties: 1, additionalProperties: false },
);
const ChangePassword = Type.Object({
  current_password: Type.String({ minLength: 1, maxLength: 256 }),
  new_password: Password,
});
const Otp = Type.String({ pattern: '^[0-9]{4,8}$' });
const VerifyOtp = Type.Object({ code: Type.Optional(Otp), otp: Type.Optional(Otp) });
const PackageBody = Type.Object({
  pvr_code: Type.String({ minLength: 1, maxLength: 100 }),
  keyword: Type.String({ minLength: 1, maxLength: 100 }),
  discount_price: Money,
  normal_price: Money,
  package_name: Type.String({ minLength: 1, maxLength: 200 }),
});
const PackagePatch = Type.Partial(PackageBody, { minProperties: 1 });
const Purchase = Type.Object({ package_id: Id });
const Paging = Type.Object({
  page: Type.Integer({ minimum: 1, maximum: 100_000, default: 1 }),
  per_page: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
});

const PackageSchema = Type.Object({
  id: Type.Integer(),
  pvr_code: Type.String(),
  keyword: Type.String(),
  discount_price: Type.Integer(),
  normal_price: Type.Integer(),
  package_name: Type.String(),
  created_at: Type.String(),
  updated_at: Type.String(),
});
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const TransactionSchema = Type.Object({
  id: Type.Integer(),
  user_id: Type.Integer(),
  package_id: Type.Integer(),
  task_id: Type.String(),
  status: Type.String(),
  qr_code: Nullable(Type.String()),
  qr_payload: Nullable(Type.String()),
  amount: Type.Integer(),
  phone_number: Type.String(),
  package_detail: Nullable(
    Type.Object({ id: Type.Integer(), package_name: Type.String(), discount_price: Type.Integer() }),
  ),
  error_message: Nullable(Type.String()),
  status_history: Type.Optional(Type.Array(Type.Object({ status: Type.String(), at: Type.String() }))),
  created_at: Type.String(),
  updated_at: Type.String(),
});
const ProfileSchema = Type.Object({
  id: Type.Integer(),
  username: Nullable(Type.String()),
  email: Nullable(Type.String()),
  phone_number: Nullable(Type.String()),
  created_at: Type.String(),
  updated_at: Type.String(),
});
const PurchaseResult = Type.Object({
  transaction_id: Type.Integer(),
  task_id: Type.String(),
  package_detail: Type.Object({ id: Type.Integer(), package_name: Type.String(), discount_price: Type.Integer() }),
  message: Type.String(),
  status: Type.String(),
});

export function registerIm3Routes(app: FastifyInstance, core: Core, service: Im3Service) {
  const { guards } = core.identity;
  const user = guards.bearer('im3', USER);
  const admin = guards.bearer('im3', ADMIN);
  const on = core.config.rateLimits;
  const authLimit = rateLimit(core.limiter, on, IM3_LIMITS.auth);
  const operatorLimit = rateLimit(core.limiter, on, IM3_LIMITS.operator);
  const packagesLimit = rateLimit(core.limiter, on, IM3_LIMITS.packages);
  const otherLimit = rateLimit(core.limiter, on, IM3_LIMITS.other);
  const config = { envelope: im3Envelope };
  const security = [{ bearer: [] }];
  const errors = (...codes: number[]) => errorResponses(im3Envelope, codes);
  const ok = <T>(req: FastifyRequest, data: T, message: string, meta: Record<string, unknown> = {}) =>
    im3Ok(String(req.id), data, message, meta);
  const me = (req: FastifyRequest) => req.auth!.accountId;

  // ---- accounts --------------------------------------------------------------------------------------------
  app.post(
    '/api/auth/register',
    {
      config,
      onRequest: [authLimit],
      schema: {
        tags: ['im3'],
        summary: 'Register (grants IM3 user access)',
        body: Register,
        response: {
          201: im3OkSchema(Type.Object({ user_id: Type.Integer(), username: Type.String(), message: Type.String() })),
          ...errors(400, 409, 429),
        },
      },
    },
    async (req, reply) => {
      const body = req.body as Static<typeof Register>;
      const r = await service.register(body, originOf(req));
      const message = 'User registered successfully';
      return reply
        .code(201)
        .send(ok(req, { user_id: r.user_id, username: r.username ?? body.username, message }, message));
    },
  );

  app.get(
    '/api/user/me',
    {
      config,
      onRequest: [user, otherLimit],
      schema: {
        tags: ['im3'],
        summary: 'My profile',
        security,
        response: { 200: im3OkSchema(ProfileSchema), ...errors(401, 403, 404, 429) },
      },
    },
    async (req) => ok(req, await service.me(me(req)), 'Profile retrieved'),
  );

  app.put(
    '/api/user/me',
    {
      config,
      onRequest: [user, otherLimit],
      schema: {
        tags: ['im3'],
        summary: 'Change my username, e-mail or phone number (normalised to 62…)',
        security,
        body: UpdateMe,
        response: { 200: im3OkSchema(ProfileSchema), ...errors(400, 401, 403, 404, 409, 429) },
      },
    },
    async (req) =>
      ok(req, await service.updateMe(me(req), req.body as Static<typeof UpdateMe>, originOf(req)), 'Profile updated'),
  );

  for (const url of ['/api/user/me/change-password', '/api/user/change-password']) {
    app.post(
      url,
      {
        config,
        onRequest: [user, otherLimit],
        schema: {
          tags: ['im3'],
          summary: 'Change my password (other sessions end; new tokens for this one)',
          security,
          body: ChangePassword,
          response: {
            200: im3OkSchema(
              Type.Object({
                access_token: Type.String(),
                token_type: Type.String(),
                expires_in: Type.Integer(),
                refresh_token: Type.String(),
                message: Type.String(),
              }),
            ),
            ...errors(400, 401, 403, 429),
          },
        },
      },
      async (req) => {
        const body = req.body as Static<typeof ChangePassword>;
        const tokens = await service.changePassword(
          me(req),
          req.auth!.family,
          body.current_password,
          body.new_password,
          originOf(req),
        );
        const message = 'Password changed successfully';
        return ok(req, { ...tokens, message }, message);
      },
    );
  }

  // ---- operator ----------------------------------------------------------------------------------------------
  for (const method of ['GET', 'POST'] as const) {
    app.route({
      method,
      url: '/api/im3/send-otp',
      config,
      onRequest: [user, operatorLimit],
      schema: {
        tags: ['im3'],
        summary: 'Send an OTP to my phone number (through the operator)',
        security,
        response: {
          200: im3OkSchema(Type.Object({ phone_number: Type.String(), message: Type.String() })),
          ...errors(401, 403, 422, 429, 502),
        },
      },
      handler: async (req) => ok(req, await service.sendOtp(me(req)), 'OTP sent successfully'),
    });
  }

  app.post(
    '/api/im3/verify-otp',
    {
      config,
      onRequest: [user, operatorLimit],
      schema: {
        tags: ['im3'],
        summary: 'Verify the OTP (`code` or `otp`); the operator session stays on the server',
        security,
        body: VerifyOtp,
        response: {
          200: im3OkSchema(
            Type.Object({ verified: Type.Boolean(), phone_number: Type.String(), message: Type.String() }),
          ),
          ...errors(400, 401, 403, 422, 429, 502),
        },
      },
    },
    async (req) => {
      const body = req.body as Static<typeof VerifyOtp>;
      const code = body.code ?? body.otp;
      if (!code) {
        throw new AppError('VALIDATION_ERROR', 'Invalid body: code is required', {
          details: { code: ['code (or otp) is required'] },
        });
      }
      return ok(req, await service.verifyOtp(me(req), code), 'OTP verified successfully');
    },
  );

  app.get(
    '/api/im3/profile',
    {
      config,
      onRequest: [user, operatorLimit],
      schema: {
        tags: ['im3'],
        summary: 'My IM3 profile, from the operator',
        security,
        response: {
          200: im3OkSchema(
            Type.Object({
              msisdn: Type.String(),
              name: Type.String(),
              balance: Type.Number(),
              status: Type.String(),
              active_until: Nullable(Type.String()),
            }),
          ),
          ...errors(401, 403, 422, 429, 502),
        },
      },
    },
    async (req) => ok(req, await service.profile(me(req)), 'IM3 profile retrieved'),
  );

  // ---- packages ----------------------------------------------------------------------------------------------
  for (const url of ['/api/packages/packages', '/api/packages/']) {
    app.get(
      url,
      {
        config,
        onRequest: [user, packagesLimit],
        schema: {
          tags: ['im3'],
          summary: 'Packages on sale',
          security,
          response: { 200: im3OkSchema(Type.Array(PackageSchema)), ...errors(401, 403, 429) },
        },
      },
      async (req) => {
        const items = await service.listPackages();
        return ok(req, items, 'Packages retrieved', { total: items.length });
      },
    );
  }

  const purchaseSchema = {
    tags: ['im3'],
    security,
    response: { 202: im3OkSchema(PurchaseResult), ...errors(400, 401, 403, 404, 409, 422, 429) },
  };
  app.post(
    '/api/packages/packages/purchase',
    {
      config,
      onRequest: [user, packagesLimit],
      schema: {
        ...purchaseSchema,
        summary: 'Buy a package (`{"package_id"}`); the purchase runs in the background',
        body: Purchase,
      },
    },
    async (req, reply) => {
      const { package_id } = req.body as Static<typeof Purchase>;
      return reply
        .code(202)
        .send(ok(req, await service.purchase(me(req), package_id), 'Transaction is being processed'));
    },
  );
  app.post(
    '/api/packages/:id/purchase',
    {
      config,
      onRequest: [user, packagesLimit],
      schema: { ...purchaseSchema, summary: 'Buy a package (id in the path)', params: IdParams },
    },
    async (req, reply) => {
      const { id } = req.params as { id: number };
      return reply.code(202).send(ok(req, await service.purchase(me(req), id), 'Transaction is being processed'));
    },
  );

  app.get(
    '/api/packages/transactions',
    {
      config,
      onRequest: [user, packagesLimit],
      schema: {
        tags: ['im3'],
        summary: 'My purchases, newest first',
        security,
        querystring: Paging,
        response: { 200: im3OkSchema(Type.Array(TransactionSchema)), ...errors(400, 401, 403, 429) },
      },
    },
    async (req) => {
      const q = req.query as Static<typeof Paging>;
      const { items, meta } = await service.listTransactions(me(req), q.page, q.per_page);
      return ok(req, items, 'Transactions retrieved', meta);
    },
  );

  app.get(
    '/api/packages/transactions/:id',
    {
      config,
      onRequest: [user, packagesLimit],
      schema: {
        tags: ['im3'],
        summary: 'One of my purchases, with its status history',
        security,
        params: IdParams,
        response: { 200: im3OkSchema(TransactionSchema), ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (req) =>
      ok(req, await service.getTransaction(me(req), (req.params as { id: number }).id), 'Transaction retrieved'),
  );

  app.post(
    '/api/packages/transactions/:id/cancel',
    {
      config,
      onRequest: [user, packagesLimit],
      schema: {
        tags: ['im3'],
        summary: 'Cancel a purchase that is not final yet',
        security,
        params: IdParams,
        response: { 200: im3OkSchema(TransactionSchema), ...errors(400, 401, 403, 404, 422, 429) },
      },
    },
    async (req) => ok(req, await service.cancel(me(req), (req.params as { id: number }).id), 'Transaction cancelled'),
  );

  // ---- admin: packages ---------------------------------------------------------------------------------------
  const adminSchema = { tags: ['im3 admin'], security };
  app.get(
    '/api/admin/im3/packages',
    {
      config,
      onRequest: [admin, otherLimit],
      schema: {
        ...adminSchema,
        summary: 'All packages',
        response: { 200: im3OkSchema(Type.Array(PackageSchema)), ...errors(401, 403, 429) },
      },
    },
    async (req) => ok(req, await service.listPackages(), 'Packages retrieved'),
  );
  app.post(
    '/api/admin/im3/packages',
    {
      config,
      onRequest: [admin, otherLimit],
      schema: {
        ...adminSchema,
        summary: 'Add a package (pvr_code unique)',
        body: PackageBody,
        response: { 201: im3OkSchema(PackageSchema), ...errors(400, 401, 403, 409, 429) },
      },
    },
    async (req, reply) =>
      reply
        .code(201)
        .send(ok(req, await service.createPackage(req.body as Static<typeof PackageBody>), 'Package created')),
  );
  app.get(
    '/api/admin/im3/packages/:id',
    {
      config,
      onRequest: [admin, otherLimit],
      schema: {
        ...adminSchema,
        summary: 'One package',
        params: IdParams,
        response: { 200: im3OkSchema(PackageSchema), ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (req) => ok(req, await service.getPackage((req.params as { id: number }).id), 'Package retrieved'),
  );
  app.put(
    '/api/admin/im3/packages/:id',
    {
      config,
      onRequest: [admin, otherLimit],
      schema: {
        ...adminSchema,
        summary: 'Change a package (fields left out stay as they are)',
        params: IdParams,
        body: PackagePatch,
        response: { 200: im3OkSchema(PackageSchema), ...errors(400, 401, 403, 404, 409, 429) },
      },
    },
    async (req) =>
      ok(
        req,
        await service.updatePackage((req.params as { id: number }).id, req.body as Static<typeof PackagePatch>),
        'Package updated',
      ),
  );
  app.delete(
    '/api/admin/im3/packages/:id',
    {
      config,
      onRequest: [admin, otherLimit],
      schema: {
        ...adminSchema,
        summary: 'Delete a package (409 once it has purchases)',
        params: IdParams,
        response: { 200: im3OkSchema(Type.Null()), ...errors(400, 401, 403, 404, 409, 429) },
      },
    },
    async (req) => {
      await service.deletePackage((req.params as { id: number }).id);
      return ok(req, null, 'Package deleted');
    },
  );

  // ---- health ------------------------------------------------------------------------------------------------
  const Check = Type.Object({ status: Type.String(), error: Type.Optional(Type.String()) });
  app.get(
    '/api/health',
    {
      config,
      schema: {
        tags: ['im3'],
        summary: 'Health: database, Redis and job queue (503 when one fails)',
        response: {
          200: im3OkSchema(Type.Object({ status: Type.String(), checks: Type.Record(Type.String(), Check) })),
          ...errors(503),
        },
      },
    },
    async (req) => {
      const checks = await healthChecks(core);
      const failed = Object.entries(checks).filter(([, c]) => c.status !== 'ok');
      if (failed.length > 0) {
        throw new AppError('SERVICE_UNAVAILABLE', `Unhealthy: ${failed.map(([n]) => n).join(', ')}`, {
          details: Object.fromEntries(failed.map(([n, c]) => [n, [c.error ?? 'failed']])),
        });
      }
      return ok(req, { status: 'healthy', checks }, 'Service is healthy');
    },
  );

  // ---- simulator -----------------------------------------------------------------------------------------------
  if (core.config.env !== 'production' && core.config.im3Provider === 'simulator') {
    app.post(
      '/_dev/im3/transactions/:id/pay',
      {
        config,
        schema: {
          tags: ['simulator'],
          summary: 'Simulator: the customer paid the QR code of this IM3 purchase',
          params: IdParams,
          response: {
            200: im3OkSchema(Type.Object({ transaction_id: Type.Integer(), paid: Type.Boolean() })),
            ...errors(404),
          },
        },
      },
      async (req) => ok(req, await service.simulatePay((req.params as { id: number }).id), 'Payment simulated'),
    );
  }
}

async function healthChecks(core: Core) {
  const out: Record<string, { status: 'ok' | 'fail'; error?: string }> = {};
  const check = async (name: string, fn: () => Promise<unknown>) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        fn(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('no answer within 2000 ms')), 2000);
        }),
      ]);
      out[name] = { status: 'ok' };
    } catch (err) {
      out[name] = { status: 'fail', error: (err as Error).message };
    } finally {
      clearTimeout(timer);
    }
  };
  await check('database', () => core.database.pool.query('SELECT 1'));
  const redis = core.redis;
  if (redis) await check('redis', () => redis.ping());
  else out.redis = { status: 'ok' };
  await check('job_queue', async () => {
    if (!core.jobs.started) throw new Error('job workers are not running');
    await core.jobs.ping();
  });
  return out;
}
