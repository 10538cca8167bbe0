// One stored photo, by the unguessable token in its URL; gone once its gallery expired.
import { AppError } from '../../../core/http/errors.ts';
import { StorageError } from '../../../core/storage/index.ts';
import { MESSAGES } from '../messages.ts';
import * as repo from '../repo/index.ts';
import type { PhotoboxDeps } from '../wire.ts';
import { galleryExpired } from './gallery.ts';

export async function openPhoto(deps: Pick<PhotoboxDeps, 'db' | 'now' | 'store' | 'logger'>, token: string) {
  if (!/^[A-Za-z0-9_-]{32}$/.test(token)) throw new AppError('NOT_FOUND', MESSAGES.photoNotFound);
  const p = await repo.photoByToken(deps.db, token);
  if (!p || p.ph_deleted_at !== null || galleryExpired(p, deps.now())) {
    throw new AppError('NOT_FOUND', MESSAGES.photoNotFound);
  }
  let object: Awaited<ReturnType<PhotoboxDeps['store']['get']>>;
  try {
    object = await deps.store.get(p.ph_storage_key);
  } catch (err) {
    if (!(err instanceof StorageError)) throw err;
    deps.logger.error({ err: { message: err.message } }, 'photo could not be read');
    throw new AppError('SERVICE_UNAVAILABLE', MESSAGES.photoStoreDown);
  }
  if (!object) throw new AppError('NOT_FOUND', MESSAGES.photoNotFound);
  const ext = p.ph_content_type === 'image/png' ? 'png' : 'jpg';
  return {
    body: object.body,
    size: object.size ?? p.ph_size_bytes,
    contentType: p.ph_content_type,
    filename: `${p.tr_external_id}-${p.ph_id}.${ext}`,
  };
}
