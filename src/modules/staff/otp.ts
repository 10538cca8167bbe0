// The staff OTP flow of the seed document, on one of two stores. With Redis, the state lives under the
// document's own keys (`otp:{id}` holding the code's HMAC, `otp:attempts:{id}`, both with the 5-minute TTL) so an
// operator can inspect it as the document describes; the check runs as one Lua script, so concurrent answers are
// decided one at a time. Without Redis, the core OTP service (PostgreSQL) does the same.
import { randomInt } from 'node:crypto';
import type { Redis } from 'ioredis';
import { hmacHex } from '../../core/crypto.ts';
import type { Executor } from '../../core/db/tables.ts';
import type { Otp } from '../../core/identity/otp.ts';
import { OTP_MAX_ATTEMPTS, OTP_TTL_MS } from '../../core/identity/otp.ts';

export type StaffOtpCheck = 'ok' | 'missing' | 'wrong' | 'locked';

export interface StaffOtpStore {
  /** Stores a new code for `id` (replacing any other and resetting the tries) and returns it. */
  issue(db: Executor, id: string): Promise<string>;
  /** 'locked' means a 4th try after three wrong ones: the code is gone afterwards. */
  verify(id: string, code: string): Promise<StaffOtpCheck>;
}

const PURPOSE = 'staff';

// KEYS[1] = otp:{id}, KEYS[2] = otp:attempts:{id}; ARGV[1] = HMAC of the code given, ARGV[2] = max tries,
// ARGV[3] = TTL seconds. Returns 0 missing, 1 locked, 2 ok, 3 wrong.
const VERIFY_SCRIPT = `
local stored = redis.call('GET', KEYS[1])
if not stored then return 0 end
local attempts = tonumber(redis.call('GET', KEYS[2]) or '0')
if attempts >= tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[1], KEYS[2])
  return 1
end
if stored == ARGV[1] then
  redis.call('DEL', KEYS[1], KEYS[2])
  return 2
end
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
return 3
`;

/** `checkSendLimit` throws when too many codes were sent to this id (the same counter the core service keeps). */
export function redisOtpStore(
  redis: Redis,
  hmacKey: Buffer,
  checkSendLimit: (key: string) => Promise<void>,
): StaffOtpStore {
  const hash = (id: string, code: string) => hmacHex(hmacKey, `${PURPOSE}\0${id}\0${code}`);
  const ttl = Math.round(OTP_TTL_MS / 1000);
  return {
    async issue(_db, id) {
      await checkSendLimit(`${PURPOSE}:${id}`);
      const code = String(randomInt(100_000, 1_000_000));
      await redis.multi().set(`otp:${id}`, hash(id, code), 'EX', ttl).del(`otp:attempts:${id}`).exec();
      return code;
    },
    async verify(id, code) {
      const r = Number(
        await redis.eval(VERIFY_SCRIPT, 2, `otp:${id}`, `otp:attempts:${id}`, hash(id, code), OTP_MAX_ATTEMPTS, ttl),
      );
      return (['missing', 'locked', 'ok', 'wrong'] as const)[r] ?? 'missing';
    },
  };
}

export function coreOtpStore(otp: Otp): StaffOtpStore {
  return {
    async issue(db, id) {
      return (await otp.issue(db, PURPOSE, id)).code;
    },
    async verify(id, code) {
      const r = await otp.verify(PURPOSE, id, code);
      if (r.ok) return 'ok';
      if (r.reason === 'locked') {
        await otp.reset(PURPOSE, id); // the document resets the OTP once the limit is hit
        return 'locked';
      }
      return r.reason === 'wrong' ? 'wrong' : 'missing';
    },
  };
}
