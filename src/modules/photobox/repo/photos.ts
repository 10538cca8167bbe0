// SQL for photos. Every function takes the handle it runs on (the pool or the caller's transaction).
import { sql } from 'kysely';
import type { Executor } from '../../../core/db/tables.ts';
import type { Transaction } from './tables.ts';

// ---- photos ---------------------------------------------------------------------------------------------------

export const livePhotos = (db: Executor, transactionId: number) =>
  db
    .selectFrom('photobox_photos')
    .selectAll()
    .where('ph_transaction_id', '=', transactionId)
    .where('ph_deleted_at', 'is', null)
    .orderBy('ph_id')
    .execute();

export async function photoCount(db: Executor, transactionId: number): Promise<number> {
  const row = await db
    .selectFrom('photobox_photos')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('ph_transaction_id', '=', transactionId)
    .executeTakeFirstOrThrow();
  return row.n;
}

export const photoByToken = (db: Executor, token: string) =>
  db
    .selectFrom('photobox_photos as p')
    .innerJoin('photobox_transactions as t', 't.tr_id', 'p.ph_transaction_id')
    .select([
      'p.ph_id',
      'p.ph_storage_key',
      'p.ph_content_type',
      'p.ph_size_bytes',
      'p.ph_deleted_at',
      't.tr_external_id',
      't.tr_photos_expire_at',
    ])
    .where('p.ph_token', '=', token)
    .executeTakeFirst();

/** Photos whose gallery has expired and whose files are still stored, oldest first. */
export const expiredPhotos = (db: Executor, now: Date, limit: number) =>
  db
    .selectFrom('photobox_photos as p')
    .innerJoin('photobox_transactions as t', 't.tr_id', 'p.ph_transaction_id')
    .select(['p.ph_id', 'p.ph_storage_key'])
    .where('t.tr_photos_expire_at', '<=', now)
    .where('p.ph_deleted_at', 'is', null)
    .orderBy('p.ph_id')
    .limit(limit)
    .execute();

export interface NewPhoto {
  token: string;
  key: string;
  mime: string;
  size: number;
}

export const insertPhotos = (db: Executor, transactionId: number, photos: readonly NewPhoto[], now: Date) =>
  db
    .insertInto('photobox_photos')
    .values(
      photos.map((s) => ({
        ph_transaction_id: transactionId,
        ph_token: s.token,
        ph_storage_key: s.key,
        ph_content_type: s.mime,
        ph_size_bytes: s.size,
        ph_created_at: now,
      })),
    )
    .execute();

/** The gallery e-mail is on its way to `email`; the photos expire at `expiresAt`. */
export const markGallerySent = (
  db: Executor,
  transactionId: number,
  email: string,
  expiresAt: Date,
  now: Date,
): Promise<Transaction> =>
  db
    .updateTable('photobox_transactions')
    .set({ tr_email: email, tr_email_sent_at: now, tr_photos_expire_at: expiresAt, tr_updated_at: now })
    .where('tr_id', '=', transactionId)
    .returningAll()
    .executeTakeFirstOrThrow();

/** The photo's file is removed from the store. */
export const markPhotoDeleted = (db: Executor, id: number, now: Date) =>
  db.updateTable('photobox_photos').set({ ph_deleted_at: now }).where('ph_id', '=', id).execute();
