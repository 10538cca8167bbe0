// The customer list's cache (use-cases/customers.ts `customerList`, migrations/0064) and the dashboard's shared
// views: a write of a customer, a package or a brand shows in the next search on this instance and on another one
// sharing the database and Redis; a search made while a write is still committing is not kept under the version
// that write took; a payment on one instance shows on the other's dashboard within its 30 s.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, startTwoInstances, type TestApp } from './helpers/app.ts';
import { REAL_PG } from './helpers/db.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';

const code = () => randomBytes(3).toString('hex').toUpperCase();

const call = (
  t: TestApp,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  headers: object,
  payload?: object,
) => t.app.inject({ method, url, headers: headers as Record<string, string>, payload });

async function search(t: TestApp, headers: object, term: string) {
  const res = await call(t, 'GET', `/api/pelanggan/?search=${encodeURIComponent(term)}`, headers);
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { data: { id: number; nama: string; layanan: string | null }[]; total_count: number };
}

/** A brand, a package and `n` customers named `<tag> <k>` through the API; returns the admin's header and ids. */
async function fixture(t: TestApp, tag: string, n: number) {
  const admin = bearer((await tokensFor(t.app, await makeAccount(t.app, { billing: 50 }))).access_token);
  const brand = code();
  expect((await call(t, 'POST', '/api/brands/', admin, { id_brand: brand, brand: `Brand ${brand}` })).statusCode).toBe(
    201,
  );
  const p = await call(t, 'POST', '/api/paket_layanan/', admin, {
    id_brand: brand,
    nama_paket: `Paket ${tag}`,
    kecepatan: 20,
    harga: 150_000,
  });
  expect(p.statusCode, p.body).toBe(201);
  const ids: number[] = [];
  for (let k = 1; k <= n; k++) {
    const c = await call(t, 'POST', '/api/pelanggan/', admin, {
      nama: `${tag} ${k}`,
      no_telp: `0812${String(10_000_000 + k)}`,
      paket_layanan_id: p.json().id,
    });
    expect(c.statusCode, c.body).toBe(201);
    ids.push(c.json().id);
  }
  return { admin, ids, packageId: p.json().id as number };
}

describe('the customer list after writes (one instance)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ config: { modules: ['billing'] } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('a created, renamed or deleted customer shows in the very next search, with the exact total', async () => {
    const tag = `Cache${code()}`;
    const { admin, ids, packageId } = await fixture(t, tag, 20);
    // A page of 15 of 20 matches: the total is counted (and cached with the page).
    let r = await search(t, admin, tag);
    expect(r.data).toHaveLength(15);
    expect(r.total_count).toBe(20);
    expect((await search(t, admin, tag)).total_count).toBe(20);

    const c = await call(t, 'POST', '/api/pelanggan/', admin, { nama: `${tag} baru`, paket_layanan_id: packageId });
    expect(c.statusCode).toBe(201);
    r = await search(t, admin, tag);
    expect(r.total_count).toBe(21);
    expect((await search(t, admin, `${tag} baru`)).data.map((x) => x.id)).toEqual([c.json().id]);

    const renamed = `Lain${code()}`;
    expect((await call(t, 'PATCH', `/api/pelanggan/${ids[0]}`, admin, { nama: renamed })).statusCode).toBe(200);
    expect((await search(t, admin, tag)).total_count).toBe(20);
    expect((await search(t, admin, renamed)).data.map((x) => x.id)).toEqual([ids[0]]);
    expect((await search(t, admin, tag)).data[0]?.id).toBe(ids[1]);

    expect((await call(t, 'DELETE', `/api/pelanggan/${ids[1]}`, admin)).statusCode).toBe(204);
    r = await search(t, admin, tag);
    expect(r.total_count).toBe(19);
    expect(r.data.map((x) => x.id)).not.toContain(ids[1]);
    expect((await search(t, admin, renamed)).total_count).toBe(1);
  });

  it("a package's new name shows in the list rows at once (a list row shows its package)", async () => {
    const tag = `Paket${code()}`;
    const { admin, packageId } = await fixture(t, tag, 2);
    expect((await search(t, admin, tag)).data[0]?.layanan).toBe(`Paket ${tag}`);
    const res = await call(t, 'PATCH', `/api/paket_layanan/${packageId}`, admin, { nama_paket: `Baru ${tag}` });
    expect(res.statusCode, res.body).toBe(200);
    expect((await search(t, admin, tag)).data.map((x) => x.layanan)).toEqual([`Baru ${tag}`, `Baru ${tag}`]);
  });
});

describe.skipIf(!REAL_PG)('the customer list on two instances (needs PostgreSQL: DATABASE_URL; Redis if set)', () => {
  const closers: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const close of closers) await close();
  });

  it('a write on one instance shows in the next search on the other', async () => {
    const { a, b } = await startTwoInstances({ config: { modules: ['billing'] } }, closers);
    const tag = `Dua${code()}`;
    const { admin, ids, packageId } = await fixture(a, tag, 16);
    const onB = bearer((await tokensFor(b.app, await makeAccount(b.app, { billing: 50 }))).access_token);
    expect((await search(a, admin, tag)).total_count).toBe(16);
    expect((await search(b, onB, tag)).total_count).toBe(16);

    const c = await call(a, 'POST', '/api/pelanggan/', admin, { nama: `${tag} baru`, paket_layanan_id: packageId });
    expect(c.statusCode).toBe(201);
    expect((await search(b, onB, tag)).total_count).toBe(17);

    const renamed = `Lain${code()}`;
    expect((await call(b, 'PATCH', `/api/pelanggan/${ids[0]}`, onB, { nama: renamed })).statusCode).toBe(200);
    expect((await search(a, admin, tag)).total_count).toBe(16);
    expect((await search(a, admin, renamed)).data.map((x) => x.id)).toEqual([ids[0]]);

    expect((await call(a, 'DELETE', `/api/pelanggan/${c.json().id}`, admin)).statusCode).toBe(204);
    const r = await search(b, onB, tag);
    expect(r.total_count).toBe(15);
    expect(r.data.map((x) => x.id)).not.toContain(c.json().id);
  });

  it('a search made while a rename is still committing is not kept: after the commit the old name finds nothing', async () => {
    const { a, db } = await startTwoInstances({ config: { modules: ['billing'] } }, closers);
    const tag = `Race${code()}`;
    const { admin, ids } = await fixture(a, tag, 1);
    expect((await search(a, admin, tag)).total_count).toBe(1);
    const writer = new pg.Client({ connectionString: db.url });
    await writer.connect();
    try {
      await writer.query('BEGIN');
      const renamed = `Baru${code()}`;
      await writer.query('UPDATE billing_customers SET nama = $1 WHERE id = $2', [renamed, ids[0]]);
      // The version has moved, the rename is not committed: the search still finds the old name.
      expect((await search(a, admin, tag)).data.map((x) => x.nama)).toEqual([`${tag} 1`]);
      expect((await search(a, admin, renamed)).total_count).toBe(0);
      await writer.query('COMMIT');
      expect((await search(a, admin, tag)).total_count).toBe(0);
      expect((await search(a, admin, renamed)).data.map((x) => x.nama)).toEqual([renamed]);
    } finally {
      await writer.end();
    }
  });

  it("a payment on one instance shows on the other's dashboard within 30 s", async () => {
    let clock = new Date('2026-04-20T03:00:00Z');
    const { a, b } = await startTwoInstances(
      { config: { modules: ['billing'] }, overrides: { now: () => clock } },
      closers,
    );
    const tag = `Bayar${code()}`;
    const { admin, ids } = await fixture(a, tag, 1);
    const onB = bearer((await tokensFor(b.app, await makeAccount(b.app, { billing: 1 }))).access_token);
    const inv = await call(a, 'POST', '/api/invoices/', admin, {
      pelanggan_id: ids[0],
      periode: '2026-04',
      tanggal_invoice: '2026-04-20',
      tanggal_jatuh_tempo: '2026-04-30',
      items: [{ deskripsi: 'Internet', jumlah: 1, harga: 150_000 }],
    });
    expect(inv.statusCode, inv.body).toBe(201);
    const revenue = async () => (await call(b, 'GET', '/api/dashboard/', onB)).json().revenue_summary.total as number;
    const unpaid = async () =>
      (await call(b, 'GET', '/api/dashboard/sidebar-badges', onB)).json().unpaid_invoice_count as number;
    expect(await revenue()).toBe(0);
    const before = await unpaid();
    const paid = await call(a, 'POST', `/api/invoices/${inv.json().id}/mark-as-paid`, admin, {
      metode_pembayaran: 'Tunai',
    });
    expect(paid.statusCode, paid.body).toBe(200);
    clock = new Date(clock.getTime() + 30_000);
    expect(await revenue()).toBe(150_000);
    expect(await unpaid()).toBe(before - 1);
  });
});
