// The staff module's rate limits: reads and writes per account, the public OTP endpoints per client IP.
import type { RouteLimit } from '../../core/limits/limiter.ts';

export const STAFF_LIMITS = {
  general: { name: 'staff-general', max: 100, windowMs: 60_000, by: 'account' },
  otpGenerate: { name: 'staff-otp-generate', max: 10, windowMs: 60_000, by: 'ip' },
  /** Wrong or unknown codes only (the platform's sign-in rule): a right code is never held back. */
  otpVerify: { name: 'staff-otp-verify', max: 10, windowMs: 5 * 60_000, by: 'ip', count: 'failures' },
} as const satisfies Record<string, RouteLimit>;
