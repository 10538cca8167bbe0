// SQL on what belongs to a reseller besides purchases: the profile, top-ups and the client callbacks. Every
// function takes the handle it runs on.
import type { Executor } from '../../../core/db/tables.ts';

// ---- profiles ----
export const profileOf = (db: Executor, accountId: number) =>
  db.selectFrom('ppob_profiles').selectAll().where('account_id', '=', accountId).executeTakeFirst();

export const upsertProfile = (db: Executor, accountId: number, hp: string | null, now: Date) =>
  db
    .insertInto('ppob_profiles')
    .values({ account_id: accountId, hp, updated_at: now })
    .onConflict((oc) => oc.column('account_id').doUpdateSet({ hp, updated_at: now }))
    .execute();

export const markVerified = (db: Executor, accountId: number, now: Date) =>
  db
    .updateTable('ppob_profiles')
    .set({ is_verified: true, updated_at: now })
    .where('account_id', '=', accountId)
    .execute();

export const setCallbackUrl = (db: Executor, accountId: number, url: string, now: Date) =>
  db
    .updateTable('ppob_profiles')
    .set({ callback_url: url, updated_at: now })
    .where('account_id', '=', accountId)
    .execute();

/** The callback URLs of those of `accountIds` that set one. */
export async function callbackUrls(db: Executor, accountIds: number[]): Promise<Map<number, string>> {
  const rows = await db
    .selectFrom('ppob_profiles')
    .select(['account_id', 'callback_url'])
    .where('account_id', 'in', accountIds)
    .where('callback_url', 'is not', null)
    .execute();
  const urls = new Map<number, string>();
  for (const p of rows) if (p.callback_url) urls.set(p.account_id, p.callback_url);
  return urls;
}

// ---- top-ups ----
export const insertDeposit = (db: Executor, v: { depositId: string; accountId: number; nominal: number; at: Date }) =>
  db
    .insertInto('ppob_deposits')
    .values({ deposit_id: v.depositId, account_id: v.accountId, nominal: v.nominal, created_at: v.at })
    .execute();

export const depositOf = (db: Executor, accountId: number, depositId: string) =>
  db
    .selectFrom('ppob_deposits')
    .selectAll()
    .where('deposit_id', '=', depositId)
    .where('account_id', '=', accountId)
    .executeTakeFirst();

export const lockDeposit = (trx: Executor, depositId: string) =>
  trx.selectFrom('ppob_deposits').selectAll().where('deposit_id', '=', depositId).forUpdate().executeTakeFirst();

export const setDepositStatus = (trx: Executor, id: number, status: string, paidAt: Date | null) =>
  trx.updateTable('ppob_deposits').set({ status, paid_at: paidAt }).where('id', '=', id).execute();

// ---- client callbacks ----
/** Stores a callback to send; undefined when one with this webhook id exists already. */
export const insertCallback = (
  db: Executor,
  v: { accountId: number; trxId: string; url: string; webhookId: string; payload: unknown; at: Date },
) =>
  db
    .insertInto('ppob_callbacks')
    .values({
      account_id: v.accountId,
      trx_id: v.trxId,
      url: v.url,
      webhook_id: v.webhookId,
      payload: JSON.stringify(v.payload),
      created_at: v.at,
    })
    .onConflict((oc) => oc.column('webhook_id').doNothing())
    .returning('id')
    .executeTakeFirst();

export const findCallback = (db: Executor, id: number) =>
  db.selectFrom('ppob_callbacks').selectAll().where('id', '=', id).executeTakeFirst();

export const recordCallbackAttempt = (
  db: Executor,
  id: number,
  v: { status: number | null; error: string | null; deliveredAt: Date | null },
) =>
  db
    .updateTable('ppob_callbacks')
    .set((eb) => ({
      attempts: eb('attempts', '+', 1),
      last_status: v.status,
      last_error: v.error,
      delivered_at: v.deliveredAt,
    }))
    .where('id', '=', id)
    .execute();

export const callbackLog = (db: Executor, accountId: number, limit = 100) =>
  db
    .selectFrom('ppob_callbacks')
    .select(['webhook_id', 'trx_id', 'url', 'attempts', 'last_status', 'last_error', 'delivered_at', 'created_at'])
    .where('account_id', '=', accountId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
