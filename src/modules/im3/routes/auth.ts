// IM3's sign-in (`POST /api/auth/login`: the platform's accounts and tokens, answered in IM3's envelope) and
// registration (an account with the IM3 user level).
import { Type } from 'typebox';
import { originOf } from '../../../core/audit/audit.ts';
import type { Core } from '../../../core/context.ts';
import type { Router } from '../../../core/http/route.ts';
import { Credentials } from '../../../core/identity/routes.ts';
import { im3Ok, im3OkSchema } from '../envelope.ts';
import { IM3_LIMITS } from '../limits.ts';
import { Register, RegisterResult } from '../schemas.ts';
import { register } from '../use-cases/register.ts';
import type { Im3Deps } from '../wire.ts';

const LoginAnswer = Type.Object({
  access_token: Type.String(),
  token_type: Type.String(),
  expires_in: Type.Integer(),
  refresh_token: Type.String(),
  user: Type.Object({
    id: Type.Integer(),
    username: Type.Union([Type.String(), Type.Null()]),
    email: Type.Union([Type.String(), Type.Null()]),
  }),
  message: Type.String(),
});

export function registerAuthRoutes(router: Router, deps: Im3Deps, core: Core): void {
  router.post(
    '/api/auth/login',
    {
      auth: 'public',
      limits: [IM3_LIMITS.login],
      errors: [401, 403],
      schema: {
        tags: ['identity'],
        summary: 'Sign in (IM3 shape)',
        body: Credentials,
        response: { 200: im3OkSchema(LoginAnswer) },
      },
    },
    async (req) => {
      const { tokens, account } = await core.identity.service.login(req.body.username, req.body.password);
      return im3Ok(
        String(req.id),
        {
          ...tokens,
          user: { id: account.id, username: account.username, email: account.email },
          message: 'Login successful',
        },
        'Login successful',
      );
    },
  );

  router.post(
    '/api/auth/register',
    {
      auth: 'public',
      limits: [IM3_LIMITS.auth],
      errors: [409],
      schema: {
        summary: 'Register (grants IM3 user access)',
        body: Register,
        response: { 201: im3OkSchema(RegisterResult) },
      },
    },
    async (req, reply) => {
      const r = await register(deps, req.body, originOf(req));
      const message = 'User registered successfully';
      const data = {
        user_id: r.user_id,
        username: r.username ?? req.body.username,
        phone_number: r.phone_number,
        message,
      };
      return reply.code(201).send(im3Ok(String(req.id), data, message));
    },
  );
}
