// Verifying the registration OTP: the profile becomes verified and the first API key pair is issued (shown once).
import { withTransaction } from '../../../core/db/transaction.ts';
import { AppError } from '../../../core/http/errors.ts';
import { findByLogin } from '../../../core/identity/accounts.ts';
import { MODULE } from '../ledger.ts';
import { markVerified, profileOf } from '../repo/resellers.ts';
import type { PpobDeps } from '../wire.ts';
import { OTP_PURPOSE } from './register.ts';

type Deps = Pick<PpobDeps, 'core' | 'db' | 'now'>;

export async function verifyOtp(d: Deps, emailRaw: string, code: string) {
  const { db, core } = d;
  const email = emailRaw.trim().toLowerCase();
  const account = await findByLogin(db, email);
  const profile = account ? await profileOf(db, account.id) : undefined;
  if (!account || !profile) throw new AppError('NOT_FOUND', 'Email belum terdaftar. Silakan /register dahulu.');
  if (profile.is_verified) {
    throw new AppError('CONFLICT', 'Akun sudah terverifikasi. Gunakan /generate-key untuk kunci baru.');
  }
  const check = await core.identity.otp.verify(OTP_PURPOSE, email, code.trim());
  if (!check.ok) {
    if (check.reason === 'locked') {
      throw new AppError('RATE_LIMITED', 'Terlalu banyak percobaan OTP salah. Minta OTP baru lewat /register.');
    }
    if (check.reason === 'wrong') throw new AppError('BAD_REQUEST', 'OTP salah.');
    throw new AppError('BAD_REQUEST', 'OTP tidak ditemukan atau sudah kedaluwarsa.');
  }
  const keys = await withTransaction(db, async (trx) => {
    await markVerified(trx, account.id, d.now());
    return core.identity.apiKeys.issue(trx, account.id, MODULE);
  });
  await core.identity.apiKeys.announce(keys.revokedHashes);
  return keys;
}
