// IM3's sign-in (`POST /api/auth/login`): the platform's accounts and tokens, answered in IM3's envelope.
import { Type } from 'typebox';
import type { Core } from '../../core/context.ts';
import type { Router } from '../../core/http/route.ts';
import { Credentials } from '../../core/identity/routes.ts';
import { im3Ok, im3OkSchema } from './envelope.ts';
import { IM3_LIMITS } from './limits.ts';

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

export function registerIm3Login(router: Router, core: Core): void {
  router.post(
    '/api/auth/login',
    {
      auth: 'public',
      limits: [IM3_LIMITS.auth],
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
}
