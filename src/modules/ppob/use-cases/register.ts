// Registration: an account (or the unverified one already there) with a PPOB profile, and an OTP by e-mail.
// Registering again before verifying replaces the name and hp together with what was sent last (hp left out or
// null clears it): the details a reseller confirms with the OTP are those of the registration the OTP answers.
import type { RequestOrigin } from '../../../core/audit/audit.ts';
import { withTransaction } from '../../../core/db/transaction.ts';
import { AppError } from '../../../core/http/errors.ts';
import { findByLogin } from '../../../core/identity/accounts.ts';
import { MODULE } from '../ledger.ts';
import { hpOf } from '../numbers.ts';
import { profileOf, upsertProfile } from '../repo/resellers.ts';
import type { PpobDeps } from '../wire.ts';

export const OTP_PURPOSE = 'ppob.register';

export async function register(
  d: Pick<PpobDeps, 'core' | 'db' | 'now'>,
  input: { nama: string; email: string; hp?: string | null },
  origin: RequestOrigin,
): Promise<void> {
  const { db, core } = d;
  const email = input.email.trim().toLowerCase();
  const nama = input.nama.trim();
  if (nama === '') {
    throw new AppError('VALIDATION_ERROR', 'Data tidak valid: nama tidak boleh kosong', {
      details: { nama: ['tidak boleh kosong'] },
    });
  }
  const hp = hpOf(input.hp);
  let account = await findByLogin(db, email);
  if (account) {
    const profile = await profileOf(db, account.id);
    if (profile?.is_verified) throw new AppError('CONFLICT', 'Email sudah terdaftar.');
    await core.identity.service.updateAccount(account.id, { name: nama, phone: hp }, account.id, origin);
  } else {
    await core.identity.service.createAccount(
      { email, name: nama, phone: hp, memberships: { [MODULE]: 1 } },
      null,
      origin,
    );
    account = await findByLogin(db, email);
  }
  if (!account) throw new Error(`account ${email} was not created`);
  const accountId = account.id;
  await withTransaction(db, async (trx) => {
    await upsertProfile(trx, accountId, hp, d.now());
    await core.identity.otp.issue(trx, OTP_PURPOSE, email, {
      channel: 'email',
      to: email,
      subject: 'Kode OTP registrasi PPOB',
      body: (code) =>
        `Halo ${nama},\n\nKode OTP Anda: ${code}\nBerlaku 5 menit. Jangan berikan kode ini kepada siapa pun.`,
    });
  });
}
