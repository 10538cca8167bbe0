// IM3's documented rate limits (seed 004).
import type { RouteLimit } from '../../core/limits/limiter.ts';

const MINUTE = 60_000;

export const IM3_LIMITS = {
  /** Sign-in: failed attempts only (a success, then a refresh and another sign-in, must not lock anyone out). */
  login: { name: 'im3-login', max: 5, windowMs: MINUTE, by: 'ip', count: 'failures' },
  auth: { name: 'im3-auth', max: 5, windowMs: MINUTE, by: 'ip' },
  operator: { name: 'im3-operator', max: 10, windowMs: MINUTE, by: 'account' },
  packages: { name: 'im3-packages', max: 20, windowMs: MINUTE, by: 'account' },
  other: { name: 'im3-other', max: 60, windowMs: MINUTE, by: 'account' },
} as const satisfies Record<string, RouteLimit>;
