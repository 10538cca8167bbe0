// Registration: an account (or the unverified one already there) with a PPOB profile, and an OTP by e-mail.
import type { RequestOrigin } from '../../../core/audit/audit.ts';
import { withTransaction } from '../../../core/db/transaction.ts';
import { AppError } from '../../../core/http/errors.ts';
import { findByLogin } from '../../../core/identity/accounts.ts';
import { MODULE } from '../ledger.ts';
import { profileOf, upsertProfile } from '../repo/resellers.ts';
import type { PpobDeps } from '../wire.ts';

export const OTP_PURPOSE = 'ppob.register';

export async function register(
  d: Pick<PpobDeps, 'core' | 'db' | 'now'>,
  input: { nama: string; email: string; hp?: string },
  origin: RequestOrigin,
): Promise<void> {
  const { db, core } = d;
  const email = input.email.trim().toLowerCase();
  let account = await findByLogin(db, email);
  if (account) {
    const profile = await profileOf(db, account.id);
    if (profile?.is_verified) throw new AppError('CONFLICT', 'Email sudah terdaftar.');
  } else {
    await core.identity.service.createAccount(
      { email, name: input.nama.trim(), phone: input.hp ?? null, memberships: { [MODULE]: 1 } },
      null,
      origin,
    );
    account = await findByLogin(db, email);
  }
  if (!account) throw new Error(`account ${email} was not created`);
  const accountId = account.id;
  await withTransaction(db, async (trx) => {
    await upsertProfile(trx, accountId, input.hp ?? null, d.now());
    await core.identity.otp.issue(trx, OTP_PURPOSE, email, {
      channel: 'email',
      to: email,
      subject: 'Kode OTP registrasi PPOB',
      body: (code) =>
        `Halo ${input.nama.trim()},\n\nKode OTP Anda: ${code}\nBerlaku 5 menit. Jangan berikan kode ini kepada siapa pun.`,
    });
  });
}
