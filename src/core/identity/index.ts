// Wires the identity core: one place that builds sessions, API keys, OTP, guards and the service.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from '../../config.ts';
import { deriveKey } from '../crypto.ts';
import type { Tables } from '../db/tables.ts';
import type { Limiter } from '../limits/limiter.ts';
import type { Bus } from '../notify/bus.ts';
import type { Outbox } from '../notify/outbox.ts';
import { createAuthStateCache } from './accounts.ts';
import { createApiKeys } from './apikeys.ts';
import { createSignInAttempts } from './attempts.ts';
import { createGuards } from './guards.ts';
import { createOtp } from './otp.ts';
import { createIdentityService } from './service.ts';
import { createSessions } from './sessions.ts';

export function createIdentity(deps: {
  config: Config;
  db: Kysely<Tables>;
  bus: Bus;
  outbox: Outbox;
  limiter: Limiter;
  logger: Logger;
  now: () => Date;
}) {
  const { config, db, bus, now } = deps;
  const authState = createAuthStateCache(db, bus);
  const sessions = createSessions({ config, db, bus, now, logger: deps.logger });
  const apiKeys = createApiKeys({ db, bus, sealKey: deriveKey(config.secret, 'seal-v1') });
  const otp = createOtp({
    db,
    outbox: deps.outbox,
    limiter: deps.limiter,
    limitsEnabled: config.rateLimits,
    hmacKey: deriveKey(config.secret, 'otp-v1'),
    now,
  });
  const attempts = createSignInAttempts(deps.limiter, config.rateLimits);
  const guards = createGuards({ attempts, sessions, apiKeys, authState });
  const service = createIdentityService({
    attempts,
    db,
    config,
    sessions,
    changed: (id) => authState.changed(id),
    now,
    logger: deps.logger,
  });
  return { authState, sessions, apiKeys, otp, guards, service, sealKey: deriveKey(config.secret, 'seal-v1') };
}

export type Identity = ReturnType<typeof createIdentity>;
