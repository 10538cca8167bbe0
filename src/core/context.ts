import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Database } from './db/database.ts';
import type { EnvelopePrefixes } from './http/envelopes.ts';
import type { UrlGuard } from './http/safe-url.ts';
import type { Identity } from './identity/index.ts';
import type { Jobs } from './jobs/jobs.ts';
import type { Limiter } from './limits/limiter.ts';
import type { Bus } from './notify/bus.ts';
import type { Notifications } from './notify/notifications.ts';
import type { Outbox } from './notify/outbox.ts';
import type { Metrics } from './ops/metrics.ts';
import type { Payments } from './payments/service.ts';

/** What the core gives every module. Modules take what they need from it in their own `wire()`. */
export interface Core {
  config: Config;
  logger: Logger;
  database: Database;
  jobs: Jobs;
  metrics: Metrics;
  redis: Redis | undefined;
  prefixes: EnvelopePrefixes;
  /** The time. Every rule that depends on it (expiry, OTP, tokens) reads it here, so tests can move it. */
  now: () => Date;
  bus: Bus;
  limiter: Limiter;
  outbox: Outbox;
  /** Notifications stored per account and pushed to open sockets on every instance. */
  notifications: Notifications;
  identity: Identity;
  payments: Payments;
  /** Checks and calls URLs that users supply (never private addresses unless LOKET_OUTBOUND_ALLOW lists them). */
  outbound: UrlGuard;
  /** Set when SIGTERM starts a drain: /ready fails and answers close their connections (see serve()). */
  lifecycle: { draining: boolean };
}

declare module 'fastify' {
  interface FastifyInstance {
    loket: Core;
  }
}
