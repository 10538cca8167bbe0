// /saldo: the wallet's balance with the reseller's profile.
import { balanceOf, walletCode } from '../../../core/ledger/ledger.ts';
import { MODULE } from '../ledger.ts';
import { profileOf } from '../repo/resellers.ts';
import type { PpobDeps } from '../wire.ts';

export async function balanceAndProfile(d: Pick<PpobDeps, 'core' | 'db'>, accountId: number) {
  const [saldo, profile, account] = await Promise.all([
    balanceOf(d.db, walletCode(MODULE, accountId)),
    profileOf(d.db, accountId),
    d.core.identity.service.getAccount(accountId),
  ]);
  return {
    saldo,
    nama: account.name,
    email: account.email,
    hp: profile?.hp ?? null,
    callback_url: profile?.callback_url ?? null,
  };
}
