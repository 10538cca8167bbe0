// Failed sign-ins per account: after five failures in fifteen minutes the login is refused for a while, one minute
// the first time and twice as long each time after (at most an hour) until a day passes without a lockout or a
// sign-in succeeds. The account is named by what the caller typed, hashed, so an unknown id is counted and locked
// exactly like a known one: the answers never tell which ids exist. The counts live where the rate limits live
// (Redis, so every instance sees them; process memory on the embedded default).
import { createHash } from 'node:crypto';
import { type Limiter, RateLimitError } from '../limits/limiter.ts';

export const SIGN_IN_FAILURES_BEFORE_LOCK = 5;
const FAILURE_WINDOW_MS = 15 * 60_000;
const LOCK_FIRST_MS = 60_000;
const LOCK_LONGEST_MS = 60 * 60_000;
const LOCKOUT_MEMORY_MS = 24 * 60 * 60_000;
/** Wrong API keys from one client IP before its unknown keys are refused for the rest of the window. */
export const API_KEY_FAILURES_PER_IP = 20;
const API_KEY_WINDOW_MS = 5 * 60_000;

export function createSignInAttempts(limiter: Limiter, enabled: boolean) {
  const subjectOf = (login: string) =>
    createHash('sha256').update(login.trim().toLowerCase()).digest('base64url').slice(0, 32);

  return {
    /** Throws 429 with the wait while `login` is locked out. */
    async check(login: string): Promise<void> {
      if (!enabled) return;
      const ms = await limiter.blockedFor('sign-in-lock', subjectOf(login));
      if (ms > 0) throw new RateLimitError(Math.ceil(ms / 1000));
    },

    async failed(login: string): Promise<void> {
      if (!enabled) return;
      const s = subjectOf(login);
      const r = await limiter.hit('sign-in-fail', s, SIGN_IN_FAILURES_BEFORE_LOCK, FAILURE_WINDOW_MS);
      if (r.count < SIGN_IN_FAILURES_BEFORE_LOCK) return;
      const lockouts = await limiter.hit('sign-in-lockouts', s, Number.MAX_SAFE_INTEGER, LOCKOUT_MEMORY_MS);
      const ms = Math.min(LOCK_LONGEST_MS, LOCK_FIRST_MS * 2 ** Math.min(20, lockouts.count - 1));
      await limiter.block('sign-in-lock', s, ms);
      await limiter.clear('sign-in-fail', s, FAILURE_WINDOW_MS);
    },

    /** Throws 429 when `ip` has sent too many wrong API keys lately. */
    async checkKeyFrom(ip: string): Promise<void> {
      if (!enabled) return;
      const r = await limiter.peek('api-key-fail', ip, API_KEY_FAILURES_PER_IP, API_KEY_WINDOW_MS);
      if (!r.allowed) throw new RateLimitError(r.retryAfterSeconds);
    },

    async keyFailedFrom(ip: string): Promise<void> {
      if (enabled) await limiter.hit('api-key-fail', ip, API_KEY_FAILURES_PER_IP, API_KEY_WINDOW_MS);
    },

    async succeeded(login: string): Promise<void> {
      if (!enabled) return;
      const s = subjectOf(login);
      await limiter.clear('sign-in-fail', s, FAILURE_WINDOW_MS);
      await limiter.clear('sign-in-lockouts', s, LOCKOUT_MEMORY_MS);
    },
  };
}

export type SignInAttempts = ReturnType<typeof createSignInAttempts>;
