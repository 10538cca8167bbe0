// The catalogue sync cannot empty a shop: the simulator keeps its catalogue; with Digiflazz (the fake, over real
// HTTP) products are retired only after a complete listing, a dry run changes nothing, a provider error or a partial
// listing retires nothing (unless forced), and the answer names what was added, changed and retired.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeDigiflazz, type FakeDigiflazzProduct, startFakeDigiflazz } from './fakes/digiflazz.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { makeAccount } from './helpers/identity.ts';

async function adminHeaders(t: TestApp) {
  const admin = await makeAccount(t.app, { ppob: 50 });
  const login = await t.app.inject({
    method: 'POST',
    url: '/api/users/token',
    payload: { username: admin.email, password: admin.password },
  });
  return { authorization: `Bearer ${login.json().access_token}` };
}

const active = async (t: TestApp) =>
  (await t.app.loket.database.db.selectFrom('ppob_products').select(['kode_produk', 'aktif', 'harga']).execute())
    .filter((p) => p.aktif)
    .map((p) => p.kode_produk)
    .sort();

describe('sync on the simulator', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { LOKET_DEMO: '1' }, config: { modules: ['ppob'], demo: true } });
  });
  afterAll(async () => t?.close());

  it('keeps the demo catalogue and the demo keeps selling', async () => {
    const before = await active(t);
    expect(before.length).toBeGreaterThan(0);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/admin/ppob/products/sync',
      headers: await adminHeaders(t),
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ provider: 'simulator', deactivated: 0, retired: [], added: [] });
    expect(res.json().message).toMatch(/simulator/);
    expect(await active(t)).toEqual(before);
  });
});

describe('sync with Digiflazz', () => {
  let fake: FakeDigiflazz;
  let t: TestApp;
  let headers: Record<string, string>;
  const sync = (query = '') => t.app.inject({ method: 'POST', url: `/api/admin/ppob/products/sync${query}`, headers });

  beforeAll(async () => {
    fake = await startFakeDigiflazz();
    t = await startTestApp({
      config: {
        modules: ['ppob'],
        ppobProvider: 'digiflazz',
        digiflazzUsername: fake.username,
        digiflazzApiKey: fake.apiKey,
        digiflazzWebhookSecret: fake.webhookSecret,
        digiflazzBaseUrl: fake.url,
        ppobProviderTimeoutMs: 1500,
      },
    });
    headers = await adminHeaders(t);
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });

  it('a dry run answers the plan and changes nothing; the real run then does exactly that', async () => {
    const dry = await sync('?dry_run=true');
    expect(dry.statusCode, dry.body).toBe(200);
    expect(dry.json()).toMatchObject({ dry_run: true, complete: true, created: fake.products.length });
    expect(
      dry
        .json()
        .added.map((a: { kode_produk: string }) => a.kode_produk)
        .sort(),
    ).toEqual(fake.products.map((p) => p.buyer_sku_code).sort());
    expect(await active(t)).toEqual([]);
    const n = await t.app.loket.database.db
      .selectFrom('ppob_products')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(0);

    const real = await sync();
    expect(real.statusCode, real.body).toBe(200);
    expect(real.json()).toMatchObject({ dry_run: false, complete: true, created: fake.products.length });
    expect(real.json().added).toEqual(dry.json().added);
  });

  it('a provider error changes nothing (502)', async () => {
    const before = await active(t);
    const gone = fake.products.pop() as FakeDigiflazzProduct;
    fake.failNext(502);
    const res = await sync();
    expect(res.statusCode).toBe(502);
    expect(await active(t)).toEqual(before);
    fake.products.push(gone);
  });

  it('an empty listing retires nothing without force', async () => {
    const before = await active(t);
    const saved = fake.products;
    fake.products = [];
    const res = await sync();
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ complete: false, deactivated: 0, retired: [] });
    expect(res.json().message).toMatch(/not complete.*force/);
    expect(await active(t)).toEqual(before);
    fake.products = saved;
  });

  it('a partial listing changes what it read, retires nothing; force retires what is missing', async () => {
    const before = await active(t);
    expect(before.length).toBeGreaterThan(2);
    const [first, second, ...rest] = fake.products as FakeDigiflazzProduct[];
    if (!first || !second) throw new Error('the fake lists too few products');
    const saved = fake.products;
    // One entry Loket cannot read (no price) in place of `second`, and `first` dearer.
    const unreadable = { ...second, price: 'n/a' } as unknown as FakeDigiflazzProduct;
    fake.products = [{ ...first, price: first.price + 5_000 }, unreadable, ...rest.slice(1)];
    const partial = await sync();
    expect(partial.statusCode, partial.body).toBe(200);
    expect(partial.json()).toMatchObject({ complete: false, skipped: 1, deactivated: 0, retired: [] });
    expect(partial.json().changed).toEqual([{ kode_produk: first.buyer_sku_code, fields: ['harga'] }]);
    expect(await active(t)).toEqual(before);

    const forced = await sync('?force=true&dry_run=true');
    expect(
      forced
        .json()
        .retired.map((r: { kode_produk: string }) => r.kode_produk)
        .sort(),
    ).toEqual([second.buyer_sku_code, rest[0]?.buyer_sku_code].filter((c) => before.includes(c as string)).sort());
    expect(await active(t)).toEqual(before);
    const done = await sync('?force=true');
    expect(done.json().deactivated).toBe(forced.json().retired.length);
    expect(await active(t)).toEqual(
      before.filter((c) => !forced.json().retired.some((r: { kode_produk: string }) => r.kode_produk === c)),
    );
    fake.products = saved;
  });

  it('a complete listing retires what disappeared and says which', async () => {
    const gone = fake.products.find((p) => p.buyer_product_status && p.seller_product_status);
    if (!gone) throw new Error('no active product in the fake');
    fake.products = fake.products.filter((p) => p !== gone);
    const res = await sync();
    expect(res.json()).toMatchObject({ complete: true });
    expect(res.json().retired.map((r: { kode_produk: string }) => r.kode_produk)).toEqual([gone.buyer_sku_code]);
    expect(await active(t)).not.toContain(gone.buyer_sku_code);
  });

  it('refuses a non-boolean flag with a 4xx and changes nothing', async () => {
    const before = await active(t);
    const res = await sync('?dry_run=maybe');
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    expect(await active(t)).toEqual(before);
  });
});
