// Every example of the Photobox seed document (001_cd49a307f4a6adeb.txt: "API Endpoints", "Testing" with its cURL
// lines, the tables of "Database Schema", "Response Encryption") run against a fresh Loket, compared by shape and by
// the values the example fixes (issue 21 item 3).
import { createDecipheriv } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from './helpers/app.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';
import { files, jpeg, multipart, waitFor } from './helpers/photobox.ts';
import {
  expectExample,
  ISO_TIMESTAMP,
  newestMessage,
  type Res,
  startSeedApp,
  timestampsWithoutOffset,
} from './helpers/seed-examples.ts';

// The document's own .env values ("Configuration"), as an operator following it would set them.
const CALLBACK_TOKEN = 'your_callback_token_here';
const KEY = '0123456789abcdef0123456789abcdef'; // ENCRYPTION_KEY: 32 characters
const IV = '0123456789abcdef'; // ENCRYPTION_IV: 16 characters
const storageDir = mkdtempSync(join(tmpdir(), 'loket-seed-photobox-'));

let t: TestApp;
let admin: Record<string, string>;
let reader: Record<string, string>;
beforeAll(async () => {
  t = await startSeedApp(['photobox'], {
    env: { XENDIT_CALLBACK_TOKEN: CALLBACK_TOKEN },
    config: { storageDir, publicUrl: 'https://loket.example' },
  });
  // "Authorization Levels": ≥ 1 reads, ≥ 50 administers (Loket's bearer tokens stand for Atlas SSO's).
  admin = bearer((await tokensFor(t.app, await makeAccount(t.app, { photobox: 50 }))).access_token);
  reader = bearer((await tokensFor(t.app, await makeAccount(t.app, { photobox: 1 }))).access_token);
});
afterAll(async () => {
  await t?.close();
  rmSync(storageDir, { recursive: true, force: true });
});

const call = (
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  headers: Record<string, string> = {},
  payload?: object,
  app = t,
) => app.app.inject({ method, url, headers, ...(payload && { payload }) }) as Promise<Res>;

// "POST /api/v1/transactions": the response.
const CREATED = {
  success: true,
  message: 'Transaction created successfully',
  data: {
    tr_id: 1,
    tr_external_id: 'TRX-2-20251215092229-57283A15',
    tr_location_id: 2,
    tr_amount: 40000,
    tr_status: 'PENDING',
    tr_qris_string: '00020101021226...',
    tr_qris_url: 'https://d.xnd.io/...',
    tr_expired_at: '2025-12-15T09:37:29',
    tr_created_at: '2025-12-15T09:22:29',
  },
};
// "GET /api/v1/transactions/external/{external_id}" (Normal); tr_paid_at is null until paid.
const POLLED = {
  success: true,
  message: 'Transaction retrieved successfully',
  data: {
    tr_id: 1,
    tr_external_id: 'TRX-2-20251215092229-57283A15',
    tr_status: 'COMPLETED',
    tr_paid_at: '2025-12-15T09:25:30',
    tr_amount: 40000,
  },
};
// "GET /api/v1/transactions/{external_id}/photos" (Normal)
const GALLERY = {
  external_id: 'TRX-2-20251215092229-57283A15',
  photo_count: 12,
  email_sent_at: '2025-12-15T10:00:00',
  expiry_date: '2025-12-29T00:00:00',
  photos: [{ url: 'https://res.cloudinary.com/...' }],
};
// "(Encrypted, when ENCRYPTION_ENABLED=true)"
const ENCRYPTED = { data: 'base64_encoded_encrypted_payload' };
// "GET /api/v1/transactions/count"
const COUNT = { success: true, message: 'Transaction count retrieved successfully', data: { count: 42 } };
// "GET /api/v1/transactions (List)"
const TRANSACTIONS = {
  success: true,
  message: 'Transactions retrieved successfully',
  data: [
    {
      tr_id: 1,
      tr_external_id: 'TRX-2-20251215092229-57283A15',
      tr_status: 'COMPLETED',
      tr_amount: 40000,
      location: { ml_id: 2, ml_name: 'Mall Kelapa Gading' },
    },
  ],
  total: 100,
  page: 1,
  size: 100,
  pages: 1,
};
// "GET /api/v1/locations"
const LOCATION = {
  ml_id: 1,
  ml_name: 'Mall Taman Anggrek',
  ml_address: 'Jl. Taman Anggrek No. 1',
  ml_created_at: '2025-12-15T09:00:00',
};
const LOCATIONS = {
  success: true,
  message: 'Locations retrieved successfully',
  data: [LOCATION],
  total: 10,
  page: 1,
  size: 100,
  pages: 1,
};
// "master_prices" table: the price rows.
const PRICE = { mp_id: 1, mp_name: 'Paket', mp_amount: 40000, mp_created_at: '2025-12-15T09:00:00' };
// Every answer of the API is in this envelope ("Error Handling" names only statuses).
const ENVELOPE = { success: true, message: '' };
const ERROR = { success: false, message: '' };

const EXTERNAL_ID = /^TRX-2-\d{14}-[0-9A-F]{8}$/;
let tr: typeof CREATED.data;

describe('Photobox seed examples', () => {
  it('POST /api/v1/transactions {"location_id": 2} (the cURL line) answers PENDING, Rp 40,000, 15 minutes', async () => {
    const res = await call(
      'POST',
      '/api/v1/transactions',
      { ...reader, 'content-type': 'application/json' },
      {
        location_id: 2,
      },
    );
    // The document shows no status; Loket answers 201 Created.
    const b = expectExample(res, 201, CREATED, {
      success: true,
      message: 'Transaction created successfully',
      data: { tr_location_id: 2, tr_amount: 40000, tr_status: 'PENDING' },
    });
    tr = b.data;
    expect(tr.tr_external_id).toMatch(EXTERNAL_ID); // TRX-{location_id}-{timestamp}-{random}
    expect(Date.parse(tr.tr_expired_at) - Date.parse(tr.tr_created_at)).toBe(15 * 60_000);
    expect(tr.tr_qris_string).toMatch(/^000201/);
  });

  it('without a token creating a transaction is refused (Authorization: Required)', async () => {
    expectExample(await call('POST', '/api/v1/transactions', {}, { location_id: 2 }), 401, ERROR, { success: false });
  });

  it('GET /api/v1/transactions/external/{external_id} (the polling cURL line, no token) answers PENDING', async () => {
    const res = await call('GET', `/api/v1/transactions/external/${tr.tr_external_id}`);
    expectExample(
      res,
      200,
      POLLED,
      {
        ...POLLED,
        data: {
          tr_id: tr.tr_id,
          tr_external_id: tr.tr_external_id,
          tr_status: 'PENDING',
          tr_paid_at: null,
          tr_amount: 40000,
        },
      },
      {
        nullable: ['data.tr_paid_at'],
      },
    );
    expect(res.json().data.tr_paid_at).toBeNull();
  });

  it('POST /api/v1/webhooks/xendit: the document’s body with its token completes it; 401 without, 403 wrong', async () => {
    const body = {
      external_id: tr.tr_external_id,
      status: 'COMPLETED',
      xendit_id: 'qr_5d408580-80cf-471a-a69f-976daadf1b84',
    };
    const hook = (token?: string) =>
      call(
        'POST',
        '/api/v1/webhooks/xendit',
        {
          'content-type': 'application/json',
          ...(token !== undefined && { 'x-callback-token': token }),
        },
        body,
      );
    expectExample(await hook(), 401, ERROR, { success: false });
    expectExample(await hook('not-the-token'), 403, ERROR, { success: false });
    expectExample(await hook(CALLBACK_TOKEN), 200, ENVELOPE, { success: true });
    // "paid_at timestamp set automatically on COMPLETED status"; polling sees COMPLETED.
    const polled = await waitFor('COMPLETED', async () => {
      const r = await call('GET', `/api/v1/transactions/external/${tr.tr_external_id}`);
      return r.json().data.tr_status === 'COMPLETED' && r;
    });
    const b = expectExample(polled, 200, POLLED, {
      ...POLLED,
      data: { tr_id: tr.tr_id, tr_external_id: tr.tr_external_id, tr_status: 'COMPLETED', tr_amount: 40000 },
    });
    expect(b.data.tr_paid_at).toMatch(ISO_TIMESTAMP);
  });

  it('GET /api/v1/transactions/{external_id}/photos answers the gallery after photos are uploaded', async () => {
    // "Returns 404 if transaction not found or no photos uploaded".
    expectExample(await call('GET', `/api/v1/transactions/${tr.tr_external_id}/photos`), 404, ERROR, {
      success: false,
    });
    const paid = await call('POST', '/api/v1/transactions', reader, { location_id: 2, email: 'tamu@example.com' });
    const ext = paid.json().data.tr_external_id as string;
    await call('POST', `/_dev/payments/${ext}/pay`);
    await waitFor('COMPLETED', async () => {
      const r = await call('GET', `/api/v1/transactions/external/${ext}`);
      return r.json().data.tr_status === 'COMPLETED';
    });
    const form = multipart(files(jpeg(), jpeg()));
    const up = await t.app.inject({
      method: 'POST',
      url: `/api/v1/transactions/${ext}/photos`,
      headers: { ...reader, ...form.headers },
      payload: form.payload,
    });
    expect(up.statusCode, up.body).toBe(201);
    await waitFor(
      'the gallery e-mail',
      async () => (await newestMessage(t, 'tamu@example.com').catch(() => null)) ?? false,
    );
    const gallery = await waitFor('email_sent_at', async () => {
      const r = await call('GET', `/api/v1/transactions/${ext}/photos`);
      return r.statusCode === 200 && r.json().email_sent_at && r;
    });
    const b = expectExample(gallery, 200, GALLERY, { external_id: ext, photo_count: 2 });
    // "Photos expire 14 days after email sent".
    expect(Date.parse(b.expiry_date) - Date.parse(b.email_sent_at)).toBe(14 * 24 * 3600_000);
  });

  it('GET /api/v1/transactions/count?status=COMPLETED,PENDING answers {count}', async () => {
    const all = await call('GET', '/api/v1/transactions/count?status=COMPLETED,PENDING', reader);
    const b = expectExample(all, 200, COUNT, { success: true, message: COUNT.message });
    expect(b.data.count).toBe(2);
    const done = await call('GET', '/api/v1/transactions/count?status=COMPLETED', reader);
    expect(done.json().data.count).toBe(2);
  });

  it('GET /api/v1/transactions lists with location and the page fields', async () => {
    const res = await call('GET', `/api/v1/transactions?search=${tr.tr_external_id}&skip=0&limit=100`, reader);
    const b = expectExample(res, 200, TRANSACTIONS, {
      success: true,
      message: TRANSACTIONS.message,
      data: [{ tr_external_id: tr.tr_external_id, location: { ml_id: 2, ml_name: 'Mall Kelapa Gading' } }],
      total: 1,
      page: 1,
      size: 100,
      pages: 1,
    });
    expect(b.data).toHaveLength(1);
  });

  describe('Locations', () => {
    let id: number;
    it('GET /api/v1/locations lists the locations with the page fields', async () => {
      const res = await call('GET', '/api/v1/locations?search=Taman', reader);
      expectExample(res, 200, LOCATIONS, {
        success: true,
        message: LOCATIONS.message,
        data: [{ ml_name: 'Mall Taman Anggrek' }],
        total: 1,
        page: 1,
        size: 100,
        pages: 1,
      });
    });

    it('POST /api/v1/locations with the documented body (admin); GET, PUT and DELETE by id', async () => {
      const body = { ml_name: 'Mall Senayan City', ml_address: 'Jl. Asia Afrika No. 8' };
      expectExample(await call('POST', '/api/v1/locations', reader, body), 403, ERROR, { success: false });
      const created = await call('POST', '/api/v1/locations', admin, body);
      id = expectExample(created, 201, { ...ENVELOPE, data: LOCATION }, { success: true, data: body }).data.ml_id;
      expectExample(
        await call('GET', `/api/v1/locations/${id}`, reader),
        200,
        { ...ENVELOPE, data: LOCATION },
        {
          data: { ml_id: id, ...body },
        },
      );
      const put = await call('PUT', `/api/v1/locations/${id}`, admin, { ml_address: 'Jl. Asia Afrika No. 19' });
      expectExample(
        put,
        200,
        { ...ENVELOPE, data: LOCATION },
        { data: { ml_id: id, ml_address: 'Jl. Asia Afrika No. 19' } },
      );
      expect((await call('DELETE', `/api/v1/locations/${id}`, admin)).statusCode).toBe(200);
      expectExample(await call('GET', `/api/v1/locations/${id}`, reader), 404, ERROR, { success: false });
    });
  });

  it('Prices: GET list, POST (admin), GET, PUT and DELETE by id, in the master_prices fields', async () => {
    const list = await call('GET', '/api/v1/prices', reader);
    expectExample(list, 200, { ...ENVELOPE, data: [PRICE] }, { success: true });
    const created = await call('POST', '/api/v1/prices', admin, { mp_name: 'Paket Berdua', mp_amount: 50000 });
    const p = expectExample(
      created,
      201,
      { ...ENVELOPE, data: PRICE },
      {
        data: { mp_name: 'Paket Berdua', mp_amount: 50000 },
      },
    ).data;
    expectExample(
      await call('GET', `/api/v1/prices/${p.mp_id}`, reader),
      200,
      { ...ENVELOPE, data: PRICE },
      {
        data: { mp_id: p.mp_id },
      },
    );
    const put = await call('PUT', `/api/v1/prices/${p.mp_id}`, admin, { mp_amount: 55000 });
    expectExample(put, 200, { ...ENVELOPE, data: PRICE }, { data: { mp_id: p.mp_id, mp_amount: 55000 } });
    expect((await call('DELETE', `/api/v1/prices/${p.mp_id}`, admin)).statusCode).toBe(200);
    expectExample(await call('GET', `/api/v1/prices/${p.mp_id}`, reader), 404, ERROR, { success: false });
  });

  it('Access points: /docs, /redoc and /health answer', async () => {
    for (const url of ['/docs', '/redoc', '/health']) {
      const res = await call('GET', url);
      expect([200, 302], `${url}: ${res.statusCode}`).toContain(res.statusCode);
    }
  });

  describe('ENCRYPTION_ENABLED=true: the two documented reads answer {"data": <base64>}', () => {
    let enc: TestApp;
    beforeAll(async () => {
      enc = await startSeedApp(['photobox'], {
        env: { ENCRYPTION_ENABLED: 'true', ENCRYPTION_KEY: KEY, ENCRYPTION_IV: IV },
      });
    });
    afterAll(async () => enc?.close());

    it('the polling answer decrypts (AES-256-CBC, PKCS7, base64) to the normal answer', async () => {
      const kioskH = bearer((await tokensFor(enc.app, await makeAccount(enc.app, { photobox: 1 }))).access_token);
      const created = await call('POST', '/api/v1/transactions', kioskH, { location_id: 2 }, enc);
      const ext = created.json().data.tr_external_id as string;
      const res = await call('GET', `/api/v1/transactions/external/${ext}`, {}, undefined, enc);
      const b = expectExample(res, 200, ENCRYPTED);
      const d = createDecipheriv('aes-256-cbc', Buffer.from(KEY, 'utf8'), Buffer.from(IV, 'utf8'));
      const plain = JSON.parse(Buffer.concat([d.update(Buffer.from(b.data, 'base64')), d.final()]).toString('utf8'));
      expect(plain).toMatchObject({ success: true, data: { tr_external_id: ext, tr_status: 'PENDING' } });
      const gallery = await call('GET', `/api/v1/transactions/${ext}/photos`, {}, undefined, enc);
      expect(gallery.statusCode).toBe(404); // no photos yet: "Returns 404 … no photos uploaded"
    });
  });

  it('CONTRACTS §6: every timestamp in the answers above carries its offset (issue 21 finding 13)', () => {
    expect(timestampsWithoutOffset()).toEqual([]);
  });
});
