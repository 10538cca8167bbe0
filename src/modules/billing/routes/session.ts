// The original web frontend's sign-in (CONTRACTS §4): `/api/auth/token|refresh|logout` beside the document's
// `/api/users/…`, on the platform's accounts and sessions, and `/api/users/me` with a role made from the billing
// level, so the frontend shows its menu and invoice buttons.
import { Type } from 'typebox';
import type { Core } from '../../../core/context.ts';
import { AppError } from '../../../core/http/errors.ts';
import type { Router } from '../../../core/http/route.ts';
import { Credentials, TokenPair } from '../../../core/identity/routes.ts';
import { PLATFORM_LIMITS } from '../../../core/limits/limiter.ts';
import { BILLING_LIMITS } from '../limits.ts';

/** The permission names the frontend gates its menu (view_*) and its invoice buttons with. */
const VIEW = [
  'view_dashboard',
  'view_pelanggan',
  'view_langganan',
  'view_data_teknis',
  'view_brand_&_paket',
  'view_invoices',
  'view_reports_revenue',
  'view_mikrotik_servers',
] as const;
const OPERATE = ['create_invoices', 'edit_invoices', 'delete_invoices'] as const;
const ADMINISTER = ['view_activity_log', 'view_users', 'view_roles', 'manage_settings'] as const;

/** The frontend's role for a billing level: 50 admin (every name), 10 operator, 1 viewer. */
export function roleFor(level: number): { name: string; permissions: { name: string }[] } {
  const [name, names] =
    level >= 50
      ? ['admin', [...VIEW, ...OPERATE, ...ADMINISTER]]
      : level >= 10
        ? ['operator', [...VIEW, ...OPERATE]]
        : ['viewer', [...VIEW]];
  return { name, permissions: names.map((n) => ({ name: n })) };
}

const RefreshBody = Type.Object({ refresh_token: Type.String({ minLength: 1, maxLength: 512 }) });
/** The refresh token a logout names, if it names one. */
function refreshTokenOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || !('refresh_token' in body)) return undefined;
  const token = body.refresh_token;
  if (token === undefined || token === null || token === '') return undefined;
  if (typeof token !== 'string' || token.length > 512) {
    throw new AppError('VALIDATION_ERROR', 'Validation failed', {
      details: { refresh_token: ['must be a string of at most 512 characters'] },
    });
  }
  return token;
}
const Me = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  role: Type.Object({
    name: Type.String(),
    permissions: Type.Array(Type.Object({ name: Type.String() })),
  }),
});

export function registerSessionRoutes(router: Router, core: Core): void {
  const { identity } = core;
  const schema = { tags: ['identity'] };

  router.post(
    '/api/auth/token',
    {
      auth: 'public',
      limits: [PLATFORM_LIMITS.signIn],
      errors: [401, 403],
      schema: {
        ...schema,
        summary: "Sign in (the original frontend's path for /api/users/token; OAuth2 password form or JSON)",
        body: Credentials,
        consumes: ['application/x-www-form-urlencoded', 'application/json'],
        response: { 200: TokenPair },
      },
    },
    async (req) => (await identity.service.login(req.body.username, req.body.password)).tokens,
  );

  router.post(
    '/api/auth/refresh',
    {
      auth: 'public',
      limits: [PLATFORM_LIMITS.refresh],
      errors: [401],
      schema: {
        ...schema,
        summary: 'Trade a refresh token for a new pair (parallel refreshes within 30 s get the same successor)',
        body: RefreshBody,
        response: { 200: TokenPair },
      },
    },
    (req) => identity.sessions.refresh(req.body.refresh_token, (db, id) => identity.service.canRefresh(db, id)),
  );

  router.post(
    '/api/auth/logout',
    {
      auth: { level: 0 },
      schema: {
        ...schema,
        summary: 'End this session: the access token at once, and the refresh token sent (if any)',
        // The body ({refresh_token}) is optional, and a JSON schema cannot say "no body or this object".
        description: 'Body (optional): `{"refresh_token": "…"}` to end that refresh token\'s family too.',
        response: { 200: Type.Object({ detail: Type.String() }) },
      },
    },
    async (req) => {
      const { accountId, jti, family, exp, sessionVersion } = req.auth;
      if (jti === undefined || exp === undefined) {
        throw new AppError('AUTHENTICATION_ERROR', 'Logout needs the bearer token of the session it ends');
      }
      await identity.sessions.logout(
        { accountId, jti, family: family ?? '', exp, sessionVersion: sessionVersion ?? 0 },
        refreshTokenOf(req.body),
      );
      return { detail: 'Logged out' };
    },
  );

  router.get(
    '/api/users/me',
    {
      auth: { level: 1 },
      limits: [BILLING_LIMITS.general],
      schema: { ...schema, summary: 'Who I am, with my billing role and its permission names', response: { 200: Me } },
    },
    async (req) => {
      const account = await identity.service.getAccount(req.auth.accountId);
      return { id: account.id, name: account.name, email: account.email, role: roleFor(req.auth.level) };
    },
  );
}
