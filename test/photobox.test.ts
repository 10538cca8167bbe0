import { randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { fakeClock } from './helpers/clock.ts';
import { bearer, makeAccount, type TestAccount, tokensFor } from './helpers/identity.ts';
import { pay, statusOf, waitFor } from './helpers/photobox.ts';
import { jobsSettled } from './helpers/until.ts';

const clock = fakeClock();
let t: TestApp;
let adminAccount: TestAccount;
let readerAccount: TestAccount;
let kiosk: Record<string, string>;

beforeAll(async () => {
  t = await startTestApp({ config: { modules: ['photobox'] }, overrides: { now: clock.now } });
  adminAccount = await makeAccount(t.app, { photobox: 50 });
  readerAccount = await makeAccount(t.app, { photobox: 1 });
  const res = await call('POST', '/api/v1/kiosks', await admin(), { name: `Kiosk ${tag()}` });
  expect(res.statusCode, res.body).toBe(201);
  kiosk = { 'x-api-key': res.json().data.api_key };
});
afterAll(async () => t?.close());

// Tokens are signed and checked on the app's clock, which these tests move: sign in when needed.
const admin = async () => bearer((await tokensFor(t.app, adminAccount)).access_token);
const reader = async () => bearer((await tokensFor(t.app, readerAccount)).access_token);
const tag = () => randomBytes(3).toString('hex');

const call = (
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  headers: Record<string, string> = {},
  payload?: object,
) => t.app.inject({ method, url, headers, payload });

async function newLocation(fields: Record<string, unknown> = {}) {
  const res = await call('POST', '/api/v1/locations', await admin(), {
    ml_name: `Mall ${tag()}`,
    ml_address: 'Jl. Contoh No. 1',
    ...fields,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().data as { ml_id: number; ml_name: string; ml_is_active: boolean };
}

async function newPrice(fields: Record<string, unknown> = {}) {
  const res = await call('POST', '/api/v1/prices', await admin(), {
    mp_name: `Paket ${tag()}`,
    mp_amount: 35_000,
    ...fields,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().data as {
    mp_id: number;
    mp_amount: number;
    mp_quota: number | null;
    remaining_quota: number | null;
  };
}

/** The created transaction as the kiosk reads it (the fields these tests use, and the rest). */
type CreatedTransaction = Record<string, unknown> & {
  tr_id: number;
  tr_external_id: string;
  tr_amount: number;
  tr_price_id: number;
  tr_created_at: string;
  tr_expired_at: string;
};

async function newTransaction(body: Record<string, unknown>, headers = kiosk) {
  const res = await call('POST', '/api/v1/transactions', headers, body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json().data as CreatedTransaction;
}

const transactionCount = async () =>
  (await call('GET', '/api/v1/transactions/count', await reader())).json().data.count as number;

function expectError(res: Pick<LightMyRequestResponse, 'statusCode' | 'json'>, status: number) {
  expect(res.statusCode).toBe(status);
  expect(res.json()).toMatchObject({ success: false, message: expect.any(String), data: null });
}

async function expireByJob(externalId: string) {
  clock.advance(16 * 60_000);
  await t.app.loket.jobs.enqueue(t.app.loket.database.db, 'payments.expire', {});
  return waitFor('EXPIRED', async () => {
    const s = await statusOf(t, externalId);
    return s.tr_status === 'EXPIRED' ? s : undefined;
  });
}

describe('locations', () => {
  it('create, get, partial update, list with search; names are unique case-insensitively (409)', async () => {
    const name = `Mall Senayan City ${tag()}`;
    const l = await newLocation({ ml_name: name, ml_address: 'Jl. Asia Afrika No. 8', ml_machine_code: `PB-${tag()}` });
    expect(l).toMatchObject({
      ml_id: expect.any(Number),
      ml_name: name,
      ml_address: 'Jl. Asia Afrika No. 8',
      ml_is_active: true,
      ml_created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$/),
    });
    const got = await call('GET', `/api/v1/locations/${l.ml_id}`, await reader());
    expect(got.json()).toEqual({ success: true, message: 'Location retrieved successfully', data: l });

    const upd = await call('PUT', `/api/v1/locations/${l.ml_id}`, await admin(), { ml_address: 'Jl. Baru 2' });
    expect(upd.statusCode).toBe(200);
    expect(upd.json().data).toMatchObject({ ml_name: name, ml_address: 'Jl. Baru 2' });

    const list = await call(
      'GET',
      `/api/v1/locations?search=${encodeURIComponent(name.toUpperCase())}`,
      await reader(),
    );
    expect(list.json()).toMatchObject({ success: true, total: 1, page: 1, size: 100, pages: 1 });
    expect(list.json().data[0].ml_id).toBe(l.ml_id);

    const dup = await call('POST', '/api/v1/locations', await admin(), { ml_name: `  ${name.toLowerCase()} ` });
    expectError(dup, 409);
    expect(dup.json().message).toBe('A location with this name already exists');
    const other = await newLocation();
    const rename = await call('PUT', `/api/v1/locations/${other.ml_id}`, await admin(), { ml_name: name });
    expectError(rename, 409);
    expect((await call('GET', `/api/v1/locations/${other.ml_id}`, await reader())).json().data.ml_name).toBe(
      other.ml_name,
    );
  });

  it('bad input is 422 in the photobox envelope, names the field, and changes nothing', async () => {
    const before = (await call('GET', '/api/v1/locations?limit=1', await reader())).json().total;
    for (const body of [
      {},
      { ml_name: '   ' },
      { ml_name: 'x'.repeat(101) },
      { ml_name: 'Ok', ml_machine_code: 'has space' },
      { ml_name: 'Ok', unknown_field: 1 },
      { ml_name: ['a', 'b'] },
    ]) {
      const res = await call('POST', '/api/v1/locations', await admin(), body);
      expectError(res, 422);
      expect(res.json().errors.length, JSON.stringify(body)).toBeGreaterThan(0);
    }
    const l = await newLocation();
    expectError(await call('PUT', `/api/v1/locations/${l.ml_id}`, await admin(), {}), 422);
    expectError(await call('GET', '/api/v1/locations/0', await reader()), 422);
    expectError(await call('GET', '/api/v1/locations/abc', await reader()), 422);
    expectError(await call('GET', '/api/v1/locations/999999', await reader()), 404);
    expect((await call('GET', '/api/v1/locations?limit=1', await reader())).json().total).toBe(before + 1);
  });

  it('pagination maths: total, page, size, pages; limit 1..1000, skip ≥ 0', async () => {
    const prefix = `Paging ${tag()}`;
    for (let i = 0; i < 5; i++) await newLocation({ ml_name: `${prefix} ${i}` });
    const page = async (q: string) =>
      (await call('GET', `/api/v1/locations?search=${encodeURIComponent(prefix)}&${q}`, await reader())).json();
    expect(await page('limit=2')).toMatchObject({ total: 5, page: 1, size: 2, pages: 3 });
    expect((await page('limit=2')).data.map((l: { ml_name: string }) => l.ml_name)).toEqual([
      `${prefix} 0`,
      `${prefix} 1`,
    ]);
    const last = await page('limit=2&skip=4');
    expect(last).toMatchObject({ total: 5, page: 3, size: 2, pages: 3 });
    expect(last.data).toHaveLength(1);
    expect(await page('limit=2&skip=3')).toMatchObject({ page: 2 });
    const beyond = await page('limit=2&skip=10');
    expect(beyond).toMatchObject({ total: 5, page: 6, pages: 3, data: [] });
    expect(await page('limit=1000')).toMatchObject({ total: 5, page: 1, size: 1000, pages: 1 });
    const none = await call('GET', `/api/v1/locations?search=nothing-${tag()}`, await reader());
    expect(none.json()).toMatchObject({ data: [], total: 0, page: 1, size: 100, pages: 0 });
    // A search with LIKE's own characters matches them literally.
    expect((await call('GET', '/api/v1/locations?search=%25', await reader())).json().total).toBe(0);
    for (const q of ['limit=0', 'limit=1001', 'skip=-1', 'limit=abc']) {
      expectError(await call('GET', `/api/v1/locations?${q}`, await reader()), 422);
    }
  });

  it('delete: a location without transactions is gone; one with transactions is deactivated and keeps its history', async () => {
    const empty = await newLocation();
    const del = await call('DELETE', `/api/v1/locations/${empty.ml_id}`, await admin());
    expect(del.json()).toMatchObject({ success: true, message: 'Location deleted successfully' });
    expectError(await call('GET', `/api/v1/locations/${empty.ml_id}`, await reader()), 404);
    expectError(await call('DELETE', `/api/v1/locations/${empty.ml_id}`, await admin()), 404);

    const used = await newLocation();
    const tr = await newTransaction({ location_id: used.ml_id });
    const res = await call('DELETE', `/api/v1/locations/${used.ml_id}`, await admin());
    expect(res.statusCode).toBe(200);
    expect(res.json().message).toMatch(/deactivated/);
    expect(res.json().data).toMatchObject({ ml_id: used.ml_id, ml_is_active: false });
    expect((await call('GET', `/api/v1/locations/${used.ml_id}`, await reader())).json().data.ml_is_active).toBe(false);
    const rows = (await call('GET', `/api/v1/transactions?search=${tr.tr_external_id}`, await reader())).json().data;
    expect(rows[0].location).toEqual({ ml_id: used.ml_id, ml_name: used.ml_name });
    expect(
      (await call('GET', '/api/v1/locations?is_active=false&limit=1000', await reader())).json().data,
    ).toContainEqual(expect.objectContaining({ ml_id: used.ml_id }));

    // An inactive location takes no new transactions.
    const before = await transactionCount();
    const refused = await call('POST', '/api/v1/transactions', kiosk, { location_id: used.ml_id });
    expectError(refused, 422);
    expect(refused.json().message).toMatch(/not active/);
    expect(await transactionCount()).toBe(before);
  });
});

describe('prices and quota', () => {
  it('create, get, list, update; remaining_quota counts COMPLETED and still-valid PENDING sessions only', async () => {
    const loc = await newLocation();
    const p = await newPrice({ mp_amount: 25_000, mp_quota: 2 });
    expect(p).toMatchObject({ mp_amount: 25_000, mp_quota: 2, remaining_quota: 2, mp_is_active: true });
    const unlimited = await newPrice();
    expect(unlimited).toMatchObject({ mp_quota: null, remaining_quota: null });

    const a = await newTransaction({ location_id: loc.ml_id, price_id: p.mp_id });
    expect(a.tr_amount).toBe(25_000);
    expect(a.tr_price_id).toBe(p.mp_id);
    expect((await call('GET', `/api/v1/prices/${p.mp_id}`, kiosk)).json().data.remaining_quota).toBe(1);
    await pay(t, a.tr_external_id);
    expect((await call('GET', `/api/v1/prices/${p.mp_id}`, kiosk)).json().data.remaining_quota).toBe(1);

    const b = await newTransaction({ location_id: loc.ml_id, price_id: p.mp_id });
    expect((await call('GET', `/api/v1/prices/${p.mp_id}`, kiosk)).json().data.remaining_quota).toBe(0);
    const full = await call('POST', '/api/v1/transactions', kiosk, { location_id: loc.ml_id, price_id: p.mp_id });
    expectError(full, 409);
    expect(full.json().message).toMatch(/quota/);

    // The pending one lapses: its place in the quota is free again.
    await expireByJob(b.tr_external_id);
    expect((await call('GET', `/api/v1/prices/${p.mp_id}`, kiosk)).json().data.remaining_quota).toBe(1);
    await newTransaction({ location_id: loc.ml_id, price_id: p.mp_id });

    const listed = (await call('GET', '/api/v1/prices?limit=1000', kiosk)).json();
    expect(listed).toMatchObject({ success: true, message: 'Prices retrieved successfully', page: 1, size: 1000 });
    expect(listed.data).toContainEqual(expect.objectContaining({ mp_id: p.mp_id, remaining_quota: 0 }));

    const raised = await call('PUT', `/api/v1/prices/${p.mp_id}`, await admin(), { mp_quota: 5 });
    expect(raised.json().data).toMatchObject({ mp_quota: 5, remaining_quota: 3, mp_amount: 25_000 });
    const badPut = await call('PUT', `/api/v1/prices/${p.mp_id}`, await admin(), { mp_amount: 0 });
    expectError(badPut, 422);
    expect((await call('GET', `/api/v1/prices/${p.mp_id}`, kiosk)).json().data.mp_amount).toBe(25_000);
  });

  it('an unknown or inactive price is refused; a used price is deactivated on delete, an unused one deleted', async () => {
    const loc = await newLocation();
    const before = await transactionCount();
    expectError(await call('POST', '/api/v1/transactions', kiosk, { location_id: loc.ml_id, price_id: 999_999 }), 404);
    const off = await newPrice({ mp_is_active: false });
    expectError(
      await call('POST', '/api/v1/transactions', kiosk, { location_id: loc.ml_id, price_id: off.mp_id }),
      422,
    );
    expect(await transactionCount()).toBe(before);

    expect((await call('DELETE', `/api/v1/prices/${off.mp_id}`, await admin())).json().message).toBe(
      'Price deleted successfully',
    );
    expectError(await call('GET', `/api/v1/prices/${off.mp_id}`, kiosk), 404);
    const used = await newPrice();
    await newTransaction({ location_id: loc.ml_id, price_id: used.mp_id });
    const del = await call('DELETE', `/api/v1/prices/${used.mp_id}`, await admin());
    expect(del.json().data).toMatchObject({ mp_id: used.mp_id, mp_is_active: false });
  });

  it('parallel sales cannot pass the quota', async () => {
    const loc = await newLocation();
    const p = await newPrice({ mp_quota: 3 });
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        call('POST', '/api/v1/transactions', kiosk, { location_id: loc.ml_id, price_id: p.mp_id }),
      ),
    );
    expect(results.filter((r) => r.statusCode === 201)).toHaveLength(3);
    expect(results.filter((r) => r.statusCode === 409)).toHaveLength(5);
    expect((await call('GET', `/api/v1/prices/${p.mp_id}`, kiosk)).json().data.remaining_quota).toBe(0);
  });
});

describe('transactions and payments', () => {
  it("a kiosk creates a transaction with its API key: the document's fields, a 15-minute QRIS, PHOTOBOX_AMOUNT", async () => {
    const loc = await newLocation();
    const res = await call('POST', '/api/v1/transactions', kiosk, { location_id: loc.ml_id });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ success: true, message: 'Transaction created successfully' });
    const tr = body.data;
    expect(tr).toMatchObject({
      tr_id: expect.any(Number),
      tr_location_id: loc.ml_id,
      tr_amount: 40_000,
      tr_status: 'PENDING',
      tr_qris_string: expect.stringMatching(/^000201/),
      tr_qris_url: expect.stringContaining(`/payments/${tr.tr_external_id}/qr.png`),
    });
    expect(tr.tr_external_id).toMatch(new RegExp(`^TRX-${loc.ml_id}-\\d{14}-[0-9A-F]{8}$`));
    const stamp = tr.tr_external_id.split('-')[2];
    expect(stamp).toBe(tr.tr_created_at.slice(0, 19).replace(/[-:T]/g, ''));
    const ttl = Date.parse(tr.tr_expired_at) - Date.parse(tr.tr_created_at);
    expect(ttl).toBeGreaterThanOrEqual(15 * 60_000);
    expect(ttl).toBeLessThanOrEqual(15 * 60_000 + 2000);

    // Polling is public and shows the document's fields.
    const poll = await call('GET', `/api/v1/transactions/external/${tr.tr_external_id}`);
    expect(poll.statusCode).toBe(200);
    expect(poll.json()).toEqual({
      success: true,
      message: 'Transaction retrieved successfully',
      data: {
        tr_id: tr.tr_id,
        tr_external_id: tr.tr_external_id,
        tr_status: 'PENDING',
        tr_paid_at: null,
        tr_amount: 40_000,
        tr_expired_at: tr.tr_expired_at,
      },
    });
    expect(poll.headers['cache-control']).toBe('no-store');
    expectError(await call('GET', '/api/v1/transactions/external/TRX-1-20250101000000-DEADBEEF'), 404);

    const qr = await call('GET', `/payments/${tr.tr_external_id}/qr.png`);
    expect(qr.headers['content-type']).toBe('image/png');
  });

  it("the document's webhook completes it once with tr_paid_at; duplicates and later events change nothing and answer 200", async () => {
    const loc = await newLocation();
    const tr = await newTransaction({ location_id: loc.ml_id });
    const hook = (body: object, token = t.config.xenditCallbackToken as string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/webhooks/xendit',
        headers: { 'x-callback-token': token },
        payload: body,
      });
    const paid = {
      external_id: tr.tr_external_id,
      status: 'COMPLETED',
      xendit_id: 'qr_5d408580-80cf-471a-a69f-976daadf1b84',
    };
    expect((await hook(paid, '')).statusCode).toBe(401);
    expect((await hook(paid, 'wrong-token')).statusCode).toBe(403);
    const first = await hook(paid);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({
      success: true,
      data: { external_id: tr.tr_external_id, outcome: 'accepted' },
    });
    const done = await waitFor('COMPLETED', async () => {
      const s = await statusOf(t, tr.tr_external_id);
      return s.tr_status === 'COMPLETED' ? s : undefined;
    });
    expect(done.tr_paid_at).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$/));

    const again = await hook(paid);
    expect(again.statusCode).toBe(200);
    expect(again.json().data.outcome).toBe('duplicate');
    const failedLater = await hook({ ...paid, status: 'FAILED' });
    expect(failedLater.statusCode).toBe(200);
    const expiredLater = await hook({ ...paid, status: 'EXPIRED' });
    expect(expiredLater.statusCode).toBe(200);
    await jobsSettled(t.app);
    expect(await statusOf(t, tr.tr_external_id)).toEqual(done);
  });

  it('after 15 minutes the expiry job makes it EXPIRED; a payment arriving later changes nothing and answers 200', async () => {
    const loc = await newLocation();
    const tr = await newTransaction({ location_id: loc.ml_id });
    clock.advance(10 * 60_000);
    await t.app.loket.payments.expireDue();
    expect((await statusOf(t, tr.tr_external_id)).tr_status).toBe('PENDING');
    const expired = await expireByJob(tr.tr_external_id);
    expect(expired).toMatchObject({ tr_status: 'EXPIRED', tr_paid_at: null });

    const late = await t.app.inject({ method: 'POST', url: `/_dev/payments/${tr.tr_external_id}/pay` });
    expect(late.statusCode).toBe(200);
    expect(late.json().webhook.status).toBe(200);
    await jobsSettled(t.app);
    expect(await statusOf(t, tr.tr_external_id)).toEqual(expired);
    const delivery = await t.app.loket.database.db
      .selectFrom('webhook_deliveries')
      .select('result')
      .where('reference', '=', tr.tr_external_id)
      .where('outcome', '=', 'accepted')
      .executeTakeFirst();
    expect(delivery?.result).toMatch(/late payment/);
  });

  it('send_invoice e-mails a receipt once paid; price_id sets the amount', async () => {
    const loc = await newLocation();
    const price = await newPrice({ mp_amount: 55_000 });
    const email = `tamu-${tag()}@example.com`;
    const tr = await newTransaction({ location_id: loc.ml_id, price_id: price.mp_id, email, send_invoice: true });
    expect(tr).toMatchObject({ tr_amount: 55_000, tr_email: email, tr_send_invoice: true });
    await pay(t, tr.tr_external_id);
    const box = await waitFor('receipt', async () => {
      const m = (await call('GET', `/_dev/outbox?to=${encodeURIComponent(email)}`)).json().messages;
      return m.length > 0 ? m : undefined;
    });
    expect(box[0].subject).toContain(tr.tr_external_id);
    expect(box[0].body).toContain('Rp');
    expect(box[0].body).toContain(loc.ml_name);
  });

  it('bad input is 4xx in the photobox envelope and creates nothing', async () => {
    const loc = await newLocation();
    const before = await transactionCount();
    for (const [body, status] of [
      [{}, 422],
      [{ location_id: 'dua' }, 422],
      [{ location_id: 0 }, 422],
      [{ location_id: 999_999 }, 404],
      [{ location_id: loc.ml_id, email: 'not-an-email' }, 422],
      [{ location_id: loc.ml_id, send_invoice: true }, 422],
      [{ location_id: loc.ml_id, price_id: 'x' }, 422],
    ] as const) {
      expectError(await call('POST', '/api/v1/transactions', kiosk, body), status);
    }
    const bad = await t.app.inject({
      method: 'POST',
      url: '/api/v1/transactions',
      headers: { ...kiosk, 'content-type': 'application/json' },
      payload: '{"location_id": ',
    });
    expectError(bad, 400);
    expect(await transactionCount()).toBe(before);
    expectError(await call('GET', '/api/v1/nothing-here'), 404);
    const wrong = await call('PATCH' as 'PUT', '/api/v1/transactions');
    expectError(wrong, 405);
  });

  it('count takes comma-separated statuses; list searches by external id or location name, with paging', async () => {
    const loc = await newLocation({ ml_name: `Counting Mall ${tag()}` });
    const a = await newTransaction({ location_id: loc.ml_id });
    const b = await newTransaction({ location_id: loc.ml_id });
    await pay(t, a.tr_external_id);
    const count = async (q: string) => {
      const res = await call('GET', `/api/v1/transactions/count${q}`, await reader());
      expect(res.json().message).toBe('Transaction count retrieved successfully');
      return res.json().data.count as number;
    };
    const all = await count('');
    const completed = await count('?status=COMPLETED');
    const pending = await count('?status=PENDING');
    expect(await count('?status=COMPLETED,PENDING')).toBe(completed + pending);
    expect(await count('?status=completed, pending')).toBe(completed + pending);
    expect(await count('?status=PENDING,COMPLETED,FAILED,EXPIRED')).toBe(all);
    expectError(await call('GET', '/api/v1/transactions/count?status=PAID', await reader()), 422);

    const byLocation = (
      await call('GET', `/api/v1/transactions?search=${encodeURIComponent(loc.ml_name)}`, await reader())
    ).json();
    expect(byLocation).toMatchObject({
      success: true,
      message: 'Transactions retrieved successfully',
      total: 2,
      pages: 1,
    });
    expect(byLocation.data.map((r: { tr_external_id: string }) => r.tr_external_id)).toEqual([
      b.tr_external_id,
      a.tr_external_id,
    ]);
    expect(byLocation.data[1]).toMatchObject({
      tr_status: 'COMPLETED',
      tr_amount: 40_000,
      photo_count: 0,
      location: { ml_id: loc.ml_id, ml_name: loc.ml_name },
    });
    const byId = (
      await call('GET', `/api/v1/transactions?search=${a.tr_external_id.toLowerCase()}`, await reader())
    ).json();
    expect(byId.data.map((r: { tr_id: number }) => r.tr_id)).toEqual([a.tr_id]);
    const paged = (
      await call('GET', `/api/v1/transactions?search=${encodeURIComponent(loc.ml_name)}&limit=1&skip=1`, await reader())
    ).json();
    expect(paged).toMatchObject({ total: 2, page: 2, size: 1, pages: 2 });
    const filtered = (
      await call('GET', `/api/v1/transactions?location_id=${loc.ml_id}&status=PENDING`, await reader())
    ).json();
    expect(filtered.data.map((r: { tr_id: number }) => r.tr_id)).toEqual([b.tr_id]);
  });
});

describe('kiosks', () => {
  it('an admin registers a kiosk (key shown once), rotates its key (old one stops at once) and removes it', async () => {
    const loc = await newLocation();
    const name = `Lobby ${tag()}`;
    const res = await call('POST', '/api/v1/kiosks', await admin(), { name });
    expect(res.statusCode).toBe(201);
    const k = res.json().data;
    expect(k).toMatchObject({ kiosk_id: expect.any(Number), name, api_key: expect.stringMatching(/^lk_/) });
    expectError(await call('POST', '/api/v1/kiosks', await admin(), { name: name.toUpperCase() }), 409);
    const key = { 'x-api-key': k.api_key };
    expect((await call('GET', '/api/v1/locations', key)).statusCode).toBe(200);
    expect((await call('GET', '/api/v1/prices', key)).statusCode).toBe(200);
    const tr = await newTransaction({ location_id: loc.ml_id }, key);
    const row = await t.app.loket.database.db
      .selectFrom('photobox_transactions')
      .select('tr_account_id')
      .where('tr_external_id', '=', tr.tr_external_id)
      .executeTakeFirstOrThrow();
    expect(row.tr_account_id).toBe(k.kiosk_id);

    const list = await call('GET', '/api/v1/kiosks', await admin());
    const listed = list.json().data.find((x: { kiosk_id: number }) => x.kiosk_id === k.kiosk_id);
    expect(listed).toMatchObject({ name, active: true, key_prefix: k.api_key.slice(0, 10) });
    expect(list.body).not.toContain(k.api_key);

    // A kiosk key is level 1: no transaction lists, no admin routes.
    expect((await call('GET', '/api/v1/transactions', key)).statusCode).toBe(401);
    expect((await call('POST', '/api/v1/locations', key, { ml_name: 'X' })).statusCode).toBe(401);

    const rotated = await call('POST', `/api/v1/kiosks/${k.kiosk_id}/key`, await admin());
    expect(rotated.statusCode).toBe(201);
    const newKey = { 'x-api-key': rotated.json().data.api_key };
    expectError(await call('GET', '/api/v1/locations', key), 401);
    expect((await call('GET', '/api/v1/locations', newKey)).statusCode).toBe(200);

    const gone = await call('DELETE', `/api/v1/kiosks/${k.kiosk_id}`, await admin());
    expect(gone.statusCode).toBe(200);
    expectError(await call('GET', '/api/v1/locations', newKey), 401);
    expectError(await call('POST', `/api/v1/kiosks/${k.kiosk_id}/key`, await admin()), 404);
    // The history keeps the transaction.
    expect((await statusOf(t, tr.tr_external_id)).tr_status).toBe('PENDING');
  });

  it("another module's API key is not a kiosk key", async () => {
    const a = await makeAccount(t.app, { photobox: 1, ppob: 1 });
    const ppobKey = await t.app.loket.identity.apiKeys.issue(t.app.loket.database.db, a.id, 'ppob');
    expectError(await call('GET', '/api/v1/locations', { 'x-api-key': ppobKey.apiKey }), 401);
  });
});
