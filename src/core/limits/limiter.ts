// One rate-limit mechanism: fixed windows counted in Redis (shared by every instance) or in process memory.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { AppError } from '../http/errors.ts';

export interface LimitResult {
  allowed: boolean;
  remaining: number;
  retryAfterSeconds: number;
}

export interface Limiter {
  hit(bucket: string, key: string, max: number, windowMs: number): Promise<LimitResult>;
}

export function createLimiter(redis: Redis | undefined, prefix: string, now: () => number): Limiter {
  if (redis) {
    return {
      async hit(bucket, key, max, windowMs) {
        const t = now();
        const windowStart = Math.floor(t / windowMs) * windowMs;
        const k = `${prefix}rl:${bucket}:${key}:${windowStart}`;
        const result = await redis
          .multi()
          .incr(k)
          .pexpire(k, windowMs + 1000)
          .exec();
        const count = Number(result?.[0]?.[1] ?? 0);
        return {
          allowed: count <= max,
          remaining: Math.max(0, max - count),
          retryAfterSeconds: Math.max(1, Math.ceil((windowStart + windowMs - t) / 1000)),
        };
      },
    };
  }
  const counts = new Map<string, { count: number; resetAt: number }>();
  let lastSweep = 0;
  return {
    async hit(bucket, key, max, windowMs) {
      const t = now();
      if (t - lastSweep > 60_000) {
        for (const [k, v] of counts) if (v.resetAt <= t) counts.delete(k);
        lastSweep = t;
      }
      const windowStart = Math.floor(t / windowMs) * windowMs;
      const k = `${bucket}:${key}:${windowStart}`;
      const entry = counts.get(k) ?? { count: 0, resetAt: windowStart + windowMs };
      entry.count++;
      counts.set(k, entry);
      return {
        allowed: entry.count <= max,
        remaining: Math.max(0, max - entry.count),
        retryAfterSeconds: Math.max(1, Math.ceil((entry.resetAt - t) / 1000)),
      };
    },
  };
}

export interface RouteLimit {
  /** Names the counter (routes with the same name share it). */
  name: string;
  max: number;
  windowMs: number;
  /** Count per client IP, or per authenticated account (IP before authentication). */
  by: 'ip' | 'account';
}

const MINUTE = 60_000;

/** The platform's own limits: sign-in and refresh per client IP, the admin API per account. */
export const PLATFORM_LIMITS = {
  signIn: { name: 'sign-in', max: 5, windowMs: 5 * MINUTE, by: 'ip' },
  general: { name: 'general', max: 100, windowMs: MINUTE, by: 'account' },
} as const satisfies Record<string, RouteLimit>;

export class RateLimitError extends AppError {
  constructor(retryAfterSeconds: number) {
    super('RATE_LIMITED', `Too many requests; try again in ${retryAfterSeconds} s`, {
      headers: { 'retry-after': String(retryAfterSeconds) },
    });
  }
}

/** A hook enforcing `limit` (nothing when rate limits are off). Use it in `onRequest`, after the auth guard. */
export function rateLimit(limiter: Limiter, enabled: boolean, limit: RouteLimit) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (!enabled) return;
    const key = limit.by === 'account' && request.auth ? `a${request.auth.accountId}` : `ip${request.ip}`;
    const r = await limiter.hit(limit.name, key, limit.max, limit.windowMs);
    reply.header('x-ratelimit-limit', limit.max);
    reply.header('x-ratelimit-remaining', r.remaining);
    if (!r.allowed) throw new RateLimitError(r.retryAfterSeconds);
  };
}
