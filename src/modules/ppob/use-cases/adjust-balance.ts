// An admin credits or debits a reseller's wallet: ledgered against the adjustments account, never below zero,
// audited with its reason.
import { randomBytes } from 'node:crypto';
import { type RequestOrigin, recordActivity } from '../../../core/audit/audit.ts';
import { withTransaction } from '../../../core/db/transaction.ts';
import { AppError } from '../../../core/http/errors.ts';
import { findByLogin } from '../../../core/identity/accounts.ts';
import { walletCode } from '../../../core/ledger/ledger.ts';
import { ADJUSTMENTS, MODULE, postOrFail, wallet } from '../ledger.ts';
import { profileOf } from '../repo/resellers.ts';
import type { PpobDeps } from '../wire.ts';

export async function adjustBalance(
  d: Pick<PpobDeps, 'db' | 'now'>,
  input: { email: string; amount: number; reason: string },
  actor: number,
  origin: RequestOrigin,
) {
  const { db, now } = d;
  const account = await findByLogin(db, input.email);
  if (!account || !(await profileOf(db, account.id))) {
    throw new AppError('NOT_FOUND', 'Akun PPOB dengan email ini tidak ditemukan');
  }
  const reference = `ADJ-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  return withTransaction(db, async (trx) => {
    const balances = await postOrFail(trx, { kind: 'ppob.adjustment', reference, at: now() }, [
      { account: wallet(account.id), amount: input.amount },
      { account: ADJUSTMENTS, amount: -input.amount },
    ]);
    const saldo = balances.get(walletCode(MODULE, account.id)) ?? 0;
    await recordActivity(
      trx,
      {
        accountId: actor,
        action: 'ppob.balance.adjusted',
        objectType: 'account',
        objectId: account.id,
        after: { amount: input.amount, reason: input.reason, saldo, reference },
      },
      origin,
      now(),
    );
    return { reference, email: account.email, amount: input.amount, saldo };
  });
}
