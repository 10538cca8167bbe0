// SQL for kiosks: the module's own row per kiosk account (the account and its key belong to the core).
import type { Executor } from '../../../core/db/tables.ts';

export const insertKiosk = (db: Executor, v: { account_id: number; name: string; created_by: number }, now: Date) =>
  db
    .insertInto('photobox_kiosks')
    .values({ ...v, created_at: now, updated_at: now })
    .execute();

export const getKiosk = (db: Executor, accountId: number) =>
  db.selectFrom('photobox_kiosks').selectAll().where('account_id', '=', accountId).executeTakeFirst();

export const listKiosks = (db: Executor) =>
  db.selectFrom('photobox_kiosks').selectAll().orderBy('account_id').execute();

export const deleteKiosk = (db: Executor, accountId: number) =>
  db.deleteFrom('photobox_kiosks').where('account_id', '=', accountId).execute();
