// Photos of a COMPLETED transaction are stored and, with the first upload, the gallery link is e-mailed (through
// the outbox, in the same transaction as the photo rows). Files are checked by their first bytes. If anything is
// refused, the files this request already stored are removed again and nothing is recorded.
import { randomBytes } from 'node:crypto';
import { withTransaction } from '../../../core/db/transaction.ts';
import { AppError } from '../../../core/http/errors.ts';
import { GALLERY_TTL_MS } from '../constants.ts';
import { MESSAGES } from '../messages.ts';
import * as repo from '../repo/index.ts';
import type { PhotoboxDeps } from '../wire.ts';
import { galleryExpired, galleryOf } from './gallery.ts';
import { galleryMail } from './mails.ts';

/** One part of a multipart upload, as the route hands it over. `read` enforces the size limit. */
export type UploadPart =
  | { type: 'field'; name: string; value: string }
  | { type: 'file'; field: string; filename: string; read: () => Promise<Buffer> };

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** What the bytes are, by their first bytes (never by the file name or the declared type). */
export function imageType(b: Buffer): { ext: 'jpg' | 'png'; mime: 'image/jpeg' | 'image/png' } | undefined {
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return { ext: 'jpg', mime: 'image/jpeg' };
  if (b.length > 8 && b.subarray(0, 8).equals(PNG_SIGNATURE)) return { ext: 'png', mime: 'image/png' };
  return undefined;
}

const EMAIL = /^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$/;
/** A file name fit to repeat in a message: printable, bounded. */
const shown = (s: string) => JSON.stringify(s.replace(/[^\x20-\x7e]/g, '?').slice(0, 80));

export async function uploadPhotos(
  deps: Pick<PhotoboxDeps, 'db' | 'now' | 'config' | 'store' | 'logger' | 'outbox' | 'links'>,
  externalId: string,
  parts: AsyncIterable<UploadPart>,
) {
  const { db, now, config, store } = deps;
  const tr = await repo.transactionByExternalId(db, externalId);
  if (!tr) throw new AppError('NOT_FOUND', MESSAGES.transactionNotFound);
  if (tr.tr_status !== 'COMPLETED') {
    throw new AppError(
      'CONFLICT',
      `Photos can be uploaded only for a COMPLETED transaction; this one is ${tr.tr_status}`,
    );
  }
  if (galleryExpired(tr, now())) throw new AppError('CONFLICT', MESSAGES.galleryExpired);
  const maxTotal = config.photoboxMaxPhotosPerTransaction;
  const maxNow = config.photoboxMaxFilesPerUpload;
  const existing = await repo.photoCount(db, tr.tr_id);
  const tooMany = () =>
    new AppError(
      'BUSINESS_LOGIC_ERROR',
      `A transaction may have at most ${maxTotal} photos; this one already has ${existing}`,
    );
  if (existing >= maxTotal) throw tooMany();

  const stored: repo.NewPhoto[] = [];
  let emailField: string | undefined;
  try {
    for await (const part of parts) {
      if (part.type === 'field') {
        if (part.name === 'email') emailField = part.value.trim().toLowerCase();
        continue;
      }
      if (part.field !== 'files') {
        throw new AppError(
          'BUSINESS_LOGIC_ERROR',
          `Unexpected file field ${shown(part.field)}; send photos as "files"`,
        );
      }
      if (stored.length >= maxNow) {
        throw new AppError('BUSINESS_LOGIC_ERROR', `Too many files: at most ${maxNow} photos per upload`);
      }
      if (existing + stored.length >= maxTotal) throw tooMany();
      const data = await part.read();
      const type = imageType(data);
      if (!type) throw new AppError('BUSINESS_LOGIC_ERROR', `${shown(part.filename)} is not a JPEG or PNG image`);
      const key = `photobox/${tr.tr_external_id}/${randomBytes(12).toString('hex')}.${type.ext}`;
      try {
        await store.put(key, data, type.mime);
      } catch (err) {
        deps.logger.error(
          { err: { message: err instanceof Error ? err.message : String(err) }, key },
          'photo could not be stored',
        );
        throw new AppError('SERVICE_UNAVAILABLE', MESSAGES.photoStoreDown);
      }
      stored.push({ key, token: randomBytes(24).toString('base64url'), mime: type.mime, size: data.length });
    }
    if (stored.length === 0) {
      throw new AppError('BUSINESS_LOGIC_ERROR', 'No photos: send one or more JPEG or PNG files as "files"');
    }
    if (emailField !== undefined && (emailField.length > 320 || !EMAIL.test(emailField))) {
      throw new AppError('VALIDATION_ERROR', 'email is not an e-mail address', {
        details: { email: ['must be an e-mail address'] },
      });
    }
    const email = emailField;
    return await withTransaction(db, async (trx) => {
      // Locked, and counted again: two uploads at once cannot pass the limit together.
      const locked = await repo.transactionByExternalId(trx, externalId, true);
      if (!locked) throw new AppError('NOT_FOUND', MESSAGES.transactionNotFound);
      if ((await repo.photoCount(trx, locked.tr_id)) + stored.length > maxTotal) throw tooMany();
      if (galleryExpired(locked, now())) throw new AppError('CONFLICT', MESSAGES.galleryExpired);
      const recipient = locked.tr_email_sent_at ? locked.tr_email : (email ?? locked.tr_email);
      if (!recipient) {
        throw new AppError('VALIDATION_ERROR', 'No e-mail address to send the gallery link to', {
          details: { email: ['is required (the transaction has none)'] },
        });
      }
      if (locked.tr_email_sent_at && email && email !== locked.tr_email) {
        throw new AppError('CONFLICT', 'The gallery link was already e-mailed; its address can no longer change');
      }
      const at = now();
      await repo.insertPhotos(trx, locked.tr_id, stored, at);
      let current = locked;
      if (!locked.tr_email_sent_at) {
        const expiresAt = new Date(at.getTime() + GALLERY_TTL_MS);
        current = await repo.markGallerySent(trx, locked.tr_id, recipient, expiresAt, at);
        const location = await repo.getLocation(trx, locked.tr_location_id);
        await deps.outbox.send(
          trx,
          galleryMail({
            to: recipient,
            externalId: locked.tr_external_id,
            location,
            galleryUrl: deps.links.gallery(locked.tr_external_id),
            photoUrls: stored.map((s) => deps.links.photo(s.token)),
            expiresAt,
          }),
        );
      }
      return { uploaded: stored.length, ...(await galleryOf(deps, trx, current)) };
    });
  } catch (err) {
    await Promise.allSettled(stored.map((s) => store.delete(s.key)));
    throw err;
  }
}
