// Recurring generation a batch at a time: two generators running at once (two instances of the app share one
// database; on PostgreSQL the generators below run on separate connections at the same time) create each invoice
// once, and a period spanning several transactions is numbered on without gaps or reuse, its money in the ledger.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit, balanceOf } from '../src/core/ledger/ledger.ts';
import { createGeneration, type GenerationResult } from '../src/modules/billing/use-cases/generate.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';

let t: TestApp;
let admin: Record<string, string>;
let operator: Record<string, string>;

const code = () => `B${randomBytes(3).toString('hex').toUpperCase()}`;
const call = (method: 'GET' | 'POST' | 'PATCH', url: string, headers: object, payload?: object) =>
  t.app.inject({ method, url, headers: headers as Record<string, string>, payload });

/** A brand (PPN 11 %, due on the 10th) with a 200,000 package, and `n` customers installed long ago. */
async function brandWithCustomers(n: number) {
  const brand = code();
  expect(
    (await call('POST', '/api/brands/', admin, { id_brand: brand, brand: 'Uji', pajak: 11, due_day: 10 })).statusCode,
  ).toBe(201);
  const pkg = (
    await call('POST', '/api/paket_layanan/', admin, {
      id_brand: brand,
      nama_paket: 'Internet 20Mbps',
      kecepatan: 20,
      harga: 200_000,
    })
  ).json() as { id: number };
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const res = await call('POST', '/api/pelanggan/', operator, {
      nama: `Pelanggan ${code()}`,
      email: `${code().toLowerCase()}@example.com`,
      paket_layanan_id: pkg.id,
      id_brand: brand,
      tgl_instalasi: '2025-03-01',
    });
    expect(res.statusCode, res.body).toBe(201);
    ids.push((res.json() as { id: number }).id);
  }
  return { brand, ids };
}

const generator = (batchSize: number) =>
  createGeneration(
    {
      database: t.app.loket.database,
      jobs: t.app.loket.jobs,
      notifications: t.app.loket.notifications,
      now: () => t.app.loket.now(),
    },
    { batchSize },
  );

const numberOf = (nomor: string) => Number(nomor.split('-')[2]);

async function invoicesOf(ids: number[], periode: string) {
  return t.app.loket.database.db
    .selectFrom('billing_invoices')
    .select(['id', 'pelanggan_id', 'nomor_invoice', 'total_harga', 'status_invoice'])
    .where('pelanggan_id', 'in', ids)
    .where('periode', '=', periode)
    .orderBy('pelanggan_id')
    .execute();
}

beforeAll(async () => {
  t = await startTestApp({ config: { modules: ['billing'] } });
  admin = bearer((await tokensFor(t.app, await makeAccount(t.app, { billing: 50 }))).access_token);
  operator = bearer((await tokensFor(t.app, await makeAccount(t.app, { billing: 10 }))).access_token);
});
afterAll(async () => t?.close());

describe('generating a period in batches', () => {
  it('a period of 7 customers in batches of 2 (4 transactions) is numbered on without gaps, each with its item, receivable and payment link', async () => {
    const { brand, ids } = await brandWithCustomers(7);
    const made = await generator(2).all('2027-05', null, brand);
    expect(made.skipped).toEqual([]);
    expect(made.created.map((c) => c.pelanggan_id)).toEqual(ids);
    // 200,000 + 11 % PPN (22,000) each.
    expect(made.created.map((c) => c.total_harga)).toEqual(ids.map(() => 222_000));
    const numbers = made.created.map((c) => numberOf(c.nomor_invoice));
    const first = numbers[0] ?? 0;
    expect(numbers).toEqual(ids.map((_, i) => first + i));
    expect(made.created.every((c) => /^INV-\d{4}-\d{3,}$/.test(c.nomor_invoice))).toBe(true);
    // The next number of the year follows on: a hand-made invoice takes first + 7.
    const manual = await call('POST', '/api/invoices/', operator, {
      pelanggan_id: ids[0],
      periode: '2027-06',
      items: [{ deskripsi: 'Pasang ulang', jumlah: 1, harga: 100_000 }],
    });
    expect(manual.statusCode, manual.body).toBe(201);
    expect(numberOf(manual.json().nomor_invoice)).toBe(first + 7);
    const detail = (await call('GET', `/api/invoices/${made.created[3]?.id}`, operator)).json();
    expect(detail).toMatchObject({
      subtotal: 200_000,
      ppn: 22_000,
      total_harga: 222_000,
      status_invoice: 'Menunggu Pembayaran',
      tanggal_jatuh_tempo: '2027-05-10',
      items: [{ deskripsi: 'Internet 20Mbps 2027-05', jumlah: 1, harga: 200_000 }],
    });
    expect(await balanceOf(t.app.loket.database.db, `receivable:billing:${ids[3]}`)).toBe(-222_000);
    // Every invoice gets its payment link from the enqueued jobs.
    const end = Date.now() + 20_000;
    for (;;) {
      const rows = await invoicesOf(ids, '2027-05');
      const linked = await t.app.loket.database.db
        .selectFrom('billing_invoices')
        .select(sql<number>`count(*)::int`.as('n'))
        .where(
          'id',
          'in',
          rows.map((r) => r.id),
        )
        .where('payment_link', 'is not', null)
        .executeTakeFirstOrThrow();
      if (linked.n === 7) break;
      if (Date.now() > end) throw new Error(`only ${linked.n} of 7 invoices got a payment link`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // Again: nothing new, each customer skipped with the invoice it has.
    const again = await generator(3).all('2027-05', null, brand);
    expect(again.created).toEqual([]);
    expect(again.skipped).toEqual(
      made.created.map((c) => ({ pelanggan_id: c.pelanggan_id, reason: `already has ${c.nomor_invoice}` })),
    );
    expect(await audit(t.app.loket.database.db)).toEqual({ unbalancedJournals: 0, driftedAccounts: 0, total: 0 });
  });

  it('two generators and the route at once create each invoice once; the numbers are distinct and consecutive', async () => {
    const { brand, ids } = await brandWithCustomers(9);
    const before = await t.app.loket.database.db
      .selectFrom('billing_invoices')
      .select(sql<number>`count(*)::int`.as('n'))
      .executeTakeFirstOrThrow();
    const [a, b, viaRoute] = await Promise.all([
      generator(2).all('2027-07', null, brand),
      generator(3).all('2027-07', null, brand),
      call('POST', '/api/invoices/generate', operator, { periode: '2027-07' }),
    ]);
    expect(viaRoute.statusCode, viaRoute.body).toBe(200);
    const route = viaRoute.json() as GenerationResult;
    const mine = (r: GenerationResult) => r.created.filter((c) => ids.includes(c.pelanggan_id));
    const created = [...mine(a), ...mine(b), ...mine(route)];
    // Each customer invoiced exactly once, by one of the three.
    expect(created.map((c) => c.pelanggan_id).sort((x, y) => x - y)).toEqual(ids);
    const rows = await invoicesOf(ids, '2027-07');
    expect(rows.map((r) => r.pelanggan_id)).toEqual(ids);
    expect(rows.map((r) => r.nomor_invoice).sort()).toEqual(created.map((c) => c.nomor_invoice).sort());
    // The others say why they skipped each of those customers.
    for (const r of [a, b, route]) {
      const skippedMine = r.skipped.filter((s) => ids.includes(s.pelanggan_id));
      expect(skippedMine.length + mine(r).length).toBe(ids.length);
      for (const s of skippedMine)
        expect(s.reason).toMatch(/^already has (INV-\d{4}-\d{3,}|an invoice for this period)$/);
    }
    // Every number made in this test (the route also billed the other customers of the database) is used once,
    // and together they run on without a gap.
    const all = await t.app.loket.database.db
      .selectFrom('billing_invoices')
      .select('nomor_invoice')
      .orderBy('id')
      .offset(before.n)
      .execute();
    const numbers = all.map((r) => numberOf(r.nomor_invoice)).sort((x, y) => x - y);
    expect(new Set(numbers).size).toBe(numbers.length);
    expect(numbers.at(-1)).toBe((numbers[0] ?? 0) + numbers.length - 1);
    expect(await audit(t.app.loket.database.db)).toEqual({ unbalancedJournals: 0, driftedAccounts: 0, total: 0 });
  });

  it('a cancelled invoice can be generated again with a new number; the route writes one activity entry per batch', async () => {
    const { ids } = await brandWithCustomers(1);
    const id = ids[0] ?? 0;
    const first = (
      await call('POST', '/api/invoices/generate', operator, { pelanggan_id: id, periode: '2027-09' })
    ).json();
    expect(first.created).toHaveLength(1);
    const cancelled = await call('PATCH', `/api/invoices/${first.created[0].id}/status`, operator, {
      status_invoice: 'Dibatalkan',
    });
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    const second = (
      await call('POST', '/api/invoices/generate', operator, { langganan_id: id, periode: '2027-09' })
    ).json();
    expect(second.created).toHaveLength(1);
    expect(second.created[0].nomor_invoice).not.toBe(first.created[0].nomor_invoice);
    expect(await balanceOf(t.app.loket.database.db, `receivable:billing:${id}`)).toBe(-222_000);
    const entries = await t.app.loket.database.db
      .selectFrom('activity_logs')
      .select(['action', 'after'])
      .where('action', '=', 'billing.invoice.generated')
      .where('object_id', '=', '2027-09')
      .orderBy('id')
      .execute();
    expect(entries.map((e) => e.after)).toEqual([
      { periode: '2027-09', count: 1, first: first.created[0].nomor_invoice, last: first.created[0].nomor_invoice },
      { periode: '2027-09', count: 1, first: second.created[0].nomor_invoice, last: second.created[0].nomor_invoice },
    ]);
    // One customer's generation refuses what it cannot do (the frontend takes any 2xx as done).
    const twice = await call('POST', '/api/invoices/generate', operator, { pelanggan_id: id, periode: '2027-09' });
    expect(twice.statusCode, twice.body).toBe(409);
    expect(twice.json().detail).toBe('Invoice untuk periode ini (2027-09) sudah ada.');
    const missing = await call('POST', '/api/invoices/generate', operator, {
      pelanggan_id: 999_999,
      periode: '2027-09',
    });
    expect(missing.statusCode, missing.body).toBe(404);
    expect(missing.json()).toMatchObject({ status: 'error', error_code: 'NOT_FOUND' });
    expect(missing.json().detail).toContain('Pelanggan dengan ID 999999 tidak ditemukan');
    expect(await audit(t.app.loket.database.db)).toEqual({ unbalancedJournals: 0, driftedAccounts: 0, total: 0 });
  });
});
