// The caller's link to the operator: an OTP to their number, its verification (`code` or `otp`), and the line's
// profile. The operator session stays on the server.

import { AppError } from '../../../core/http/errors.ts';
import type { Router } from '../../../core/http/route.ts';
import { rateLimit } from '../../../core/limits/limiter.ts';
import { im3Ok, im3OkSchema } from '../envelope.ts';
import { IM3_LIMITS } from '../limits.ts';
import { OperatorProfileSchema, OtpSent, OtpVerified, VerifyOtp } from '../schemas.ts';
import { sendOtp, verifyOtp } from '../use-cases/operator-link.ts';
import { operatorProfile } from '../use-cases/operator-profile.ts';
import type { Im3Deps } from '../wire.ts';

const USER = { level: 1 };

export function registerOperatorRoutes(router: Router, deps: Im3Deps): void {
  const limits = [IM3_LIMITS.operator];
  const errors = [422, 502];

  router.route(
    ['GET', 'POST'],
    '/api/im3/send-otp',
    {
      auth: USER,
      limits,
      errors,
      schema: {
        summary: 'Send an OTP to my phone number (through the operator)',
        response: { 200: im3OkSchema(OtpSent) },
      },
    },
    async (req) => im3Ok(String(req.id), await sendOtp(deps, req.auth.accountId), 'OTP sent successfully'),
  );

  router.post(
    '/api/im3/verify-otp',
    {
      auth: USER,
      limits,
      errors,
      schema: {
        summary: 'Verify the OTP (`code` or `otp`); the operator session stays on the server',
        body: VerifyOtp,
        response: { 200: im3OkSchema(OtpVerified) },
      },
    },
    async (req) => {
      const code = req.body.code ?? req.body.otp;
      if (!code) {
        throw new AppError('VALIDATION_ERROR', 'Invalid body: code is required', {
          details: { code: ['code (or otp) is required'] },
        });
      }
      return im3Ok(String(req.id), await verifyOtp(deps, req.auth.accountId, code), 'OTP verified successfully');
    },
  );

  // Limited inside: a read answered from the recent-profile memory does not count, one that asks the operator does.
  const charge = rateLimit(deps.limiter, deps.config.rateLimits, IM3_LIMITS.operator);
  router.get(
    '/api/im3/profile',
    {
      auth: USER,
      errors: [...errors, 429],
      schema: {
        summary: 'My IM3 profile, from the operator (its own fields beside ours; repeated reads answered for a while)',
        response: { 200: im3OkSchema(OperatorProfileSchema) },
      },
    },
    async (req, reply) =>
      im3Ok(
        String(req.id),
        await operatorProfile(deps, req.auth.accountId, () => charge(req, reply)),
        'IM3 profile retrieved',
      ),
  );
}
