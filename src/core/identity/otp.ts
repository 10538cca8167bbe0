// One-time passwords (CONTRACTS §2): 6 digits from a CSPRNG, stored as an HMAC, valid 5 minutes, single use,
// three wrong tries invalidate the code (the next try is refused as locked), a new code replaces the old one,
// and sending is limited per target. Each purpose (a module's `register`, `login`, …) has its own challenges.
import { randomInt } from 'node:crypto';
import type { Kysely } from 'kysely';
import { hmacHex, safeEqual } from '../crypto.ts';
import type { Executor, Tables } from '../db/tables.ts';
import { withTransaction } from '../db/transaction.ts';
import { type Limiter, RateLimitError } from '../limits/limiter.ts';
import type { Channel, Outbox } from '../notify/outbox.ts';

export const OTP_TTL_MS = 5 * 60_000;
export const OTP_MAX_ATTEMPTS = 3;
export const OTP_SENDS_PER_WINDOW = 5;
export const OTP_SEND_WINDOW_MS = 15 * 60_000;

export type OtpCheck =
  | { ok: true }
  | { ok: false; reason: 'missing' | 'expired' | 'locked' }
  | { ok: false; reason: 'wrong'; attemptsLeft: number };

export interface OtpDelivery {
  channel: Channel;
  to: string;
  subject?: string;
  /** The message text; it must contain the code. */
  body: (code: string) => string;
}

export function createOtp(deps: {
  db: Kysely<Tables>;
  outbox: Outbox;
  limiter: Limiter;
  limitsEnabled: boolean;
  hmacKey: Buffer;
  now: () => Date;
}) {
  const hashOf = (purpose: string, target: string, code: string) =>
    hmacHex(deps.hmacKey, `${purpose}\0${target}\0${code}`);

  return {
    /**
     * Creates (or replaces) the challenge for `purpose`/`target` and queues its delivery, both on `db` (pass the
     * caller's transaction to tie them to its change). Throws RateLimitError past 5 sends in 15 minutes.
     */
    async issue(
      db: Executor,
      purpose: string,
      target: string,
      delivery?: OtpDelivery,
    ): Promise<{ code: string; expiresAt: Date }> {
      if (deps.limitsEnabled) {
        const r = await deps.limiter.hit('otp-send', `${purpose}:${target}`, OTP_SENDS_PER_WINDOW, OTP_SEND_WINDOW_MS);
        if (!r.allowed) throw new RateLimitError(r.retryAfterSeconds);
      }
      // 100000–999999, as the originals drew them: never a leading 0 a client or a spreadsheet could drop.
      const code = String(randomInt(100_000, 1_000_000));
      const expiresAt = new Date(deps.now().getTime() + OTP_TTL_MS);
      await db
        .insertInto('otp_challenges')
        .values({ purpose, target, code_hash: hashOf(purpose, target, code), attempts: 0, expires_at: expiresAt })
        .onConflict((oc) =>
          oc.columns(['purpose', 'target']).doUpdateSet({
            code_hash: hashOf(purpose, target, code),
            attempts: 0,
            expires_at: expiresAt,
            created_at: deps.now(),
          }),
        )
        .execute();
      if (delivery) {
        await deps.outbox.send(db, {
          channel: delivery.channel,
          to: delivery.to,
          subject: delivery.subject,
          body: delivery.body(code),
        });
      }
      return { code, expiresAt };
    },

    /** Checks a code. Success consumes it; a wrong code counts a try. Concurrent checks are serialised. */
    async verify(purpose: string, target: string, code: string): Promise<OtpCheck> {
      return withTransaction(deps.db, async (trx) => {
        const row = await trx
          .selectFrom('otp_challenges')
          .selectAll()
          .where('purpose', '=', purpose)
          .where('target', '=', target)
          .forUpdate()
          .executeTakeFirst();
        if (!row) return { ok: false, reason: 'missing' };
        if (new Date(row.expires_at).getTime() <= deps.now().getTime()) {
          await trx.deleteFrom('otp_challenges').where('id', '=', row.id).execute();
          return { ok: false, reason: 'expired' };
        }
        if (row.attempts >= OTP_MAX_ATTEMPTS) return { ok: false, reason: 'locked' };
        if (/^\d{6}$/.test(code) && safeEqual(row.code_hash, hashOf(purpose, target, code))) {
          await trx.deleteFrom('otp_challenges').where('id', '=', row.id).execute();
          return { ok: true };
        }
        await trx
          .updateTable('otp_challenges')
          .set({ attempts: row.attempts + 1 })
          .where('id', '=', row.id)
          .execute();
        return { ok: false, reason: 'wrong', attemptsLeft: OTP_MAX_ATTEMPTS - row.attempts - 1 };
      });
    },

    /** Forgets a challenge (for example when a module resets it after too many tries). */
    async reset(purpose: string, target: string): Promise<void> {
      await deps.db.deleteFrom('otp_challenges').where('purpose', '=', purpose).where('target', '=', target).execute();
    },
  };
}

export type Otp = ReturnType<typeof createOtp>;
