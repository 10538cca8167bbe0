// Builds the IM3 module's dependencies once: the operator adapter (simulator or HTTP), the key that seals operator
// sessions, and the core services the use cases reach (the identity service, never the accounts table).
import type { Core } from '../../core/context.ts';
import { deriveKey } from '../../core/crypto.ts';
import { createHttpOperator } from './providers/http.ts';
import type { Im3Operator } from './providers/operator.ts';
import { createSimulatorOperator } from './providers/simulator.ts';
import type { ProfileCache } from './use-cases/operator-profile.ts';

export function wire(core: Core) {
  const { config } = core;
  const db = core.database.db;
  const operator: Im3Operator =
    config.im3Provider === 'http'
      ? createHttpOperator({ config })
      : createSimulatorOperator({ config, otp: core.identity.otp, db, now: core.now });
  return {
    db,
    config,
    operator,
    identity: core.identity.service,
    jobs: core.jobs,
    now: core.now,
    log: core.logger.child({ module: 'im3' }),
    limiter: core.limiter,
    /** Recent operator profiles per account (use-cases/operator-profile.ts), in this instance's memory. */
    profileCache: new Map() as ProfileCache,
    /** Seals the operator's challenge and session at rest; they are never returned. */
    sealKey: deriveKey(config.secret, 'im3-operator-session-v1'),
  };
}

export type Im3Deps = ReturnType<typeof wire>;
