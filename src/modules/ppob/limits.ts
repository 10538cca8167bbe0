// The PPOB module's rate limits: registration and OTP per client IP, everything a reseller's key does per account.
import type { RouteLimit } from '../../core/limits/limiter.ts';

export const PPOB_LIMITS = {
  register: { name: 'ppob-register', max: 10, windowMs: 60_000, by: 'ip' },
  /** OTP verification: wrong or unknown codes only (the platform's sign-in rule). */
  verify: { name: 'ppob-verify', max: 10, windowMs: 5 * 60_000, by: 'ip', count: 'failures' },
  general: { name: 'ppob-general', max: 600, windowMs: 60_000, by: 'account' },
} as const satisfies Record<string, RouteLimit>;
