import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * The shared Redis connection, or undefined when REDIS_URL is unset (in-process stores are used instead). The
 * client library is imported only when it is used, so a server without Redis never loads it.
 */
export async function createRedis(url: string | undefined, logger: Logger): Promise<Redis | undefined> {
  if (!url) return undefined;
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false });
  redis.on('error', (err) => logger.warn({ err: { message: err.message } }, 'redis connection problem'));
  return redis;
}
