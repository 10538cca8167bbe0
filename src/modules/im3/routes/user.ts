// The caller's own account: profile, changes to it, and the password (both documented and original spellings).
import { originOf } from '../../../core/audit/audit.ts';
import { AppError } from '../../../core/http/errors.ts';
import type { Router } from '../../../core/http/route.ts';
import { im3Ok, im3OkSchema } from '../envelope.ts';
import { IM3_LIMITS } from '../limits.ts';
import { ChangePassword, ChangePasswordResult, ProfileSchema, UpdateMe } from '../schemas.ts';
import { changePassword } from '../use-cases/change-password.ts';
import { myProfile, updateMyProfile } from '../use-cases/profile.ts';
import type { Im3Deps } from '../wire.ts';

const USER = { level: 1 };

export function registerUserRoutes(router: Router, deps: Im3Deps): void {
  const limits = [IM3_LIMITS.other];

  router.get(
    '/api/user/me',
    {
      auth: USER,
      limits,
      errors: [404],
      schema: { summary: 'My profile', response: { 200: im3OkSchema(ProfileSchema) } },
    },
    async (req) => im3Ok(String(req.id), await myProfile(deps, req.auth.accountId), 'Profile retrieved'),
  );

  router.put(
    '/api/user/me',
    {
      auth: USER,
      limits,
      errors: [404, 409],
      schema: {
        summary: 'Change my username, e-mail or phone number (normalised to 62…)',
        body: UpdateMe,
        response: { 200: im3OkSchema(ProfileSchema) },
      },
    },
    async (req) =>
      im3Ok(
        String(req.id),
        await updateMyProfile(deps, req.auth.accountId, req.body, originOf(req)),
        'Profile updated',
      ),
  );

  for (const url of ['/api/user/me/change-password', '/api/user/change-password']) {
    router.post(
      url,
      {
        auth: USER,
        limits,
        schema: {
          summary: 'Change my password (`current_password` or `old_password`; other sessions end, this one continues)',
          body: ChangePassword,
          response: { 200: im3OkSchema(ChangePasswordResult) },
        },
      },
      async (req) => {
        const current = req.body.current_password ?? req.body.old_password;
        if (current === undefined) {
          throw new AppError('VALIDATION_ERROR', 'Invalid body: current_password is required', {
            details: { current_password: ['current_password (or old_password) is required'] },
          });
        }
        const result = await changePassword(
          deps,
          req.auth.accountId,
          req.auth.family,
          { current, next: req.body.new_password },
          originOf(req),
        );
        return im3Ok(String(req.id), result, result.message);
      },
    );
  }
}
