// HTTP for the identity core: tokens, the platform admin API, the activity log (the platform envelope).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Static, Type } from 'typebox';
import { type ActivityLogView, listActivity, originOf } from '../audit/audit.ts';
import type { Core } from '../context.ts';
import { errorResponses, platformEnvelope } from '../http/envelopes.ts';
import { AppError } from '../http/errors.ts';
import { PLATFORM_LIMITS, rateLimit } from '../limits/limiter.ts';
import { MEMBERSHIP_MODULES, type Memberships, PLATFORM } from './accounts.ts';
import type { RequestAuth } from './guards.ts';

const TokenPair = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('bearer'),
  expires_in: Type.Integer(),
  refresh_token: Type.String(),
});

const Credentials = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 320 }),
  password: Type.String({ minLength: 1, maxLength: 1024 }),
});

const Level = Type.Integer({ minimum: 1, maximum: 100 });
const membershipsSchema = () =>
  Type.Object(Object.fromEntries(MEMBERSHIP_MODULES().map((m) => [m, Type.Optional(Level)])), {
    additionalProperties: false,
    description: 'module → level (1 user, 10 operator, 50 module admin); platform: 100 makes a platform admin',
  });

const Email = Type.String({ format: 'email', maxLength: 320 });
const Username = Type.String({ pattern: '^[A-Za-z0-9_.-]{3,80}$' });
const Phone = Type.String({ pattern: '^\\+?[0-9]{6,20}$' });

const AccountSchema = Type.Object({
  id: Type.Integer(),
  email: Type.Union([Type.String(), Type.Null()]),
  username: Type.Union([Type.String(), Type.Null()]),
  name: Type.String(),
  phone: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  memberships: Type.Record(Type.String(), Type.Integer()),
  created_at: Type.String(),
  updated_at: Type.String(),
});

const createAccount = () =>
  Type.Object({
    email: Type.Optional(Email),
    username: Type.Optional(Username),
    name: Type.String({ minLength: 1, maxLength: 100 }),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    phone: Type.Optional(Phone),
    memberships: membershipsSchema(),
  });

const patchAccount = () =>
  Type.Object(
    {
      email: Type.Optional(Type.Union([Email, Type.Null()])),
      username: Type.Optional(Type.Union([Username, Type.Null()])),
      name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
      password: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
      phone: Type.Optional(Type.Union([Phone, Type.Null()])),
      status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('disabled')])),
      memberships: Type.Optional(membershipsSchema()),
    },
    { minProperties: 1 },
  );

const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2 ** 53 - 1 }) });

function checkMemberships(m: Record<string, number>) {
  if (m[PLATFORM] !== undefined && m[PLATFORM] !== 100) {
    throw new AppError('VALIDATION_ERROR', 'platform membership must be level 100', {
      details: { 'memberships.platform': ['must be 100'] },
    });
  }
}

export { Credentials, TokenPair };

/** The caller the route's guard (`onRequest`) identified; a guarded route always has one. */
function callerOf(request: FastifyRequest): RequestAuth {
  if (!request.auth) throw new AppError('AUTHENTICATION_ERROR', 'Not signed in');
  return request.auth;
}

export function registerIdentityRoutes(
  app: FastifyInstance,
  core: Core,
  activityView?: { module: string; view: ActivityLogView },
) {
  const CreateAccount = createAccount();
  const PatchAccount = patchAccount();
  const { identity, limiter, config } = core;
  const limitsOn = config.rateLimits;
  const signIn = rateLimit(limiter, limitsOn, PLATFORM_LIMITS.signIn);
  const refresh = rateLimit(limiter, limitsOn, PLATFORM_LIMITS.refresh);
  const adminOnly = identity.guards.bearer(PLATFORM, 100);
  const general = rateLimit(limiter, limitsOn, PLATFORM_LIMITS.general);

  app.post(
    '/api/users/token',
    {
      onRequest: [signIn],
      schema: {
        tags: ['identity'],
        summary: 'Sign in (OAuth2 password form or JSON); username is the e-mail or username',
        body: Credentials,
        consumes: ['application/x-www-form-urlencoded', 'application/json'],
        response: { 200: TokenPair, ...errorResponses(platformEnvelope, [401, 403, 422, 429]) },
      },
    },
    async (request) => {
      const body = request.body as Static<typeof Credentials>;
      return (await identity.service.login(body.username, body.password)).tokens;
    },
  );

  app.post(
    '/api/users/refresh',
    {
      onRequest: [refresh],
      schema: {
        tags: ['identity'],
        summary:
          'Trade a refresh token for a new pair (the old one answers the same successor for 30 s, then stops working)',
        body: Type.Object({ refresh_token: Type.String({ minLength: 1, maxLength: 512 }) }),
        response: { 200: TokenPair, ...errorResponses(platformEnvelope, [401, 422, 429]) },
      },
    },
    async (request) => {
      const { refresh_token } = request.body as { refresh_token: string };
      return identity.sessions.refresh(refresh_token, (db, id) => identity.service.canRefresh(db, id));
    },
  );

  app.post(
    '/api/users/logout',
    {
      onRequest: [
        async (request: FastifyRequest) => {
          request.auth = await identity.guards.fromBearer(request, PLATFORM);
        },
      ],
      schema: {
        tags: ['identity'],
        summary: 'End this session: the access token stops working at once, and its refresh tokens too',
        security: [{ bearer: [] }],
        // The body ({refresh_token}) is optional, and a JSON schema cannot say "no body or this object".
        description: 'Body (optional): `{"refresh_token": "…"}` to end that refresh token\'s family too.',
        response: { 200: Type.Object({ detail: Type.String() }), ...errorResponses(platformEnvelope, [401, 422]) },
      },
    },
    async (request) => {
      const auth = callerOf(request);
      if (auth.jti === undefined || auth.exp === undefined) {
        throw new AppError('AUTHENTICATION_ERROR', 'Logout needs the bearer token of the session it ends');
      }
      const { jti, exp } = auth;
      const body = (request.body ?? {}) as { refresh_token?: unknown };
      if (
        body.refresh_token !== undefined &&
        (typeof body.refresh_token !== 'string' || body.refresh_token.length > 512)
      ) {
        throw new AppError('VALIDATION_ERROR', 'refresh_token must be a string', {
          details: { refresh_token: ['must be a string of at most 512 characters'] },
        });
      }
      await identity.sessions.logout(
        {
          accountId: auth.accountId,
          jti,
          family: auth.family ?? '',
          exp,
          sessionVersion: auth.sessionVersion ?? 0,
        },
        body.refresh_token as string | undefined,
      );
      return { detail: 'Logged out' };
    },
  );

  // ---- platform admin -------------------------------------------------------------------------------------------

  const adminSchema = { tags: ['platform admin'], security: [{ bearer: [] }] };

  app.post(
    '/api/admin/accounts',
    {
      onRequest: [adminOnly, general],
      schema: {
        ...adminSchema,
        summary: 'Create an account with module levels',
        body: CreateAccount,
        response: { 201: AccountSchema, ...errorResponses(platformEnvelope, [401, 403, 409, 422]) },
      },
    },
    async (request, reply) => {
      const body = request.body as Static<ReturnType<typeof createAccount>>;
      if (!body.email && !body.username && !body.phone) {
        throw new AppError('VALIDATION_ERROR', 'An account needs an email, a username or a phone', {
          details: { email: ['email, username or phone is required'] },
        });
      }
      const memberships = body.memberships as Memberships; // the schema allows only known modules and levels
      checkMemberships(memberships);
      const account = await identity.service.createAccount(
        { ...body, memberships },
        callerOf(request).accountId,
        originOf(request),
      );
      return reply.code(201).send(account);
    },
  );

  app.get(
    '/api/admin/accounts',
    {
      onRequest: [adminOnly, general],
      schema: {
        ...adminSchema,
        summary: 'List accounts',
        querystring: Type.Object({
          skip: Type.Integer({ minimum: 0, default: 0 }),
          limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
          search: Type.Optional(Type.String({ maxLength: 100 })),
        }),
        response: {
          200: Type.Object({ total: Type.Integer(), items: Type.Array(AccountSchema) }),
          ...errorResponses(platformEnvelope, [401, 403, 422]),
        },
      },
    },
    async (request) => {
      const q = request.query as { skip: number; limit: number; search?: string };
      const { listAccounts } = await import('./accounts.ts');
      return listAccounts(core.database.db, q);
    },
  );

  app.get(
    '/api/admin/accounts/:id',
    {
      onRequest: [adminOnly, general],
      schema: {
        ...adminSchema,
        summary: 'One account',
        params: IdParams,
        response: { 200: AccountSchema, ...errorResponses(platformEnvelope, [401, 403, 404]) },
      },
    },
    async (request) => identity.service.getAccount((request.params as { id: number }).id),
  );

  app.patch(
    '/api/admin/accounts/:id',
    {
      onRequest: [adminOnly, general],
      schema: {
        ...adminSchema,
        summary: 'Change an account (fields left out stay as they are); a new password or disabling ends its sessions',
        params: IdParams,
        body: PatchAccount,
        response: { 200: AccountSchema, ...errorResponses(platformEnvelope, [401, 403, 404, 409, 422]) },
      },
    },
    async (request) => {
      const body = request.body as Static<ReturnType<typeof patchAccount>>;
      const memberships = body.memberships as Memberships | undefined;
      if (memberships) checkMemberships(memberships);
      const { id } = request.params as { id: number };
      return identity.service.updateAccount(
        id,
        { ...body, memberships },
        callerOf(request).accountId,
        originOf(request),
      );
    },
  );

  app.delete(
    '/api/admin/accounts/:id',
    {
      onRequest: [adminOnly, general],
      schema: {
        ...adminSchema,
        summary: 'Delete an account (disabled and hidden; its sessions and keys end)',
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses(platformEnvelope, [400, 401, 403, 404]) },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: number };
      await identity.service.deleteAccount(id, callerOf(request).accountId, originOf(request));
      return reply.code(204).send();
    },
  );

  const ActivityQuery = Type.Object({
    skip: Type.Integer({ minimum: 0, default: 0 }),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    user_id: Type.Optional(Type.Integer({ minimum: 1 })),
    action: Type.Optional(Type.String({ maxLength: 100 })),
    start_date: Type.Optional(Type.Union([Type.String({ format: 'date' }), Type.String({ format: 'date-time' })])),
    end_date: Type.Optional(Type.Union([Type.String({ format: 'date' }), Type.String({ format: 'date-time' })])),
  });
  // A bare date is a whole local day (Asia/Jakarta, the platform's time zone, has no daylight saving).
  const fromDate = (d: string | undefined, end: boolean) =>
    d === undefined ? undefined : new Date(d.length === 10 ? `${d}T${end ? '23:59:59.999' : '00:00:00'}+07:00` : d);
  const ActivityItem = Type.Object({
    id: Type.Integer(),
    user_id: Type.Union([Type.Integer(), Type.Null()]),
    action: Type.String(),
    object_type: Type.Union([Type.String(), Type.Null()]),
    object_id: Type.Union([Type.String(), Type.Null()]),
    request_id: Type.Union([Type.String(), Type.Null()]),
    ip: Type.Union([Type.String(), Type.Null()]),
    before: Type.Unknown(),
    after: Type.Unknown(),
    created_at: Type.String(),
  });
  const PlatformPage = Type.Object({
    total: Type.Integer(),
    skip: Type.Integer(),
    limit: Type.Integer(),
    items: Type.Array(ActivityItem),
  });
  // A module that declares its own reading of the log (ModuleDefinition.activityLog) serves this path to its
  // readers; they see only that module's actions, a platform admin sees them all.
  const logGuard = activityView ? identity.guards.bearer(activityView.module, activityView.view.level) : adminOnly;
  for (const url of ['/api/activity-logs', '/api/activity-logs/']) {
    app.get(
      url,
      {
        onRequest: [logGuard, general],
        schema: {
          ...adminSchema,
          tags: ['activity log'],
          summary: 'Who did what, newest first',
          querystring: ActivityQuery,
          response: {
            200: activityView?.view.schema ?? PlatformPage,
            ...errorResponses(platformEnvelope, [401, 403, 422]),
          },
        },
      },
      async (request) => {
        const q = request.query as Static<typeof ActivityQuery>;
        const caller = callerOf(request);
        const { rows, total } = await listActivity(core.database.db, {
          skip: q.skip,
          limit: q.limit,
          userId: q.user_id,
          action: q.action,
          actionPrefix: activityView && caller.level < 100 ? `${activityView.module}.` : undefined,
          startDate: fromDate(q.start_date, false),
          endDate: fromDate(q.end_date, true),
        });
        if (activityView) return activityView.view.page({ rows, total, skip: q.skip, limit: q.limit });
        return {
          total,
          skip: q.skip,
          limit: q.limit,
          items: rows.map((r) => ({
            id: r.id,
            user_id: r.account_id,
            action: r.action,
            object_type: r.object_type,
            object_id: r.object_id,
            request_id: r.request_id,
            ip: r.ip,
            before: r.before,
            after: r.after,
            created_at: new Date(r.created_at).toISOString(),
          })),
        };
      },
    );
  }
}
