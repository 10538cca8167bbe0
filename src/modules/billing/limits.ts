// Billing's documented rate limits (seed 003): 100 requests a minute per account, CSV export 10 and import 5 an
// hour per account. (Sign-in is the platform's: 5 per 5 minutes per client IP.)
import type { RouteLimit } from '../../core/limits/limiter.ts';

const MINUTE = 60_000;

export const BILLING_LIMITS = {
  general: { name: 'general', max: 100, windowMs: MINUTE, by: 'account' },
  export: { name: 'billing-export', max: 10, windowMs: 60 * MINUTE, by: 'account' },
  import: { name: 'billing-import', max: 5, windowMs: 60 * MINUTE, by: 'account' },
} as const satisfies Record<string, RouteLimit>;
