// One rate-limit mechanism: fixed windows counted in Redis (shared by every instance) or in process memory, plus
// blocks (a key refused until a time), which the sign-in lockout uses.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { AppError } from '../http/errors.ts';

export interface LimitResult {
  allowed: boolean;
  /** Requests counted in this window, this one included (for `peek`, without it). */
  count: number;
  remaining: number;
  retryAfterSeconds: number;
}

export interface Limiter {
  /** Counts one request against `max` per window. */
  hit(bucket: string, key: string, max: number, windowMs: number): Promise<LimitResult>;
  /** The window's state without counting: `allowed` is false once `max` requests have been counted. */
  peek(bucket: string, key: string, max: number, windowMs: number): Promise<LimitResult>;
  /** Forgets the current window's count. */
  clear(bucket: string, key: string, windowMs: number): Promise<void>;
  /** Refuses `key` for `ms` (see `blockedFor`). */
  block(bucket: string, key: string, ms: number): Promise<void>;
  /** Milliseconds left on a block, 0 when there is none. */
  blockedFor(bucket: string, key: string): Promise<number>;
}

const result = (count: number, max: number, retryMs: number, counted: boolean): LimitResult => ({
  allowed: counted ? count <= max : count < max,
  count,
  remaining: Math.max(0, max - count),
  retryAfterSeconds: Math.max(1, Math.ceil(retryMs / 1000)),
});

export function createLimiter(redis: Redis | undefined, prefix: string, now: () => number): Limiter {
  const windowOf = (windowMs: number) => {
    const t = now();
    const start = Math.floor(t / windowMs) * windowMs;
    return { start, retryMs: start + windowMs - t };
  };
  if (redis) {
    const key = (bucket: string, k: string, start: number) => `${prefix}rl:${bucket}:${k}:${start}`;
    const blockKey = (bucket: string, k: string) => `${prefix}rb:${bucket}:${k}`;
    return {
      async hit(bucket, k, max, windowMs) {
        const w = windowOf(windowMs);
        const rk = key(bucket, k, w.start);
        const r = await redis
          .multi()
          .incr(rk)
          .pexpire(rk, windowMs + 1000)
          .exec();
        return result(Number(r?.[0]?.[1] ?? 0), max, w.retryMs, true);
      },
      async peek(bucket, k, max, windowMs) {
        const w = windowOf(windowMs);
        return result(Number((await redis.get(key(bucket, k, w.start))) ?? 0), max, w.retryMs, false);
      },
      async clear(bucket, k, windowMs) {
        await redis.del(key(bucket, k, windowOf(windowMs).start));
      },
      // The block holds its end as a time on the service's clock; Redis only forgets it afterwards.
      async block(bucket, k, ms) {
        await redis.set(blockKey(bucket, k), String(now() + ms), 'PX', Math.max(1, Math.ceil(ms)) + 1000);
      },
      async blockedFor(bucket, k) {
        return Math.max(0, Number((await redis.get(blockKey(bucket, k))) ?? 0) - now());
      },
    };
  }
  const counts = new Map<string, { count: number; resetAt: number }>();
  const blocks = new Map<string, number>();
  let lastSweep = 0;
  const sweep = (t: number) => {
    if (t - lastSweep <= 60_000) return;
    for (const [k, v] of counts) if (v.resetAt <= t) counts.delete(k);
    for (const [k, until] of blocks) if (until <= t) blocks.delete(k);
    lastSweep = t;
  };
  return {
    async hit(bucket, k, max, windowMs) {
      const t = now();
      sweep(t);
      const w = windowOf(windowMs);
      const mk = `${bucket}:${k}:${w.start}`;
      const entry = counts.get(mk) ?? { count: 0, resetAt: w.start + windowMs };
      entry.count++;
      counts.set(mk, entry);
      return result(entry.count, max, w.retryMs, true);
    },
    async peek(bucket, k, max, windowMs) {
      const w = windowOf(windowMs);
      return result(counts.get(`${bucket}:${k}:${w.start}`)?.count ?? 0, max, w.retryMs, false);
    },
    async clear(bucket, k, windowMs) {
      counts.delete(`${bucket}:${k}:${windowOf(windowMs).start}`);
    },
    async block(bucket, k, ms) {
      blocks.set(`${bucket}:${k}`, now() + ms);
    },
    async blockedFor(bucket, k) {
      return Math.max(0, (blocks.get(`${bucket}:${k}`) ?? 0) - now());
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
  /**
   * `failures`: only answers that refuse the caller (400, 401, 403, 404) count, so that a sign-in path limits
   * guessing without locking out someone who signs in, refreshes and signs in again. Default `all`.
   */
  count?: 'all' | 'failures';
}

const MINUTE = 60_000;

/** The platform's own limits: sign-in failures per client IP, the admin API per account. */
export const PLATFORM_LIMITS = {
  signIn: { name: 'sign-in', max: 5, windowMs: 5 * MINUTE, by: 'ip', count: 'failures' },
  refresh: { name: 'refresh', max: 30, windowMs: MINUTE, by: 'ip' },
  general: { name: 'general', max: 100, windowMs: MINUTE, by: 'account' },
} as const satisfies Record<string, RouteLimit>;

export class RateLimitError extends AppError {
  constructor(retryAfterSeconds: number) {
    super('RATE_LIMITED', `Too many requests; try again in ${retryAfterSeconds} s`, {
      headers: { 'retry-after': String(retryAfterSeconds) },
    });
  }
}

const REFUSALS = new Set([400, 401, 403, 404]);

/** A hook enforcing `limit` (nothing when rate limits are off). Use it in `onRequest`, after the auth guard. */
export function rateLimit(limiter: Limiter, enabled: boolean, limit: RouteLimit) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (!enabled) return;
    const key = limit.by === 'account' && request.auth ? `a${request.auth.accountId}` : `ip${request.ip}`;
    if (limit.count === 'failures') {
      const r = await limiter.peek(limit.name, key, limit.max, limit.windowMs);
      if (!r.allowed) throw new RateLimitError(r.retryAfterSeconds);
      // Counted when the answer is known; a failure to count is logged, never turned into the caller's error.
      reply.raw.once('finish', () => {
        if (!REFUSALS.has(reply.statusCode)) return;
        limiter.hit(limit.name, key, limit.max, limit.windowMs).catch((err: unknown) => {
          request.log.warn({ err, limit: limit.name }, 'rate limit not counted');
        });
      });
      return;
    }
    const r = await limiter.hit(limit.name, key, limit.max, limit.windowMs);
    reply.header('x-ratelimit-limit', limit.max);
    reply.header('x-ratelimit-remaining', r.remaining);
    if (!r.allowed) throw new RateLimitError(r.retryAfterSeconds);
  };
}
