// Business rules of the photobox module (seed 001): locations and prices (with an optional quota), QRIS
// transactions through the payments core, photo uploads into the object store, the gallery e-mail and its expiry,
// and kiosk credentials.
import { randomBytes } from 'node:crypto';
import { type Actor, recordAction } from '../../core/audit/audit.ts';
import type { Core } from '../../core/context.ts';
import type { Executor, Trx } from '../../core/db/tables.ts';
import { afterCommit, withTransaction } from '../../core/db/transaction.ts';
import { AppError } from '../../core/http/errors.ts';
import { insertAccount } from '../../core/identity/accounts.ts';
import type { PaymentIntent } from '../../core/payments/service.ts';
import { type ObjectStore, StorageError } from '../../core/storage/index.ts';
import * as repo from './repo.ts';
import { createStatusCache } from './status-cache.ts';
import { createdView, locationView, paging, priceView, rowView, statusView, time } from './views.ts';

export const MODULE = 'photobox';
/** The document's QRIS lifetime. */
export const QR_TTL_MS = 15 * 60_000;
/** Photos expire this long after the gallery e-mail (the document's 14 days). */
const STATUS_TOPIC = 'photobox.status';
export const GALLERY_TTL_MS = 14 * 24 * 3600_000;
export const MAX_PHOTO_BYTES = 10 * 1024 * 1024;

export const MESSAGES = {
  locationNotFound: 'Location not found',
  locationInactive: 'This location is not active; choose an active location',
  locationNameTaken: 'A location with this name already exists',
  machineCodeTaken: 'A location with this machine code already exists',
  priceNotFound: 'Price not found',
  priceInactive: 'This price is not active; choose an active price',
  quotaUsedUp: 'The quota of this price is used up; no more sessions can be sold at it',
  transactionNotFound: 'Transaction not found',
  noPhotos: 'No photos for this transaction (yet)',
  galleryExpired: 'The photos of this transaction have expired',
  photoNotFound: 'Photo not found or expired',
  kioskNotFound: 'Kiosk not found',
  kioskNameTaken: 'A kiosk with this name already exists',
} as const;

export type { Actor } from '../../core/audit/audit.ts';

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

/** `TRX-{location_id}-{YYYYMMDDHHMMSS UTC}-{8 upper-case hex}` */
export function newExternalId(locationId: number, at: Date): string {
  const stamp = at.toISOString().slice(0, 19).replace(/[-:T]/g, '');
  return `TRX-${locationId}-${stamp}-${randomBytes(4).toString('hex').toUpperCase()}`;
}

const EMAIL = /^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$/;
/** A file name fit to repeat in a message: printable, bounded. */
const shown = (s: string) => JSON.stringify(s.replace(/[^\x20-\x7e]/g, '?').slice(0, 80));
const isUnique = (err: unknown) => (err as { code?: string })?.code === '23505';
const constraintOf = (err: unknown) => String((err as { constraint?: string })?.constraint ?? '');

const rupiah = (n: number) =>
  new Intl.NumberFormat('id-ID', { style: 'currency', currency: 'IDR', maximumFractionDigits: 0 }).format(n);
const wib = (d: Date | string) =>
  `${new Intl.DateTimeFormat('id-ID', { timeZone: 'Asia/Jakarta', dateStyle: 'long', timeStyle: 'short' }).format(new Date(d))} WIB`;

export type PhotoboxDeps = Pick<
  Core,
  'database' | 'payments' | 'outbox' | 'now' | 'config' | 'logger' | 'identity' | 'bus' | 'metrics'
>;

export function createPhotoboxService(core: PhotoboxDeps, store: ObjectStore) {
  const { db } = core.database;
  const { config } = core;
  const now = () => core.now();
  const photoUrl = (token: string) => `${config.publicUrl}/api/v1/photos/${token}`;
  const galleryUrl = (externalId: string) =>
    config.photoboxGalleryUrl.replaceAll('{external_id}', encodeURIComponent(externalId));

  const audit = (trx: Executor, actor: Actor, action: string, id: number | string, before?: unknown, after?: unknown) =>
    recordAction(trx, actor, action, id, now(), { before, after });

  // ---- payments: the core tells us, inside its transaction, when a transaction's QRIS payment changed ----------
  // Polling answers from memory (status-cache.ts): dropped on every instance once a status change has committed.
  const polls = createStatusCache<ReturnType<typeof statusView>>({ maxEntries: 50_000, pendingMaxAgeMs: 60_000 });
  core.bus.subscribe(STATUS_TOPIC, (p) => polls.invalidate(String(p.id)));
  core.bus.onGap(() => polls.forgetPending());
  const pollHits = core.metrics.cacheLookups.labels({ cache: 'photobox_status', result: 'hit' });
  const pollMisses = core.metrics.cacheLookups.labels({ cache: 'photobox_status', result: 'miss' });

  core.payments.register(MODULE, async (trx: Trx, intent: PaymentIntent) => {
    const tr = await repo.transactionByExternalId(trx, intent.reference, true);
    // One way only: a transaction that is no longer PENDING never changes again.
    if (tr?.tr_status !== 'PENDING') return;
    const paidAt = intent.status === 'COMPLETED' ? (intent.paid_at ?? now()) : null;
    await trx
      .updateTable('photobox_transactions')
      .set({
        tr_status: intent.status,
        tr_paid_at: paidAt,
        tr_xendit_id: tr.tr_xendit_id ?? intent.provider_id,
        tr_updated_at: now(),
      })
      .where('tr_id', '=', tr.tr_id)
      .where('tr_status', '=', 'PENDING')
      .execute();
    afterCommit(trx, () => {
      core.bus.publish(STATUS_TOPIC, { id: tr.tr_external_id }).catch((err) => {
        // Other instances then trust their copy for at most the cache's PENDING age (60 s).
        core.logger.warn({ err: { message: (err as Error).message } }, 'photobox status notice not sent');
      });
    });
    if (intent.status === 'COMPLETED' && tr.tr_send_invoice && tr.tr_email && paidAt) {
      const location = await repo.getLocation(trx, tr.tr_location_id);
      await core.outbox.send(trx, {
        channel: 'email',
        to: tr.tr_email,
        subject: `Bukti pembayaran photobox ${tr.tr_external_id}`,
        body: [
          'Terima kasih, pembayaran Anda sudah kami terima.',
          '',
          `Nomor transaksi: ${tr.tr_external_id}`,
          `Lokasi: ${location?.ml_name ?? '-'}`,
          `Jumlah: ${rupiah(tr.tr_amount)}`,
          `Dibayar: ${wib(paidAt)}`,
          'Metode: QRIS',
        ].join('\n'),
      });
    }
  });

  // ---- locations -------------------------------------------------------------------------------------------------

  const locationConflict = (err: unknown) =>
    isUnique(err)
      ? new AppError(
          'CONFLICT',
          constraintOf(err).includes('machine_code') ? MESSAGES.machineCodeTaken : MESSAGES.locationNameTaken,
        )
      : err;

  async function mustGetLocation(id: number) {
    const l = await repo.getLocation(db, id);
    if (!l) throw new AppError('NOT_FOUND', MESSAGES.locationNotFound);
    return l;
  }

  type LocationInput = Partial<repo.LocationFields>;
  const cleanLocation = (v: LocationInput): LocationInput => ({
    ...v,
    ...(v.ml_name !== undefined ? { ml_name: v.ml_name.trim() } : {}),
    ...(typeof v.ml_address === 'string' ? { ml_address: v.ml_address.trim() || null } : {}),
  });

  // ---- prices ----------------------------------------------------------------------------------------------------

  async function mustGetPrice(id: number) {
    const p = await repo.getPrice(db, id, now());
    if (!p) throw new AppError('NOT_FOUND', MESSAGES.priceNotFound);
    return p;
  }

  // ---- photos ----------------------------------------------------------------------------------------------------

  async function galleryOf(executor: Executor, tr: repo.Transaction) {
    const photos = await repo.livePhotos(executor, tr.tr_id);
    return {
      external_id: tr.tr_external_id,
      photo_count: photos.length,
      email_sent_at: time(tr.tr_email_sent_at as Date),
      expiry_date: time(tr.tr_photos_expire_at as Date),
      photos: photos.map((p) => ({ url: photoUrl(p.ph_token) })),
    };
  }

  const expired = (tr: { tr_photos_expire_at: Date | string | null }) =>
    tr.tr_photos_expire_at !== null && new Date(tr.tr_photos_expire_at).getTime() <= now().getTime();

  return {
    // ---- locations ----
    async listLocations(f: repo.LocationFilter) {
      const { rows, total } = await repo.listLocations(db, f);
      return { data: rows.map(locationView), ...paging(total, f.skip, f.limit) };
    },

    getLocation: async (id: number) => locationView(await mustGetLocation(id)),

    async createLocation(v: LocationInput & { ml_name: string }, actor: Actor) {
      try {
        const l = await withTransaction(db, async (trx) => {
          const c = cleanLocation(v);
          const row = await repo.insertLocation(
            trx,
            {
              ml_name: c.ml_name as string,
              ml_address: c.ml_address ?? null,
              ml_machine_code: c.ml_machine_code ?? null,
              ml_is_active: c.ml_is_active ?? true,
            },
            now(),
          );
          await audit(trx, actor, 'photobox.location.created', row.ml_id, undefined, row);
          return row;
        });
        return locationView(l);
      } catch (err) {
        throw locationConflict(err);
      }
    },

    /** PUT with the fields it is given; the others stay as they are. */
    async updateLocation(id: number, v: LocationInput, actor: Actor) {
      try {
        const l = await withTransaction(db, async (trx) => {
          const before = await repo.getLocation(trx, id);
          if (!before) throw new AppError('NOT_FOUND', MESSAGES.locationNotFound);
          const c = cleanLocation(v);
          const row = await repo.updateLocation(trx, id, c, now());
          await audit(trx, actor, 'photobox.location.updated', id, before, c);
          return row;
        });
        return locationView(l);
      } catch (err) {
        throw locationConflict(err);
      }
    },

    /** A location with transactions keeps its history: it is deactivated instead of deleted. */
    async deleteLocation(id: number, actor: Actor) {
      return withTransaction(db, async (trx) => {
        const before = await repo.getLocation(trx, id);
        if (!before) throw new AppError('NOT_FOUND', MESSAGES.locationNotFound);
        if (await repo.locationHasTransactions(trx, id)) {
          const row = await repo.updateLocation(trx, id, { ml_is_active: false }, now());
          await audit(trx, actor, 'photobox.location.deactivated', id, before);
          return { result: 'deactivated' as const, location: locationView(row) };
        }
        await repo.deleteLocation(trx, id);
        await audit(trx, actor, 'photobox.location.deleted', id, before);
        return { result: 'deleted' as const, location: locationView(before) };
      });
    },

    // ---- prices ----
    async listPrices(f: repo.PriceFilter) {
      const { rows, total } = await repo.listPrices(db, f, now());
      return { data: rows.map(priceView), ...paging(total, f.skip, f.limit) };
    },

    getPrice: async (id: number) => priceView(await mustGetPrice(id)),

    async createPrice(v: Partial<repo.PriceFields> & { mp_name: string; mp_amount: number }, actor: Actor) {
      const id = await withTransaction(db, async (trx) => {
        const fields = {
          mp_name: v.mp_name.trim(),
          mp_amount: v.mp_amount,
          mp_quota: v.mp_quota ?? null,
          mp_is_active: v.mp_is_active ?? true,
        };
        const row = await repo.insertPrice(trx, fields, now());
        await audit(trx, actor, 'photobox.price.created', row.mp_id, undefined, fields);
        return row.mp_id;
      });
      return priceView(await mustGetPrice(id));
    },

    async updatePrice(id: number, v: Partial<repo.PriceFields>, actor: Actor) {
      await withTransaction(db, async (trx) => {
        const before = await repo.getPrice(trx, id, now(), true);
        if (!before) throw new AppError('NOT_FOUND', MESSAGES.priceNotFound);
        const fields = { ...v, ...(v.mp_name !== undefined ? { mp_name: v.mp_name.trim() } : {}) };
        await repo.updatePrice(trx, id, fields, now());
        await audit(trx, actor, 'photobox.price.updated', id, before, fields);
      });
      return priceView(await mustGetPrice(id));
    },

    /** A price that was ever used is deactivated instead of deleted, so transactions keep pointing at it. */
    async deletePrice(id: number, actor: Actor) {
      return withTransaction(db, async (trx) => {
        const before = await repo.getPrice(trx, id, now(), true);
        if (!before) throw new AppError('NOT_FOUND', MESSAGES.priceNotFound);
        if (await repo.priceHasTransactions(trx, id)) {
          await repo.updatePrice(trx, id, { mp_is_active: false }, now());
          await audit(trx, actor, 'photobox.price.deactivated', id, before);
          const after = await repo.getPrice(trx, id, now());
          return { result: 'deactivated' as const, price: priceView(after as repo.PriceWithUse) };
        }
        await repo.deletePrice(trx, id);
        await audit(trx, actor, 'photobox.price.deleted', id, before);
        return { result: 'deleted' as const, price: priceView(before) };
      });
    },

    // ---- transactions ----

    /**
     * Reserves the session (location active, price quota not used up: the price row is locked while counting), then
     * asks the payments core for a QRIS valid 15 minutes, outside any transaction. A provider failure leaves the
     * transaction FAILED (the payments listener) and answers 502.
     */
    async createTransaction(
      input: { location_id: number; price_id?: number | null; email?: string | null; send_invoice?: boolean },
      actor: { accountId: number },
    ) {
      const email = input.email?.trim().toLowerCase() || null;
      if (input.send_invoice && !email) {
        throw new AppError('VALIDATION_ERROR', 'send_invoice needs an email to send the receipt to', {
          details: { email: ['is required when send_invoice is true'] },
        });
      }
      let created: repo.Transaction | undefined;
      for (let attempt = 1; !created; attempt++) {
        try {
          created = await withTransaction(db, async (trx) => {
            const location = await repo.getLocation(trx, input.location_id);
            if (!location) throw new AppError('NOT_FOUND', MESSAGES.locationNotFound);
            if (!location.ml_is_active) throw new AppError('BUSINESS_LOGIC_ERROR', MESSAGES.locationInactive);
            let amount = config.photoboxAmount;
            if (input.price_id !== undefined && input.price_id !== null) {
              const price = await repo.getPrice(trx, input.price_id, now(), true);
              if (!price) throw new AppError('NOT_FOUND', MESSAGES.priceNotFound);
              if (!price.mp_is_active) throw new AppError('BUSINESS_LOGIC_ERROR', MESSAGES.priceInactive);
              if (price.mp_quota !== null && price.used >= price.mp_quota) {
                throw new AppError('CONFLICT', MESSAGES.quotaUsedUp);
              }
              amount = price.mp_amount;
            }
            const at = now();
            return trx
              .insertInto('photobox_transactions')
              .values({
                tr_external_id: newExternalId(location.ml_id, at),
                tr_location_id: location.ml_id,
                tr_price_id: input.price_id ?? null,
                tr_account_id: actor.accountId,
                tr_amount: amount,
                tr_email: email,
                tr_send_invoice: input.send_invoice ?? false,
                tr_expired_at: new Date(at.getTime() + QR_TTL_MS),
                tr_created_at: at,
                tr_updated_at: at,
              })
              .returningAll()
              .executeTakeFirstOrThrow();
          });
        } catch (err) {
          // 32 random bits within one second and location: a clash is rare, and simply drawn again.
          if (!isUnique(err) || attempt >= 3) throw err;
        }
      }
      const intent = await core.payments.createQr({
        module: MODULE,
        reference: created.tr_external_id,
        amount: created.tr_amount,
        ttlMs: QR_TTL_MS,
      });
      const row = await db
        .updateTable('photobox_transactions')
        .set({
          tr_qris_string: intent.qr_string,
          tr_qris_url: intent.qr_string ? `${config.publicUrl}/payments/${created.tr_external_id}/qr.png` : null,
          tr_xendit_id: intent.provider_id,
          ...(intent.expires_at ? { tr_expired_at: intent.expires_at } : {}),
          tr_updated_at: now(),
        })
        .where('tr_id', '=', created.tr_id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return createdView(row);
    },

    async status(externalId: string) {
      const cached = polls.get(externalId);
      if (cached) {
        pollHits.inc();
        return cached;
      }
      pollMisses.inc();
      const begun = polls.begin();
      const tr = await repo.pollRow(core.database.pool, externalId);
      if (!tr) throw new AppError('NOT_FOUND', MESSAGES.transactionNotFound);
      const view = statusView(tr);
      polls.store(externalId, view, tr.tr_status !== 'PENDING', begun);
      return view;
    },

    count: (statuses: repo.TransactionStatus[] | undefined) => repo.countTransactions(db, statuses),

    async listTransactions(f: repo.TransactionFilter) {
      const { rows, total } = await repo.listTransactions(db, f);
      return { data: rows.map(rowView), ...paging(total, f.skip, f.limit) };
    },

    // ---- photos ----

    /**
     * Stores the photos of a COMPLETED transaction and, with the first upload, e-mails the gallery link (through
     * the outbox, in the same transaction as the photo rows). Files are checked by their first bytes. If anything
     * is refused, the files this request already stored are removed again and nothing is recorded.
     */
    async addPhotos(externalId: string, parts: AsyncIterable<UploadPart>) {
      const tr = await repo.transactionByExternalId(db, externalId);
      if (!tr) throw new AppError('NOT_FOUND', MESSAGES.transactionNotFound);
      if (tr.tr_status !== 'COMPLETED') {
        throw new AppError(
          'CONFLICT',
          `Photos can be uploaded only for a COMPLETED transaction; this one is ${tr.tr_status}`,
        );
      }
      if (expired(tr)) throw new AppError('CONFLICT', MESSAGES.galleryExpired);
      const maxTotal = config.photoboxMaxPhotosPerTransaction;
      const maxNow = config.photoboxMaxFilesPerUpload;
      const existing = await repo.photoCount(db, tr.tr_id);
      const tooMany = () =>
        new AppError(
          'BUSINESS_LOGIC_ERROR',
          `A transaction may have at most ${maxTotal} photos; this one already has ${existing}`,
        );
      if (existing >= maxTotal) throw tooMany();

      const stored: { key: string; token: string; mime: string; size: number }[] = [];
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
          if (!type) {
            throw new AppError('BUSINESS_LOGIC_ERROR', `${shown(part.filename)} is not a JPEG or PNG image`);
          }
          const key = `photobox/${tr.tr_external_id}/${randomBytes(12).toString('hex')}.${type.ext}`;
          try {
            await store.put(key, data, type.mime);
          } catch (err) {
            core.logger.error({ err: { message: (err as Error).message }, key }, 'photo could not be stored');
            throw new AppError('SERVICE_UNAVAILABLE', 'The photo store is unavailable; please try again');
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
        return await withTransaction(db, async (trx) => {
          // Locked, and counted again: two uploads at once cannot pass the limit together.
          const locked = (await repo.transactionByExternalId(trx, externalId, true)) as repo.Transaction;
          if ((await repo.photoCount(trx, locked.tr_id)) + stored.length > maxTotal) throw tooMany();
          if (expired(locked)) throw new AppError('CONFLICT', MESSAGES.galleryExpired);
          const recipient = locked.tr_email_sent_at ? locked.tr_email : (emailField ?? locked.tr_email);
          if (!recipient) {
            throw new AppError('VALIDATION_ERROR', 'No e-mail address to send the gallery link to', {
              details: { email: ['is required (the transaction has none)'] },
            });
          }
          if (locked.tr_email_sent_at && emailField && emailField !== locked.tr_email) {
            throw new AppError('CONFLICT', 'The gallery link was already e-mailed; its address can no longer change');
          }
          const at = now();
          await trx
            .insertInto('photobox_photos')
            .values(
              stored.map((s) => ({
                ph_transaction_id: locked.tr_id,
                ph_token: s.token,
                ph_storage_key: s.key,
                ph_content_type: s.mime,
                ph_size_bytes: s.size,
                ph_created_at: at,
              })),
            )
            .execute();
          let current = locked;
          if (!locked.tr_email_sent_at) {
            const expiresAt = new Date(at.getTime() + GALLERY_TTL_MS);
            current = await trx
              .updateTable('photobox_transactions')
              .set({ tr_email: recipient, tr_email_sent_at: at, tr_photos_expire_at: expiresAt, tr_updated_at: at })
              .where('tr_id', '=', locked.tr_id)
              .returningAll()
              .executeTakeFirstOrThrow();
            const location = await repo.getLocation(trx, locked.tr_location_id);
            await core.outbox.send(trx, {
              channel: 'email',
              to: recipient,
              subject: 'Foto photobox Anda sudah siap',
              body: [
                `Terima kasih sudah berfoto${location ? ` di ${location.ml_name}` : ''}!`,
                '',
                'Lihat dan unduh foto Anda di galeri:',
                galleryUrl(locked.tr_external_id),
                '',
                ...stored.map((s, i) => `Foto ${i + 1}: ${photoUrl(s.token)}`),
                '',
                `Tautan berlaku sampai ${wib(expiresAt)}. Setelah itu foto dihapus.`,
                `Nomor transaksi: ${locked.tr_external_id}`,
              ].join('\n'),
            });
          }
          return { uploaded: stored.length, ...(await galleryOf(trx, current)) };
        });
      } catch (err) {
        await Promise.allSettled(stored.map((s) => store.delete(s.key)));
        throw err;
      }
    },

    /** The document's gallery: 404 until the gallery e-mail went out, and again once it expired. */
    async gallery(externalId: string) {
      const tr = await repo.transactionByExternalId(db, externalId);
      if (!tr) throw new AppError('NOT_FOUND', MESSAGES.transactionNotFound);
      if (!tr.tr_email_sent_at) throw new AppError('NOT_FOUND', MESSAGES.noPhotos);
      if (expired(tr)) throw new AppError('NOT_FOUND', MESSAGES.galleryExpired);
      const g = await galleryOf(db, tr);
      if (g.photo_count === 0) throw new AppError('NOT_FOUND', MESSAGES.noPhotos);
      return g;
    },

    /** A stored photo by the token in its URL. */
    async openPhoto(token: string) {
      if (!/^[A-Za-z0-9_-]{32}$/.test(token)) throw new AppError('NOT_FOUND', MESSAGES.photoNotFound);
      const p = await repo.photoByToken(db, token);
      if (!p || p.ph_deleted_at !== null || expired(p)) throw new AppError('NOT_FOUND', MESSAGES.photoNotFound);
      let object: Awaited<ReturnType<ObjectStore['get']>>;
      try {
        object = await store.get(p.ph_storage_key);
      } catch (err) {
        if (!(err instanceof StorageError)) throw err;
        core.logger.error({ err: { message: err.message } }, 'photo could not be read');
        throw new AppError('SERVICE_UNAVAILABLE', 'The photo store is unavailable; please try again');
      }
      if (!object) throw new AppError('NOT_FOUND', MESSAGES.photoNotFound);
      const ext = p.ph_content_type === 'image/png' ? 'png' : 'jpg';
      return {
        body: object.body,
        size: object.size ?? p.ph_size_bytes,
        contentType: p.ph_content_type,
        filename: `${p.tr_external_id}-${p.ph_id}.${ext}`,
      };
    },

    /**
     * The daily cleanup: removes the stored files of expired galleries and marks their rows. A file that cannot be
     * removed now is tried again by the job's retry (the error is thrown after the rest were done).
     */
    async cleanupExpired(): Promise<{ removed: number; failed: number }> {
      let removed = 0;
      let failed = 0;
      const skip = new Set<number>();
      for (;;) {
        const batch = (await repo.expiredPhotos(db, now(), 200 + skip.size)).filter((p) => !skip.has(p.ph_id));
        if (batch.length === 0) break;
        for (const p of batch) {
          try {
            await store.delete(p.ph_storage_key);
            await db
              .updateTable('photobox_photos')
              .set({ ph_deleted_at: now() })
              .where('ph_id', '=', p.ph_id)
              .execute();
            removed++;
          } catch (err) {
            failed++;
            skip.add(p.ph_id);
            core.logger.warn({ err: { message: (err as Error).message }, photo: p.ph_id }, 'expired photo not removed');
          }
        }
      }
      if (removed > 0) core.logger.info({ removed }, 'expired photobox photos removed');
      if (failed > 0) throw new Error(`${failed} expired photo(s) could not be removed; the job will retry`);
      return { removed, failed };
    },

    // ---- kiosks ----

    /** A kiosk is an account with photobox level 1 and one photobox API key, shown once. */
    async createKiosk(name: string, actor: Actor) {
      const clean = name.trim();
      const username = `kiosk_${randomBytes(6).toString('hex')}`;
      try {
        const r = await withTransaction(db, async (trx) => {
          const accountId = await insertAccount(trx, {
            username,
            name: `Kiosk ${clean}`,
            memberships: { [MODULE]: 1 },
          });
          await trx
            .insertInto('photobox_kiosks')
            .values({
              account_id: accountId,
              name: clean,
              created_by: actor.accountId,
              created_at: now(),
              updated_at: now(),
            })
            .execute();
          const keys = await core.identity.apiKeys.issue(trx, accountId, MODULE);
          await audit(trx, actor, 'photobox.kiosk.created', accountId, undefined, { name: clean, username });
          return { accountId, keys };
        });
        return { kiosk_id: r.accountId, name: clean, api_key: r.keys.apiKey, key_prefix: r.keys.displayPrefix };
      } catch (err) {
        if (isUnique(err)) throw new AppError('CONFLICT', MESSAGES.kioskNameTaken);
        throw err;
      }
    },

    async listKiosks() {
      const rows = await db
        .selectFrom('photobox_kiosks as k')
        .innerJoin('accounts as a', 'a.id', 'k.account_id')
        .leftJoin('api_keys as key', (j) =>
          j.onRef('key.account_id', '=', 'k.account_id').on('key.module', '=', MODULE).on('key.revoked_at', 'is', null),
        )
        .select([
          'k.account_id',
          'k.name',
          'k.created_at',
          'a.username',
          'a.status',
          'key.display_prefix',
          'key.created_at as key_created_at',
        ])
        .orderBy('k.account_id')
        .execute();
      return rows.map((r) => ({
        kiosk_id: r.account_id,
        name: r.name,
        username: r.username,
        active: r.status === 'active',
        key_prefix: r.display_prefix,
        key_created_at: r.key_created_at ? time(r.key_created_at) : null,
        created_at: time(r.created_at),
      }));
    },

    /** A new key for the kiosk; the old one stops working at once, on every instance. */
    async rotateKioskKey(id: number, actor: Actor) {
      const r = await withTransaction(db, async (trx) => {
        const kiosk = await trx
          .selectFrom('photobox_kiosks')
          .selectAll()
          .where('account_id', '=', id)
          .executeTakeFirst();
        if (!kiosk) throw new AppError('NOT_FOUND', MESSAGES.kioskNotFound);
        const keys = await core.identity.apiKeys.issue(trx, id, MODULE);
        await audit(trx, actor, 'photobox.kiosk.key_rotated', id);
        return { kiosk, keys };
      });
      await core.identity.apiKeys.announce(r.keys.revokedHashes);
      return { kiosk_id: id, name: r.kiosk.name, api_key: r.keys.apiKey, key_prefix: r.keys.displayPrefix };
    },

    /** Removes the kiosk: its account is disabled (accounts are never erased) and its key revoked. */
    async deleteKiosk(id: number, actor: Actor) {
      const kiosk = await db.selectFrom('photobox_kiosks').selectAll().where('account_id', '=', id).executeTakeFirst();
      if (!kiosk) throw new AppError('NOT_FOUND', MESSAGES.kioskNotFound);
      const hashes = await db
        .selectFrom('api_keys')
        .select('key_hash')
        .where('account_id', '=', id)
        .where('revoked_at', 'is', null)
        .execute();
      await core.identity.service.deleteAccount(id, actor.accountId, actor.origin);
      await db.deleteFrom('photobox_kiosks').where('account_id', '=', id).execute();
      await core.identity.apiKeys.announce(hashes.map((h) => h.key_hash));
      return { kiosk_id: id, name: kiosk.name };
    },
  };
}

export type PhotoboxService = ReturnType<typeof createPhotoboxService>;
