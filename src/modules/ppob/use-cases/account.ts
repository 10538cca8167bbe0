// What a reseller reads about themselves: one transaction, the last 100, the balance and profile, the callback
// URL and its deliveries. Another reseller's transaction is not found.
import { balanceOf, walletCode } from '../../../core/ledger/ledger.ts';
import { MODULE } from '../ledger.ts';
import { history, transactionOf } from '../repo/purchases.ts';
import { callbackLog, profileOf } from '../repo/resellers.ts';
import type { PpobDeps } from '../wire.ts';

type Deps = Pick<PpobDeps, 'core' | 'db'>;

export const transactionStatus = (d: Deps, accountId: number, trxId: string) => transactionOf(d.db, accountId, trxId);

export const recentTransactions = (d: Deps, accountId: number) => history(d.db, accountId);

export async function balanceAndProfile(d: Deps, accountId: number) {
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

export async function callbackSettings(d: Deps, accountId: number) {
  const [profile, log] = await Promise.all([profileOf(d.db, accountId), callbackLog(d.db, accountId)]);
  return {
    url: profile?.callback_url ?? null,
    deliveries: log.map((c) => ({
      ...c,
      delivered_at: c.delivered_at ? new Date(c.delivered_at).toISOString() : null,
      created_at: new Date(c.created_at).toISOString(),
    })),
  };
}
