// The document's gallery of a transaction: 404 until the gallery e-mail went out, and again once it expired.
import { AppError } from '../../../core/http/errors.ts';
import { MESSAGES } from '../messages.ts';
import * as repo from '../repo/index.ts';
import { time } from '../views.ts';
import type { PhotoboxDeps } from '../wire.ts';

/** Whether the photos of a transaction have expired (their files are removed by the daily cleanup). */
export const galleryExpired = (tr: { tr_photos_expire_at: Date | string | null }, now: Date) =>
  tr.tr_photos_expire_at !== null && new Date(tr.tr_photos_expire_at).getTime() <= now.getTime();

/** The gallery as the API shows it; only for a transaction whose gallery e-mail was sent. */
export async function galleryOf(deps: Pick<PhotoboxDeps, 'links'>, db: PhotoboxDeps['db'], tr: repo.Transaction) {
  const photos = await repo.livePhotos(db, tr.tr_id);
  return {
    external_id: tr.tr_external_id,
    photo_count: photos.length,
    // Set together when the gallery e-mail went out, which is all this is called for.
    email_sent_at: time(tr.tr_email_sent_at as Date),
    expiry_date: time(tr.tr_photos_expire_at as Date),
    photos: photos.map((p) => ({ url: deps.links.photo(p.ph_token) })),
  };
}

export async function gallery(deps: Pick<PhotoboxDeps, 'db' | 'now' | 'links'>, externalId: string) {
  const tr = await repo.transactionByExternalId(deps.db, externalId);
  if (!tr) throw new AppError('NOT_FOUND', MESSAGES.transactionNotFound);
  if (!tr.tr_email_sent_at) throw new AppError('NOT_FOUND', MESSAGES.noPhotos);
  if (galleryExpired(tr, deps.now())) throw new AppError('NOT_FOUND', MESSAGES.galleryExpired);
  const g = await galleryOf(deps, deps.db, tr);
  if (g.photo_count === 0) throw new AppError('NOT_FOUND', MESSAGES.noPhotos);
  return g;
}
