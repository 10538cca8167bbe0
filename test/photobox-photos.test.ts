import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { fakeClock } from './helpers/clock.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';
import { type FormPart, files, jpeg, multipart, pay, png, waitFor } from './helpers/photobox.ts';

const clock = fakeClock();
const storageDir = mkdtempSync(join(tmpdir(), 'loket-photos-test-'));
let t: TestApp;
let kiosk: Record<string, string>;
let locationId: number;

beforeAll(async () => {
  t = await startTestApp({
    config: {
      modules: ['photobox'],
      storageDir,
      photoboxMaxFilesPerUpload: 3,
      photoboxMaxPhotosPerTransaction: 5,
      publicUrl: 'https://loket.example',
      photoboxGalleryUrl: 'https://kiosk.example/galeri/{external_id}',
    },
    overrides: { now: clock.now },
  });
  const admin = bearer((await tokensFor(t.app, await makeAccount(t.app, { photobox: 50 }))).access_token);
  const k = await t.app.inject({ method: 'POST', url: '/api/v1/kiosks', headers: admin, payload: { name: 'Photos' } });
  kiosk = { 'x-api-key': k.json().data.api_key };
  const l = await t.app.inject({
    method: 'POST',
    url: '/api/v1/locations',
    headers: admin,
    payload: { ml_name: 'Galeri Mall' },
  });
  locationId = l.json().data.ml_id;
});
afterAll(async () => {
  await t?.close();
  rmSync(storageDir, { recursive: true, force: true });
});

const tag = () => randomBytes(3).toString('hex');

async function paidTransaction(email: string | null = `foto-${tag()}@example.com`) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/transactions',
    headers: kiosk,
    payload: { location_id: locationId, ...(email ? { email } : {}) },
  });
  expect(res.statusCode, res.body).toBe(201);
  const tr = res.json().data as { tr_external_id: string; tr_id: number };
  await pay(t, tr.tr_external_id);
  return { ...tr, email };
}

const upload = (externalId: string, parts: FormPart[], headers: Record<string, string> = kiosk) => {
  const body = multipart(parts);
  return t.app.inject({
    method: 'POST',
    url: `/api/v1/transactions/${externalId}/photos`,
    headers: { ...headers, ...body.headers },
    payload: body.payload,
  });
};

const gallery = (externalId: string) =>
  t.app.inject({ method: 'GET', url: `/api/v1/transactions/${externalId}/photos` });
const storedFiles = (externalId: string) => {
  const dir = join(storageDir, 'photobox', externalId);
  return existsSync(dir) ? readdirSync(dir).filter((f) => !f.endsWith('.tmp')) : [];
};
const photoRows = (trId: number) =>
  t.app.loket.database.db.selectFrom('photobox_photos').selectAll().where('ph_transaction_id', '=', trId).execute();
const outbox = async (to: string) =>
  (await t.app.inject({ method: 'GET', url: `/_dev/outbox?to=${encodeURIComponent(to)}` })).json().messages as {
    subject: string;
    body: string;
  }[];
const pathOf = (url: string) => new URL(url).pathname;

function expectError(res: Pick<LightMyRequestResponse, 'statusCode' | 'json'>, status: number, message?: RegExp) {
  expect(res.statusCode).toBe(status);
  expect(res.json()).toMatchObject({ success: false, data: null });
  if (message) expect(res.json().message).toMatch(message);
}

describe('upload and gallery', () => {
  it('only a COMPLETED transaction takes photos; then they are stored, e-mailed once, listed and served', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/transactions',
      headers: kiosk,
      payload: { location_id: locationId, email: 'budi@example.com' },
    });
    const ext = created.json().data.tr_external_id as string;
    expectError(await upload(ext, files(jpeg())), 409, /COMPLETED.*PENDING/);
    expect(storedFiles(ext)).toEqual([]);
    expectError(await gallery(ext), 404);

    await pay(t, ext);
    const a = jpeg(5000);
    const b = png(3000);
    const res = await upload(ext, [...files(a), { name: 'files', filename: 'looks-like.jpg', data: b }]);
    expect(res.statusCode, res.body).toBe(201);
    const up = res.json();
    expect(up).toMatchObject({ success: true, message: 'Photos uploaded successfully' });
    expect(up.data).toMatchObject({ external_id: ext, uploaded: 2, photo_count: 2 });
    const sentAt = Date.parse(up.data.email_sent_at);
    expect(Date.parse(up.data.expiry_date) - sentAt).toBe(14 * 24 * 3600_000);
    expect(storedFiles(ext)).toHaveLength(2);

    const mails = await outbox('budi@example.com');
    expect(mails).toHaveLength(1);
    const mail = mails[0];
    if (!mail) throw new Error('no e-mail to budi@example.com');
    expect(mail.body).toContain(`https://kiosk.example/galeri/${ext}`);
    for (const p of up.data.photos) expect(mail.body).toContain(p.url);

    const g = await gallery(ext);
    expect(g.statusCode).toBe(200);
    expect(g.json()).toEqual({
      external_id: ext,
      photo_count: 2,
      email_sent_at: up.data.email_sent_at,
      expiry_date: up.data.expiry_date,
      photos: up.data.photos,
    });
    // The page the e-mail's link opens (rendered by Loket, no script): every photo, and when the gallery ends.
    const pageRes = await t.app.inject({ method: 'GET', url: `/photobox/gallery/${ext}` });
    expect(pageRes.statusCode).toBe(200);
    expect(pageRes.headers['content-type']).toContain('text/html');
    for (const p of up.data.photos) expect(pageRes.body).toContain(`<img src="${p.url}"`);
    expect(pageRes.body).toContain('2 foto');
    const missing = await t.app.inject({ method: 'GET', url: '/photobox/gallery/TRX-1-20250101000000-00000000' });
    expect(missing.statusCode).toBe(404);
    expect(missing.body).toContain('Galeri tidak ditemukan');

    const [u1, u2] = g.json().photos.map((p: { url: string }) => p.url);
    expect(u1).toMatch(/^https:\/\/loket\.example\/api\/v1\/photos\/[A-Za-z0-9_-]{32}$/);
    const one = await t.app.inject({ method: 'GET', url: pathOf(u1) });
    expect(one.statusCode).toBe(200);
    expect(one.headers['content-type']).toBe('image/jpeg');
    expect(one.rawPayload.equals(a)).toBe(true);
    expect(one.headers['content-disposition']).toMatch(new RegExp(`^inline; filename="${ext}-\\d+\\.jpg"$`));
    expect(one.headers['cross-origin-resource-policy']).toBe('cross-origin');
    const two = await t.app.inject({ method: 'GET', url: pathOf(u2) });
    expect(two.headers['content-type']).toBe('image/png');
    expect(two.rawPayload.equals(b)).toBe(true);

    // A second upload adds to the same gallery; the link is not e-mailed again.
    const more = await upload(ext, files(jpeg()));
    expect(more.json().data).toMatchObject({ uploaded: 1, photo_count: 3, email_sent_at: up.data.email_sent_at });
    expect(await outbox('budi@example.com')).toHaveLength(1);
    expect((await gallery(ext)).json().photo_count).toBe(3);
  });

  it('GET …/photos is 404 until the e-mail is sent; without any address the upload is refused and stores nothing', async () => {
    const tr = await paidTransaction(null);
    expectError(await gallery(tr.tr_external_id), 404);
    expectError(await upload(tr.tr_external_id, files(jpeg(), jpeg())), 422, /e-mail/);
    expect(storedFiles(tr.tr_external_id)).toEqual([]);
    expect(await photoRows(tr.tr_id)).toEqual([]);
    expectError(await gallery(tr.tr_external_id), 404);
    expectError(await upload(tr.tr_external_id, [{ name: 'email', value: 'not an email' }, ...files(jpeg())]), 422);

    const email = `late-${tag()}@example.com`;
    const ok = await upload(tr.tr_external_id, [...files(jpeg()), { name: 'email', value: email }]);
    expect(ok.statusCode, ok.body).toBe(201);
    expect((await gallery(tr.tr_external_id)).statusCode).toBe(200);
    expect(await outbox(email)).toHaveLength(1);
    // Once sent, the address cannot change.
    expectError(
      await upload(tr.tr_external_id, [...files(jpeg()), { name: 'email', value: 'other@example.com' }]),
      409,
    );
    expectError(await gallery('TRX-1-20250101000000-00000000'), 404);
  });

  it('a non-image named .jpg is refused by its bytes, and what the request stored before it is removed again', async () => {
    const tr = await paidTransaction();
    const text = Buffer.from('this is not a photo, whatever its name says');
    const res = await upload(tr.tr_external_id, [
      ...files(jpeg()),
      { name: 'files', filename: 'selfie.jpg', contentType: 'image/jpeg', data: text },
    ]);
    expectError(res, 422, /"selfie\.jpg" is not a JPEG or PNG image/);
    expect(storedFiles(tr.tr_external_id)).toEqual([]);
    expect(await photoRows(tr.tr_id)).toEqual([]);
    expect(await outbox(tr.email as string)).toEqual([]);
    // A GIF is an image, but not one of ours.
    expectError(
      await upload(tr.tr_external_id, [{ name: 'files', filename: 'a.gif', data: Buffer.from('GIF89a....') }]),
      422,
    );
  });

  it('limits: files per upload, photos per transaction, 10 MB per file; each refusal stores nothing', async () => {
    const tr = await paidTransaction();
    expectError(
      await upload(tr.tr_external_id, files(jpeg(), jpeg(), jpeg(), jpeg())),
      422,
      /at most 3 photos per upload/,
    );
    expect(storedFiles(tr.tr_external_id)).toEqual([]);

    const big = Buffer.concat([jpeg(16), Buffer.alloc(10 * 1024 * 1024)]);
    expectError(await upload(tr.tr_external_id, files(jpeg(), big)), 413, /larger than 10 MB/);
    expect(storedFiles(tr.tr_external_id)).toEqual([]);
    const exactly = Buffer.concat([jpeg(0), Buffer.alloc(10 * 1024 * 1024 - 4)]);
    expect(exactly.length).toBe(10 * 1024 * 1024);
    expect((await upload(tr.tr_external_id, files(exactly))).statusCode).toBe(201);

    expect((await upload(tr.tr_external_id, files(jpeg(), jpeg(), jpeg()))).statusCode).toBe(201);
    expectError(
      await upload(tr.tr_external_id, files(jpeg(), jpeg())),
      422,
      /at most 5 photos; this one already has 4/,
    );
    expect((await upload(tr.tr_external_id, files(png()))).statusCode).toBe(201);
    expectError(await upload(tr.tr_external_id, files(jpeg())), 422, /at most 5 photos/);
    expect(storedFiles(tr.tr_external_id)).toHaveLength(5);
    expect(await photoRows(tr.tr_id)).toHaveLength(5);
  });

  it('malformed uploads are 4xx in the photobox envelope: wrong field, no files, not multipart, broken body', async () => {
    const tr = await paidTransaction();
    expectError(await upload(tr.tr_external_id, [{ name: 'photo', filename: 'a.jpg', data: jpeg() }]), 422, /"photo"/);
    expectError(await upload(tr.tr_external_id, [{ name: 'email', value: 'x@example.com' }]), 422, /No photos/);
    const json = await t.app.inject({
      method: 'POST',
      url: `/api/v1/transactions/${tr.tr_external_id}/photos`,
      headers: kiosk,
      payload: { files: ['a'] },
    });
    expectError(json, 415);
    const broken = await t.app.inject({
      method: 'POST',
      url: `/api/v1/transactions/${tr.tr_external_id}/photos`,
      headers: { ...kiosk, 'content-type': 'multipart/form-data; boundary=xyz' },
      payload: '--xyz\r\nContent-Disposition: form-data; name="files"; filename="a.jpg"\r\n\r\n\xff\xd8\xff',
    });
    expectError(broken, 400, /multipart/);
    const noBoundary = await t.app.inject({
      method: 'POST',
      url: `/api/v1/transactions/${tr.tr_external_id}/photos`,
      headers: { ...kiosk, 'content-type': 'multipart/form-data' },
      payload: 'abc',
    });
    expectError(noBoundary, 400);
    expectError(await upload('TRX-9-20250101000000-ABCDEF12', files(jpeg())), 404);
    expect((await upload(tr.tr_external_id, files(jpeg()), {})).statusCode).toBe(401);
    expect(storedFiles(tr.tr_external_id)).toEqual([]);
    expect(await photoRows(tr.tr_id)).toEqual([]);
  });

  it('photo URLs with an unknown or malformed token are 404', async () => {
    for (const token of ['x', 'A'.repeat(32), '../../etc/passwd', '%2e%2e']) {
      const res = await t.app.inject({ method: 'GET', url: `/api/v1/photos/${token}` });
      expect(res.statusCode, token).toBe(404);
    }
  });
});

describe('expiry', () => {
  it('14 days after the e-mail the gallery and its URLs are gone; the daily job removes the files', async () => {
    const tr = await paidTransaction();
    const up = await upload(tr.tr_external_id, files(jpeg(), png()));
    const urls = up.json().data.photos.map((p: { url: string }) => pathOf(p.url));
    const keep = await paidTransaction();
    clock.advance(24 * 3600_000);
    await upload(keep.tr_external_id, files(jpeg()));

    clock.advance(14 * 24 * 3600_000 - 60_000 - 24 * 3600_000);
    expect((await gallery(tr.tr_external_id)).statusCode).toBe(200);
    clock.advance(60_000);
    expectError(await gallery(tr.tr_external_id), 404, /expired/);
    for (const u of urls) expect((await t.app.inject({ method: 'GET', url: u })).statusCode).toBe(404);
    expectError(await upload(tr.tr_external_id, files(jpeg())), 409, /expired/);
    expect(storedFiles(tr.tr_external_id)).toHaveLength(2);

    await t.app.loket.jobs.enqueue(t.app.loket.database.db, 'photobox.cleanup', {});
    await waitFor('cleanup', async () => (await photoRows(tr.tr_id)).every((p) => p.ph_deleted_at !== null));
    expect(storedFiles(tr.tr_external_id)).toEqual([]);
    // The other gallery was e-mailed a day later and is still there.
    expect((await gallery(keep.tr_external_id)).statusCode).toBe(200);
    expect(storedFiles(keep.tr_external_id)).toHaveLength(1);
  });
});
