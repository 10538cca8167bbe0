// The caller's line as the operator sees it, through the verified operator session: the operator's own fields
// (`mob`, `fname`, …) passed through as the original did, beside ours. A client that reads it again and again (the
// original frontend, about 30 times a minute) is answered from a short per-account memory for
// IM3_PROFILE_CACHE_MS; only a read that goes on to the operator is `charge`d against the IM3 rate limit.
import type { OperatorProfile } from '../providers/operator.ts';
import { findSession } from '../repo.ts';
import type { Im3Deps } from '../wire.ts';
import { fromOperator, operatorSession } from './common.ts';

const MAX_ACCOUNTS = 10_000;

/** A profile read for an account: the sealed session it was read with, when, and the answer (or the read). */
export interface CachedProfile {
  sealed: string;
  at: number;
  profile: Promise<Record<string, unknown>>;
}

export type ProfileCache = Map<number, CachedProfile>;

const shown = (p: OperatorProfile) => ({
  ...p.fields,
  msisdn: p.msisdn,
  name: p.name,
  balance: p.balance,
  status: p.status,
  active_until: p.active_until,
});

export async function operatorProfile(
  deps: Pick<Im3Deps, 'db' | 'operator' | 'sealKey' | 'config' | 'now' | 'profileCache'>,
  accountId: number,
  charge: () => Promise<void>,
): Promise<Record<string, unknown>> {
  const { profileCache: cache } = deps;
  const ttl = deps.config.im3ProfileCacheMs;
  const sealed = (await findSession(deps.db, accountId))?.session_sealed;
  const now = deps.now().getTime();
  const hit = cache.get(accountId);
  // A new OTP or number replaces the sealed session, so an answer read with another one is never shown.
  if (hit && sealed && hit.sealed === sealed && now - hit.at < ttl) return hit.profile;
  await charge();
  const { session } = await operatorSession(deps, accountId);
  const read = deps.operator.profile(session).then(shown, (err: unknown) => fromOperator(err, false));
  if (ttl > 0 && sealed) {
    cache.delete(accountId);
    if (cache.size >= MAX_ACCOUNTS) {
      const oldest = cache.keys().next();
      if (!oldest.done) cache.delete(oldest.value);
    }
    const entry = { sealed, at: now, profile: read };
    cache.set(accountId, entry);
    // A failed read is not remembered: the next one asks the operator again.
    read.catch(() => {
      if (cache.get(accountId) === entry) cache.delete(accountId);
    });
  }
  return read;
}
