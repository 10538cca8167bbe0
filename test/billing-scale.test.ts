// The billing demo-data generator (`loket billing seed`) on a small base: what it writes, that one seed gives one
// base, that its ledger balances and agrees with the invoices, that the app's own endpoints work on top of it, and
// that a second run refuses and changes nothing.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runModuleCommand } from '../src/app.ts';
import { AppError } from '../src/core/http/errors.ts';
import { audit } from '../src/core/ledger/ledger.ts';
import { periodsUntil, seedOptions } from '../src/modules/billing/use-cases/seed.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';

// 10:00 in Jakarta on 5 December 2026: the history is 2026-10, 2026-11 and 2026-12.
const NOW = new Date('2026-12-05T03:00:00Z');
const clock = { now: () => NOW };

let a: TestApp;
let b: TestApp;
let c: TestApp;
const lines: string[] = [];

const seed = (t: TestApp, options: Record<string, string>) =>
  runModuleCommand(t.app, 'billing', 'seed', options, (line) => lines.push(line));

const one = async <T>(t: TestApp, query: ReturnType<typeof sql<T>>) =>
  (await query.execute(t.app.loket.database.db)).rows[0] as T;

/** A digest of everything the generator wrote (ids, names, dates, amounts, statuses, ledger entries). */
const digest = (t: TestApp) =>
  one<{ d: string }>(
    t,
    sql`SELECT md5(
      (SELECT string_agg(c::text, '|' ORDER BY c.id) FROM billing_customers c) ||
      (SELECT string_agg(d::text, '|' ORDER BY d.id) FROM billing_technical_data d) ||
      (SELECT string_agg(i::text, '|' ORDER BY i.id) FROM billing_invoices i) ||
      (SELECT string_agg(concat_ws(',', j.kind, j.reference, j.created_at, a.code, e.amount), '|' ORDER BY e.id)
         FROM ledger_entries e JOIN ledger_journals j ON j.id = e.journal_id
         JOIN ledger_accounts a ON a.id = e.ledger_account_id)) AS d`,
  ).then((r) => r.d);

const counts = (t: TestApp) =>
  one<{ customers: number; technical: number; invoices: number; items: number; journals: number }>(
    t,
    sql`SELECT (SELECT count(*) FROM billing_customers)::int AS customers,
               (SELECT count(*) FROM billing_technical_data)::int AS technical,
               (SELECT count(*) FROM billing_invoices)::int AS invoices,
               (SELECT count(*) FROM billing_invoice_items)::int AS items,
               (SELECT count(*) FROM ledger_journals)::int AS journals`,
  );

beforeAll(async () => {
  const start = () => startTestApp({ config: { modules: ['billing'] }, overrides: clock });
  [a, b, c] = await Promise.all([start(), start(), start()]);
  await seed(a, { customers: '200', months: '3', seed: '7' });
  await seed(b, { customers: '200', months: '3', seed: '7' });
  await seed(c, { customers: '200', months: '3', seed: '8' });
}, 120_000);

afterAll(async () => {
  await Promise.all([a, b, c].map((t) => t?.close()));
});

describe('billing seed', () => {
  it('writes the customers asked for, each with technical data and a unique address, and reports what it did', async () => {
    const n = await counts(a);
    expect(n.customers).toBe(200);
    expect(n.technical).toBe(200);
    expect(n.items).toBe(n.invoices);
    expect(lines.some((l) => l.startsWith('200 customers'))).toBe(true);
    const shape = await one<{ ips: number; emails: number; phones: number; bad_phone: number; brands: number }>(
      a,
      sql`SELECT (SELECT count(DISTINCT ip_pelanggan) FROM billing_technical_data)::int AS ips,
                 count(DISTINCT email)::int AS emails, count(DISTINCT no_telp)::int AS phones,
                 count(*) FILTER (WHERE no_telp !~ '^08[0-9]{10}$')::int AS bad_phone,
                 count(DISTINCT id_brand)::int AS brands
            FROM billing_customers`,
    );
    expect(shape).toMatchObject({ ips: 200, emails: 200, bad_phone: 0, brands: 3 });
    const statuses = await one<{ aktif: number; isolir: number; berhenti: number }>(
      a,
      sql`SELECT count(*) FILTER (WHERE status = 'Aktif')::int AS aktif,
                 count(*) FILTER (WHERE status = 'Isolir')::int AS isolir,
                 count(*) FILTER (WHERE status = 'Berhenti')::int AS berhenti FROM billing_customers`,
    );
    expect(statuses.aktif + statuses.isolir + statuses.berhenti).toBe(200);
    expect(Math.min(statuses.aktif, statuses.isolir, statuses.berhenti)).toBeGreaterThan(0);
  });

  it('writes invoice history over the months asked for, at most one per customer and period, none in the future', async () => {
    expect(periodsUntil('2026-12-05', 3)).toEqual(['2026-10', '2026-11', '2026-12']);
    const inv = await one<{
      n: number;
      pairs: number;
      periods: string[];
      statuses: string[];
      future: number;
      wrong_total: number;
      unpaid_lunas: number;
      early_overdue: number;
      before_install: number;
    }>(
      a,
      sql`SELECT count(*)::int AS n, count(DISTINCT (i.pelanggan_id, i.periode))::int AS pairs,
                 array_agg(DISTINCT i.periode ORDER BY i.periode) AS periods,
                 array_agg(DISTINCT i.status_invoice ORDER BY i.status_invoice) AS statuses,
                 count(*) FILTER (WHERE i.tanggal_invoice > '2026-12-05' OR i.paid_at > ${NOW})::int AS future,
                 count(*) FILTER (WHERE i.total_harga <> i.subtotal + i.ppn
                                     OR i.ppn <> round(i.subtotal * i.ppn_percent / 100))::int AS wrong_total,
                 count(*) FILTER (WHERE (i.status_invoice = 'Lunas') <> (i.paid_at IS NOT NULL))::int AS unpaid_lunas,
                 count(*) FILTER (WHERE i.status_invoice = 'Jatuh Tempo' AND i.tanggal_jatuh_tempo >= '2026-12-05')::int
                   AS early_overdue,
                 count(*) FILTER (WHERE to_char(c.tanggal_instalasi, 'YYYY-MM') > i.periode)::int AS before_install
            FROM billing_invoices i JOIN billing_customers c ON c.id = i.pelanggan_id`,
    );
    expect(inv.n).toBeGreaterThan(400);
    expect(inv.pairs).toBe(inv.n);
    expect(inv.periods).toEqual(['2026-10', '2026-11', '2026-12']);
    expect(inv.statuses).toEqual(['Dibatalkan', 'Jatuh Tempo', 'Lunas', 'Menunggu Pembayaran']);
    expect(inv).toMatchObject({ future: 0, wrong_total: 0, unpaid_lunas: 0, early_overdue: 0, before_install: 0 });
    // Invoice numbers: one run per year, no gaps, and the year's counter where the next invoice continues.
    const numbers = await one<{ gaps: number; counter_ok: boolean }>(
      a,
      sql`SELECT count(*) FILTER (WHERE n <> rn)::int AS gaps,
                 bool_and(n <= (SELECT last FROM billing_invoice_counters k WHERE k.year = y)) AS counter_ok
            FROM (SELECT split_part(nomor_invoice, '-', 2)::int AS y, split_part(nomor_invoice, '-', 3)::int AS n,
                         row_number() OVER (PARTITION BY split_part(nomor_invoice, '-', 2) ORDER BY id) AS rn
                    FROM billing_invoices) x`,
    );
    expect(numbers).toEqual({ gaps: 0, counter_ok: true });
  });

  it('posts the journals the invoices imply: the ledger balances and agrees with every invoice', async () => {
    expect(await audit(a.app.loket.database.db)).toEqual({ unbalancedJournals: 0, driftedAccounts: 0, total: 0 });
    const check = await one<{
      receivable_off: number;
      revenue: number;
      live_subtotal: number;
      cash: number;
      paid: number;
    }>(
      a,
      sql`SELECT
            (SELECT count(*) FROM billing_customers c
              WHERE coalesce((SELECT balance FROM ledger_accounts WHERE code = 'receivable:billing:' || c.id), 0)
                 <> -coalesce((SELECT sum(total_harga) FROM billing_invoices i WHERE i.pelanggan_id = c.id
                                 AND i.status_invoice IN ('Menunggu Pembayaran', 'Jatuh Tempo')), 0))::int AS receivable_off,
            (SELECT balance FROM ledger_accounts WHERE code = 'revenue:billing')::bigint AS revenue,
            (SELECT sum(subtotal) FROM billing_invoices WHERE status_invoice <> 'Dibatalkan')::bigint AS live_subtotal,
            (SELECT -sum(balance) FROM ledger_accounts WHERE code LIKE 'cash:billing:%')::bigint AS cash,
            (SELECT sum(total_harga) FROM billing_invoices WHERE status_invoice = 'Lunas')::bigint AS paid`,
    );
    expect(check.receivable_off).toBe(0);
    expect(check.revenue).toBe(check.live_subtotal);
    expect(check.cash).toBe(check.paid);
    const journals = await one<{
      issue: number;
      payment: number;
      cancel: number;
      invoices: number;
      lunas: number;
      batal: number;
    }>(
      a,
      sql`SELECT count(*) FILTER (WHERE kind = 'billing.invoice')::int AS issue,
                 count(*) FILTER (WHERE kind = 'billing.payment')::int AS payment,
                 count(*) FILTER (WHERE kind = 'billing.cancel')::int AS cancel,
                 (SELECT count(*) FROM billing_invoices)::int AS invoices,
                 (SELECT count(*) FROM billing_invoices WHERE status_invoice = 'Lunas')::int AS lunas,
                 (SELECT count(*) FROM billing_invoices WHERE status_invoice = 'Dibatalkan')::int AS batal
            FROM ledger_journals`,
    );
    expect(journals.issue).toBe(journals.invoices);
    expect(journals.payment).toBe(journals.lunas);
    expect(journals.cancel).toBe(journals.batal);
  });

  it('gives the same base for the same seed and another for another seed', async () => {
    const [da, db, dc] = await Promise.all([digest(a), digest(b), digest(c)]);
    expect(db).toBe(da);
    expect(dc).not.toBe(da);
  });

  it('leaves a base the app works on: search finds seeded customers, a seeded invoice can be paid, numbers continue', async () => {
    const operator = bearer((await tokensFor(a.app, await makeAccount(a.app, { billing: 10 }))).access_token);
    const target = await one<{ id: number; nama: string; no_telp: string }>(
      a,
      sql`SELECT id, nama, no_telp FROM billing_customers ORDER BY id LIMIT 1`,
    );
    const last = target.nama.split(' ')[1] ?? '';
    const expected = await one<{ n: number }>(
      a,
      sql`SELECT count(*)::int AS n FROM billing_customers WHERE nama ILIKE ${`%${last}%`} OR email ILIKE ${`%${last}%`}`,
    );
    const found = await a.app.inject({ url: `/api/pelanggan/?search=${encodeURIComponent(last)}`, headers: operator });
    expect(found.statusCode, found.body).toBe(200);
    expect(found.json().total_count).toBe(expected.n);
    expect(found.json().data.map((r: { id: number }) => r.id)).toContain(target.id);
    const byPhone = await a.app.inject({
      url: `/api/pelanggan/?search=${target.no_telp.slice(2, 9)}`,
      headers: operator,
    });
    expect(byPhone.json().data.map((r: { id: number }) => r.id)).toContain(target.id);

    const unpaid = await one<{ id: number }>(
      a,
      sql`SELECT id FROM billing_invoices WHERE status_invoice = 'Jatuh Tempo' ORDER BY id LIMIT 1`,
    );
    const paid = await a.app.inject({
      method: 'PATCH',
      url: `/api/invoices/${unpaid.id}/status`,
      headers: operator,
      payload: { status_invoice: 'Lunas' },
    });
    expect(paid.statusCode, paid.body).toBe(200);
    const created = await a.app.inject({
      method: 'POST',
      url: '/api/pelanggan/',
      headers: operator,
      payload: { nama: 'Pelanggan Baru', email: 'baru@example.com' },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().id).toBe(201);
    const invoice = await a.app.inject({
      method: 'POST',
      url: '/api/invoices/',
      headers: operator,
      payload: {
        pelanggan_id: 201,
        periode: '2026-12',
        items: [{ deskripsi: 'Pasang baru', jumlah: 1, harga: 100_000 }],
      },
    });
    expect(invoice.statusCode, invoice.body).toBe(201);
    const counter = await one<{ last: number }>(a, sql`SELECT last FROM billing_invoice_counters WHERE year = 2026`);
    expect(invoice.json().nomor_invoice).toBe(`INV-2026-${String(counter.last).padStart(3, '0')}`);
    expect(await audit(a.app.loket.database.db)).toEqual({ unbalancedJournals: 0, driftedAccounts: 0, total: 0 });
  });

  it('refuses a second run on a base that has customers, and changes nothing', async () => {
    const before = await counts(c);
    const digestBefore = await digest(c);
    const err = await seed(c, { customers: '10', months: '1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('CONFLICT');
    expect((err as AppError).message).toContain('200 customers');
    expect(await counts(c)).toEqual(before);
    expect(await digest(c)).toBe(digestBefore);
  });

  it('names a wrong option instead of guessing', () => {
    expect(() => seedOptions({ customers: '0', months: '3' })).toThrow(/--customers must be a whole number/);
    expect(() => seedOptions({ customers: '10' })).toThrow(/--months is required/);
    expect(() => seedOptions({ customers: '10', months: '3', costumers: '5' })).toThrow(/unknown option --costumers/);
    expect(seedOptions({ customers: '10', months: '3' })).toEqual({ customers: 10, months: 3, seed: 1 });
  });
});
