// PPOB against Digiflazz (the fake one, over real HTTP): purchases, re-checks with the same ref_id, signed
// provider callbacks that arrive duplicated and out of order, and a provider that does not answer in time.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit } from '../src/core/ledger/ledger.ts';
import { type FakeDigiflazz, type FakeDigiflazzProduct, startFakeDigiflazz } from './fakes/digiflazz.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { makeAccount } from './helpers/identity.ts';
import { freePort } from './helpers/net.ts';
import { jobsSettled, quietPeriod, until, untilBlocked } from './helpers/until.ts';

let fake: FakeDigiflazz;
let t: TestApp;
let base: string;
let sku: string;

beforeAll(async () => {
  fake = await startFakeDigiflazz();
  sku = fake.products[0]?.buyer_sku_code as string;
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  t = await startTestApp({
    config: {
      modules: ['ppob'],
      publicUrl: base,
      ppobProvider: 'digiflazz',
      digiflazzUsername: fake.username,
      digiflazzApiKey: fake.apiKey,
      digiflazzWebhookSecret: fake.webhookSecret,
      digiflazzBaseUrl: fake.url,
      ppobProviderTimeoutMs: 1500,
    },
  });
  await t.app.listen({ host: '127.0.0.1', port });
  await t.app.loket.database.db
    .insertInto('ppob_products')
    .values({ kode_produk: 'DFPLS', nama: 'Pulsa Digiflazz', harga: 15_000, provider_sku: sku, updated_at: new Date() })
    .execute();
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});

async function reseller(funds: number) {
  const a = await makeAccount(t.app, { ppob: 1 });
  const { db } = t.app.loket.database;
  await db
    .insertInto('ppob_profiles')
    .values({ account_id: a.id, is_verified: true, updated_at: new Date() })
    .execute();
  const keys = await t.app.loket.identity.apiKeys.issue(db, a.id, 'ppob');
  const admin = await makeAccount(t.app, { ppob: 50 });
  const tokens = await t.app.inject({
    method: 'POST',
    url: '/api/users/token',
    payload: { username: admin.email, password: admin.password },
  });
  await t.app.inject({
    method: 'POST',
    url: '/api/admin/ppob/balance-adjustments',
    headers: { authorization: `Bearer ${tokens.json().access_token}` },
    payload: { email: a.email, amount: funds, reason: 'modal awal' },
  });
  return { 'x-api-key': keys.apiKey };
}

const beli = (h: Record<string, string>, nomor: string) =>
  t.app.inject({ method: 'POST', url: '/beli', headers: h, payload: { kode_produk: 'DFPLS', nomor_tujuan: nomor } });
const status = async (h: Record<string, string>, id: string) =>
  (await t.app.inject({ method: 'GET', url: `/status/${id}`, headers: h })).json().data;
const saldo = async (h: Record<string, string>) =>
  (await t.app.inject({ method: 'GET', url: '/saldo', headers: h })).json().data.saldo;

describe('PPOB with Digiflazz', () => {
  it('submits (the fake refuses a wrong md5 sign) and finishes when Digiflazz says Sukses, bought once', async () => {
    const h = await reseller(30_000);
    const nomor = `0812${randomBytes(3).readUIntBE(0, 3).toString().padStart(8, '0')}`.slice(0, 13);
    fake.setOutcome(nomor, { rc: '00', sn: 'SN-TEST-123' });
    const d = (await beli(h, nomor)).json().data;
    await until(async () => (await status(h, d.id)).status === 'sukses');
    const s = await status(h, d.id);
    expect(s.hasil_eksekusi).toContain('SN-TEST-123');
    const tx = fake.transactions.get(d.id);
    expect(tx?.purchases).toBe(1);
    expect(await saldo(h)).toBe(15_000);
  });

  it('duplicated and reordered provider callbacks: refunded exactly once', async () => {
    const h = await reseller(15_000);
    const nomor = '081355550001';
    fake.setOutcome(nomor, { rc: '03' });
    const d = (await beli(h, nomor)).json().data;
    await until(async () => fake.transactions.has(d.id));
    expect(await saldo(h)).toBe(0);
    fake.finish(d.id, { rc: '40', message: 'Nomor tidak valid' });
    const url = `${base}/webhooks/ppob-provider`;
    const sends = await Promise.all([
      fake.sendCallback(d.id, url),
      fake.sendCallback(d.id, url),
      fake.sendCallback(d.id, url, { event: 'update' }),
      fake.sendCallback(d.id, url),
    ]);
    expect(sends.length).toBe(4);
    await until(async () => (await status(h, d.id)).status === 'gagal');
    await jobsSettled(t.app);
    expect(await saldo(h)).toBe(15_000);
    const refunds = await t.app.loket.database.db
      .selectFrom('ledger_journals')
      .select('id')
      .where('kind', '=', 'ppob.refund')
      .where('reference', '=', d.id)
      .execute();
    expect(refunds).toHaveLength(1);
    const a = await audit(t.app.loket.database.db);
    expect(a).toEqual({ unbalancedJournals: 0, driftedAccounts: 0, total: 0 });
  });

  it('a callback with a bad signature is refused and changes nothing', async () => {
    const h = await reseller(15_000);
    const nomor = '081355550002';
    fake.setOutcome(nomor, { rc: '03' });
    const d = (await beli(h, nomor)).json().data;
    await until(async () => fake.transactions.has(d.id));
    const body = JSON.stringify({ data: { ref_id: d.id, status: 'Gagal', rc: '40', message: 'forged' } });
    const res = await fetch(`${base}/webhooks/ppob-provider`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hub-signature': 'sha1=0000000000000000000000000000000000000000',
      },
      body,
    });
    expect(res.status).toBe(401);
    expect((await status(h, d.id)).status).toBe('pending');
    expect(await saldo(h)).toBe(0);
  });

  it('a provider that times out leaves the purchase pending (no blind refund); a later check settles it', async () => {
    const h = await reseller(15_000);
    const nomor = '081355550003';
    fake.setOutcome(nomor, { rc: '00' });
    fake.delayNext(4000); // longer than PPOB_PROVIDER_TIMEOUT_MS
    const d = (await beli(h, nomor)).json().data;
    await until(() => fake.requests.some((r) => (r.body as { ref_id?: string } | undefined)?.ref_id === d.id), {
      what: 'the purchase to reach the provider',
    });
    await quietPeriod(2000, 'past PPOB_PROVIDER_TIMEOUT_MS (1.5 s): the purchase must stay pending, no blind refund');
    const s = await status(h, d.id);
    expect(s.status).toBe('pending');
    expect(await saldo(h)).toBe(0);
    // The re-check job (same ref_id) finds the purchase Digiflazz did make: sukses, bought once.
    await until(async () => (await status(h, d.id)).status === 'sukses', { timeoutMs: 30_000 });
    expect(fake.transactions.get(d.id)?.purchases).toBe(1);
    expect(await saldo(h)).toBe(0);
  }, 45_000);
});

// Last in this file: the sync rewrites the catalogue the purchase tests above rely on.
describe('price list sync (Digiflazz /v1/price-list, cmd prepaid)', () => {
  it('adds new SKUs at cost, never leaves a price below cost, keeps an admin margin, deactivates what disappeared', async () => {
    const admin = await makeAccount(t.app, { ppob: 50 });
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/users/token',
      payload: { username: admin.email, password: admin.password },
    });
    const headers = { authorization: `Bearer ${login.json().access_token}` };
    const sync = () => t.app.inject({ method: 'POST', url: '/api/admin/ppob/products/sync', headers });
    const catalogue = async () => {
      const h = await reseller(1);
      const list = (await t.app.inject({ method: 'GET', url: '/produk', headers: h })).json().data as {
        kode_produk: string;
        harga: number;
      }[];
      return new Map(list.map((p) => [p.kode_produk, p.harga]));
    };

    expect((await t.app.inject({ method: 'POST', url: '/api/admin/ppob/products/sync' })).statusCode).toBe(401);
    const first = await sync();
    expect(first.statusCode, first.body).toBe(200);
    const known = fake.products[0];
    if (!known) throw new Error('the fake provider lists no products');
    // products[0] was already in the catalogue as DFPLS (matched by provider_sku), the others are new.
    expect(first.json()).toMatchObject({ listed: fake.products.length, created: fake.products.length - 1 });
    let list = await catalogue();
    for (const p of fake.products.slice(1)) {
      // A SKU the seller has switched off is in the catalogue but not offered.
      const offered = p.buyer_product_status && p.seller_product_status;
      expect(list.get(p.buyer_sku_code), p.buyer_sku_code).toBe(offered ? p.price : undefined);
    }
    expect(list.get('DFPLS')).toBe(Math.max(15_000, known.price));

    const [, raised, gone] = fake.products as [unknown, FakeDigiflazzProduct, FakeDigiflazzProduct];
    raised.price += 1_000;
    fake.products = fake.products.filter((p) => p !== gone);
    const second = (await sync()).json();
    expect(second).toMatchObject({ created: 0, deactivated: 1 });
    list = await catalogue();
    expect(list.get(raised.buyer_sku_code)).toBe(raised.price);
    expect(list.has(gone.buyer_sku_code)).toBe(false);

    // A margin an admin put on top of the cost survives the next sync.
    const row = await t.app.loket.database.db
      .selectFrom('ppob_products')
      .select('id')
      .where('kode_produk', '=', raised.buyer_sku_code)
      .executeTakeFirstOrThrow();
    const margin = raised.price + 2_500;
    const put = await t.app.inject({
      method: 'PATCH',
      url: `/api/admin/ppob/products/${row.id}`,
      headers,
      payload: { harga: margin },
    });
    expect(put.statusCode, put.body).toBe(200);
    expect((await sync()).json()).toMatchObject({ created: 0, updated: 0, deactivated: 0 });
    expect((await catalogue()).get(raised.buyer_sku_code)).toBe(margin);

    // An admin's price change that commits while a sync is running is not undone by it: the sync waits for the
    // change and builds on it (here the provider renamed the product, so the sync does write the row).
    raised.product_name = `${raised.product_name} (baru)`;
    const { db } = t.app.loket.database;
    const later = margin + 1_000;
    let syncing: ReturnType<typeof sync> | undefined;
    await db.transaction().execute(async (trx) => {
      await trx.updateTable('ppob_products').set({ harga: later }).where('id', '=', row.id).execute();
      syncing = sync();
      await untilBlocked(t.app, 'the sync to wait for the uncommitted price change');
    });
    if (!syncing) throw new Error('the sync was not started');
    expect((await syncing).json()).toMatchObject({ updated: 1 });
    const after = await db
      .selectFrom('ppob_products')
      .select(['harga', 'nama'])
      .where('id', '=', row.id)
      .executeTakeFirstOrThrow();
    expect(after).toEqual({ harga: later, nama: raised.product_name });
  });
});
