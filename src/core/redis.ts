import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** The shared Redis connection, or undefined when REDIS_URL is unset (in-process stores are used instead). */
export function createRedis(url: string | undefined, logger: Logger): Redis | undefined {
  if (!url) return undefined;
  const redis = new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false });
  redis.on('error', (err) => logger.warn({ err: { message: err.message } }, 'redis connection problem'));
  return redis;
}
