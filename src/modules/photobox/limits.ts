// The photobox module's rate limits. Kiosks poll every 3 seconds, often many behind one address: the public limit
// is generous; everything else counts per account (or kiosk key).
import type { RouteLimit } from '../../core/limits/limiter.ts';

export const PHOTOBOX_LIMITS = {
  public: { name: 'photobox-public', max: 600, windowMs: 60_000, by: 'ip' },
  general: { name: 'photobox-general', max: 600, windowMs: 60_000, by: 'account' },
} as const satisfies Record<string, RouteLimit>;
