// Billing brands: the first billing resource, written with the module kit's resource helper.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';

let t: TestApp;
let admin: Record<string, string>;
let operator: Record<string, string>;
let viewer: Record<string, string>;

beforeAll(async () => {
  t = await startTestApp({ config: { modules: ['billing'] } });
  admin = bearer((await tokensFor(t.app, await makeAccount(t.app, { billing: 50 }))).access_token);
  operator = bearer((await tokensFor(t.app, await makeAccount(t.app, { billing: 10 }))).access_token);
  viewer = bearer((await tokensFor(t.app, await makeAccount(t.app, { billing: 1 }))).access_token);
});
afterAll(async () => t?.close());

const code = () => `B${randomBytes(3).toString('hex').toUpperCase()}`;
const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, headers: object, payload?: object) =>
  t.app.inject({ method, url, headers: headers as Record<string, string>, payload });

const count = async () =>
  Number(
    (
      await t.app.loket.database.db
        .selectFrom('billing_brands')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('billing brands', () => {
  it('create with default rules, read, list with X-Total-Count, patch, delete (204); each change in the activity log', async () => {
    const id = code();
    const created = await call('POST', '/api/brands/', admin, {
      id_brand: ` ${id} `,
      brand: ' Jakinet Timur ',
      pajak: 11,
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      id_brand: id,
      brand: 'Jakinet Timur',
      pajak: 11,
      xendit_key_name: null,
      due_day: 10,
      invoice_days_before: 5,
      grace_days: 5,
      isolation_profile: 'ISOLIR',
    });
    const one = await call('GET', `/api/brands/${id}`, viewer);
    expect(one.statusCode).toBe(200);
    expect(one.json().id_brand).toBe(id);

    const list = await call('GET', '/api/brands/?limit=100000', viewer);
    expect(list.statusCode).toBe(200);
    expect(Array.isArray(list.json())).toBe(true);
    expect(Number(list.headers['x-total-count'])).toBe(await count());
    expect(list.json().map((b: { id_brand: string }) => b.id_brand)).toContain(id);

    const patched = await call('PATCH', `/api/brands/${id}`, admin, { grace_days: 7, pajak: 0 });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ id_brand: id, grace_days: 7, pajak: 0, brand: 'Jakinet Timur' });

    const deleted = await call('DELETE', `/api/brands/${id}`, admin);
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');
    expect((await call('GET', `/api/brands/${id}`, viewer)).statusCode).toBe(404);

    const actions = await t.app.loket.database.db
      .selectFrom('activity_logs')
      .select(['action', 'before', 'after'])
      .where('object_id', '=', id)
      .orderBy('id')
      .execute();
    expect(actions.map((a) => a.action)).toEqual([
      'billing.brand.created',
      'billing.brand.updated',
      'billing.brand.deleted',
    ]);
    expect(actions[1]?.before).toMatchObject({ grace_days: 5 });
    expect(actions[1]?.after).toMatchObject({ grace_days: 7 });
  });

  it('the original frontend reaches the same rows at /api/harga_layanan/', async () => {
    const id = code();
    expect(
      (await call('POST', '/api/harga_layanan/', admin, { id_brand: id, brand: 'Alias', pajak: 11 })).statusCode,
    ).toBe(201);
    const viaBrands = await call('GET', `/api/brands/${id}`, viewer);
    expect(viaBrands.json()).toMatchObject({ id_brand: id, brand: 'Alias', pajak: 11 });
    const list = await call('GET', '/api/harga_layanan/', viewer);
    expect(list.json().some((b: { id_brand: string }) => b.id_brand === id)).toBe(true);
  });

  it('401 without a token, 403 below level 50 for writes, 404 unknown, 409 duplicate, 422 bad input; nothing written', async () => {
    const before = await count();
    const none = await call('GET', '/api/brands/', {});
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({ status: 'error', error_code: 'AUTHENTICATION_ERROR' });
    const low = await call('POST', '/api/brands/', operator, { id_brand: code(), brand: 'X' });
    expect(low.statusCode).toBe(403);
    expect((await call('GET', '/api/brands/NOPE', viewer)).statusCode).toBe(404);
    const id = code();
    expect((await call('POST', '/api/brands/', admin, { id_brand: id, brand: 'One' })).statusCode).toBe(201);
    const dup = await call('POST', '/api/brands/', admin, { id_brand: id, brand: 'Two' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json()).toMatchObject({ status: 'error', error_code: 'CONFLICT' });
    for (const bad of [
      { id_brand: 'has space', brand: 'X' },
      { id_brand: code(), brand: '   ' },
      { id_brand: code(), brand: 'X', due_day: 31 },
      { id_brand: code(), brand: 'X', pajak: -1 },
      { id_brand: code() },
    ]) {
      const res = await call('POST', '/api/brands/', admin, bad);
      expect(res.statusCode, JSON.stringify(bad)).toBe(422);
      expect(res.json()).toMatchObject({
        detail: { message: 'Validation failed', errors: expect.any(Array) },
        status: 'error',
        error_code: 'VALIDATION_ERROR',
      });
    }
    expect(await count()).toBe(before + 1);
  });

  it('an unknown billing path answers 404 in the billing envelope', async () => {
    const res = await call('GET', '/api/pelanggan/nothing/here', viewer);
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ status: 'error', error_code: 'NOT_FOUND' });
  });
});
