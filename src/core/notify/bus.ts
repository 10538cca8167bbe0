// Cross-instance notifications (cache invalidation, revocations). Redis pub/sub when REDIS_URL is set,
// PostgreSQL LISTEN/NOTIFY on a real database without Redis, and in-process for the embedded database (which
// only ever has one instance). The publishing instance applies a message at once; the others as it arrives.
// Messages sent while an instance's link was down are lost to it: when the link is back, `onGap` handlers run, so
// that caches kept in step by the bus can drop what they might have missed.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import pg from 'pg';
import type { Logger } from 'pino';

export type BusHandler = (payload: Record<string, unknown>) => void;

export interface Bus {
  publish(topic: string, payload: Record<string, unknown>): Promise<void>;
  subscribe(topic: string, handler: BusHandler): void;
  /** Runs `handler` each time this instance's link is back after it was lost (messages may have been missed). */
  onGap(handler: () => void): void;
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
  const gapHandlers: (() => void)[] = [];
  const gap = () => {
    deps.logger.warn('bus link back after a break: dropping what notifications keep in step');
    for (const h of gapHandlers) h();
  };
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
    const channel = `${deps.redisPrefix}bus`;
    // Named so that an operator (or a test) can find the subscriber in CLIENT LIST.
    const sub = redis.duplicate({ maxRetriesPerRequest: null, connectionName: channel.replace(/[^\w:.-]/g, '_') });
    sub.on('error', (err) => deps.logger.warn({ err: { message: err.message } }, 'bus subscriber problem'));
    // ioredis subscribes again on every reconnect; each 'ready' after the first ends a break. The gap is announced
    // once Redis has confirmed the subscription, so nothing published after that can be missed.
    let readyBefore = false;
    sub.on('ready', () => {
      if (readyBefore) void sub.subscribe(channel).then(gap, gap);
      readyBefore = true;
    });
    sub.on('message', (_channel: string, raw: string) => deliver(raw));
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
    let listenedBefore = false;
    // Every second until the listener is back (a database that is down refuses the first attempts).
    const retry = () => {
      if (closing) return;
      setTimeout(() => {
        connect().catch((err) => {
          deps.logger.warn({ err: { message: (err as Error).message } }, 'bus listener not back yet');
          retry();
        });
      }, 1000).unref();
    };
    const connect = async (): Promise<void> => {
      const c = new pg.Client({ connectionString: url, application_name: 'loket-bus' });
      c.on('notification', (n) => {
        if (n.payload) deliver(n.payload);
      });
      c.on('error', (err) => {
        if (client !== c) return; // a failed attempt: its caller retries
        deps.logger.warn({ err: { message: err.message } }, 'bus listener lost; reconnecting');
        client = undefined;
        retry();
      });
      try {
        await c.connect();
        await c.query(`LISTEN ${CHANNEL}`);
      } catch (err) {
        await c.end().catch(() => {});
        throw err;
      }
      client = c;
      if (listenedBefore) gap();
      listenedBefore = true;
    };
    const publisher = new pg.Pool({ connectionString: url, max: 1, application_name: 'loket-bus' });
    // An idle connection that the server drops must not take the process down (the pool opens another).
    publisher.on('error', (err) =>
      deps.logger.warn({ err: { message: err.message } }, 'bus publisher connection lost'),
    );
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
    onGap(handler) {
      gapHandlers.push(handler);
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
