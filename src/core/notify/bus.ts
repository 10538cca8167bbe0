// Cross-instance notifications (cache invalidation, revocations). Redis pub/sub when REDIS_URL is set,
// PostgreSQL LISTEN/NOTIFY on a real database without Redis, and in-process for the embedded database (which
// only ever has one instance). The publishing instance applies a message at once; the others as it arrives.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import pg from 'pg';
import type { Logger } from 'pino';

export type BusHandler = (payload: Record<string, unknown>) => void;

export interface Bus {
  publish(topic: string, payload: Record<string, unknown>): Promise<void>;
  subscribe(topic: string, handler: BusHandler): void;
  start(): Promise<void>;
  close(): Promise<void>;
}

const CHANNEL = 'loket_bus';

export function createBus(deps: {
  redis: Redis | undefined;
  redisPrefix: string;
  databaseUrl: string | undefined;
  logger: Logger;
}): Bus {
  const origin = randomUUID();
  const handlers = new Map<string, BusHandler[]>();
  const local = (topic: string, payload: Record<string, unknown>) => {
    for (const h of handlers.get(topic) ?? []) h(payload);
  };
  const deliver = (raw: string) => {
    try {
      const msg = JSON.parse(raw) as { origin: string; topic: string; payload: Record<string, unknown> };
      if (msg.origin !== origin) local(msg.topic, msg.payload);
    } catch (err) {
      deps.logger.warn({ err }, 'bad bus message ignored');
    }
  };

  let send: (raw: string) => Promise<void> = async () => {};
  let stop: () => Promise<void> = async () => {};
  let startRemote: () => Promise<void> = async () => {};

  if (deps.redis) {
    const redis = deps.redis;
    const sub = redis.duplicate({ maxRetriesPerRequest: null });
    sub.on('error', (err) => deps.logger.warn({ err: { message: err.message } }, 'bus subscriber problem'));
    sub.on('message', (_channel: string, raw: string) => deliver(raw));
    const channel = `${deps.redisPrefix}bus`;
    startRemote = async () => {
      // Start-up does not wait for an unreachable Redis (/ready reports it); the subscription is queued and
      // completes when Redis answers.
      const subscribed = sub.subscribe(channel).then(() => true);
      subscribed.catch((err) => deps.logger.warn({ err: { message: err.message } }, 'bus subscription failed'));
      const ok = await Promise.race([subscribed, new Promise((r) => setTimeout(() => r(false), 3000).unref())]);
      if (!ok) deps.logger.warn('Redis does not answer yet; cross-instance notifications start when it does');
    };
    send = async (raw) => {
      await redis.publish(channel, raw);
    };
    stop = async () => {
      sub.disconnect();
    };
  } else if (deps.databaseUrl) {
    const url = deps.databaseUrl;
    let client: pg.Client | undefined;
    let closing = false;
    const connect = async (): Promise<void> => {
      const c = new pg.Client({ connectionString: url, application_name: 'loket-bus' });
      c.on('notification', (n) => {
        if (n.payload) deliver(n.payload);
      });
      c.on('error', (err) => {
        deps.logger.warn({ err: { message: err.message } }, 'bus listener lost; reconnecting');
        client = undefined;
        if (!closing) setTimeout(() => void connect().catch(() => {}), 1000);
      });
      await c.connect();
      await c.query(`LISTEN ${CHANNEL}`);
      client = c;
    };
    const publisher = new pg.Pool({ connectionString: url, max: 1, application_name: 'loket-bus' });
    startRemote = connect;
    send = async (raw) => {
      await publisher.query('SELECT pg_notify($1, $2)', [CHANNEL, raw]);
    };
    stop = async () => {
      closing = true;
      await client?.end().catch(() => {});
      await publisher.end().catch(() => {});
    };
  }

  return {
    subscribe(topic, handler) {
      handlers.set(topic, [...(handlers.get(topic) ?? []), handler]);
    },
    async publish(topic, payload) {
      local(topic, payload);
      try {
        await send(JSON.stringify({ origin, topic, payload }));
      } catch (err) {
        deps.logger.error({ err }, 'bus publish failed: other instances keep stale caches until they expire');
      }
    },
    start: () => startRemote(),
    close: () => stop(),
  };
}
