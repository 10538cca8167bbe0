// Billing's dashboard, loyalty segments and reports, from a fixture built through the API at fixed dates on the
// app's clock. Money numbers come from the ledger postings those calls made; every number asserted below is worked
// out by hand from the fixture in the comments.
//
// Brands: JAKI "Jakinet" (PPN 11 %), NAGR "Nagrak" (PPN 0). Packages: 20 Mbps 100 000 (JAKI), 50 Mbps 200 000 (NAGR).
// A JAKI invoice is 100 000 + 11 000 PPN = 111 000; a NAGR invoice is 200 000. Times are UTC+7 (WIB).
//
//   customer  brand alamat / blok     installed   status    invoices (periode: due date → what happened)
//   C1 Ani    JAKI  Jl. Melati / A    2026-01-05  Aktif     I2 01: 01-10 paid 01-08 · I3 02: 02-10 paid 02-09 ·
//                                                           I9 03: 03-10 paid 03-10 · I11 04: due 04-25, unpaid
//   C2 Budi   JAKI  Jl. Melati / B    2026-02-10  Aktif     I4 02: 02-10 paid 02-11 06:00 WIB (02-10 23:00 UTC: late
//                                                           only in WIB) · I10 03: 03-10 paid 03-09
//   C3 Citra  NAGR  Jl. Mawar         2026-02-20  Aktif     I5 02: 02-10 unpaid · I7 03: 03-10 unpaid
//   C4 Dedi   NAGR  Jl. Mawar         2026-03-01  Berhenti  I8 03: 03-10 paid 04-01 05:00 WIB (03-31 22:00 UTC)
//   C5 Eka    JAKI  Jl. Melati / A    2025-11-20  Isolir    I1 2025-12: 2025-12-10 unpaid
//   C6 Fajar  NAGR  Jl. Mawar         2026-02-01  Aktif     I6 02: issued 02-05, cancelled 02-07
//
// Every invoice is issued on the 5th of its month at 10:00 WIB (I1 on 2025-12-05); unpaid past-due ones are marked
// Jatuh Tempo. "Today" is 2026-04-20 10:00 WIB.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit } from '../src/core/ledger/ledger.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { bearer, makeAccount, type TestAccount, tokensFor } from './helpers/identity.ts';

let t: TestApp;
let clock = new Date('2025-11-01T03:00:00Z');
let operatorAccount: TestAccount;
let viewerAccount: TestAccount;
let operator: Record<string, string>;
let viewer: Record<string, string>;
let outsider: Record<string, string>;

const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, headers: object, payload?: object) =>
  t.app.inject({ method, url, headers: headers as Record<string, string>, payload });

/** Moves the app's clock to a WIB time; tokens are signed on that clock, so the operator logs in again. */
async function at(wib: string) {
  clock = new Date(`${wib}+07:00`);
  operator = bearer((await tokensFor(t.app, operatorAccount)).access_token);
}

async function ok(method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) {
  const res = await call(method, url, operator, payload);
  expect(res.statusCode, res.body).toBeLessThan(300);
  return res.statusCode === 204 ? {} : res.json();
}

const ids: Record<string, number> = {};

async function invoice(name: string, customer: string, periode: string, due: string, harga: number) {
  await at(`${periode}-05T10:00:00`);
  const inv = await ok('POST', '/api/invoices/', {
    pelanggan_id: ids[customer],
    periode,
    tanggal_invoice: `${periode}-05`,
    tanggal_jatuh_tempo: due,
    items: [{ deskripsi: 'Internet', jumlah: 1, harga }],
  });
  ids[name] = inv.id;
}

async function pay(name: string, wib: string) {
  await at(wib);
  await ok('POST', `/api/invoices/${ids[name]}/mark-as-paid`, { metode_pembayaran: 'Tunai' });
}

beforeAll(async () => {
  t = await startTestApp({ config: { modules: ['billing'] }, overrides: { now: () => clock } });
  const admin = await makeAccount(t.app, { billing: 50 });
  operatorAccount = await makeAccount(t.app, { billing: 10 });
  viewerAccount = await makeAccount(t.app, { billing: 1 });
  const stranger = await makeAccount(t.app, { photobox: 50 });
  await at('2025-11-01T10:00:00');
  const adm = bearer((await tokensFor(t.app, admin)).access_token);
  for (const [id_brand, brand, pajak] of [
    ['JAKI', 'Jakinet', 11],
    ['NAGR', 'Nagrak', 0],
  ] as const) {
    expect((await call('POST', '/api/brands/', adm, { id_brand, brand, pajak, due_day: 10 })).statusCode).toBe(201);
  }
  const p20 = (
    await call('POST', '/api/paket_layanan/', adm, {
      id_brand: 'JAKI',
      nama_paket: 'Home 20',
      kecepatan: 20,
      harga: 100_000,
    })
  ).json();
  const p50 = (
    await call('POST', '/api/paket_layanan/', adm, {
      id_brand: 'NAGR',
      nama_paket: 'Home 50',
      kecepatan: 50,
      harga: 200_000,
    })
  ).json();
  const people = [
    ['C1', 'Ani', p20.id, 'Jl. Melati', 'A', '2026-01-05', 'Aktif'],
    ['C2', 'Budi', p20.id, 'Jl. Melati', 'B', '2026-02-10', 'Aktif'],
    ['C3', 'Citra', p50.id, 'Jl. Mawar', null, '2026-02-20', 'Aktif'],
    ['C4', 'Dedi', p50.id, 'Jl. Mawar', null, '2026-03-01', 'Aktif'],
    ['C5', 'Eka', p20.id, 'Jl. Melati', 'A', '2025-11-20', 'Isolir'],
    ['C6', 'Fajar', p50.id, 'Jl. Mawar', null, '2026-02-01', 'Aktif'],
  ] as const;
  for (const [key, nama, paket_layanan_id, alamat, blok, tanggal_instalasi, status] of people) {
    ids[key] = (
      await ok('POST', '/api/pelanggan/', { nama, paket_layanan_id, alamat, blok, tanggal_instalasi, status })
    ).id as number;
  }

  await invoice('I1', 'C5', '2025-12', '2025-12-10', 100_000);
  await invoice('I2', 'C1', '2026-01', '2026-01-10', 100_000);
  await pay('I2', '2026-01-08T10:00:00');
  for (const [name, customer, harga] of [
    ['I3', 'C1', 100_000],
    ['I4', 'C2', 100_000],
    ['I5', 'C3', 200_000],
    ['I6', 'C6', 200_000],
  ] as const) {
    await invoice(name, customer, '2026-02', '2026-02-10', harga);
  }
  await at('2026-02-07T10:00:00');
  await ok('DELETE', `/api/invoices/${ids.I6}`);
  await pay('I3', '2026-02-09T10:00:00');
  await pay('I4', '2026-02-11T06:00:00');
  for (const [name, customer, harga] of [
    ['I7', 'C3', 200_000],
    ['I8', 'C4', 200_000],
    ['I9', 'C1', 100_000],
    ['I10', 'C2', 100_000],
  ] as const) {
    await invoice(name, customer, '2026-03', '2026-03-10', harga);
  }
  await pay('I10', '2026-03-09T10:00:00');
  await pay('I9', '2026-03-10T10:00:00');
  await pay('I8', '2026-04-01T05:00:00');
  await invoice('I11', 'C1', '2026-04', '2026-04-25', 100_000);
  await at('2026-04-20T10:00:00');
  for (const name of ['I1', 'I5', 'I7']) {
    await ok('PATCH', `/api/invoices/${ids[name]}/status`, { status_invoice: 'Jatuh Tempo' });
  }
  await ok('PATCH', `/api/pelanggan/${ids.C4}`, { status: 'Berhenti' });
  viewer = bearer((await tokensFor(t.app, viewerAccount)).access_token);
  outsider = bearer((await tokensFor(t.app, stranger)).access_token);
});
afterAll(async () => t?.close());

describe('billing reports', () => {
  it('revenue by month comes from the ledger postings, on WIB dates', async () => {
    const res = await call('GET', '/api/reports/revenue?start_date=2026-01-01&end_date=2026-03-31', viewer);
    expect(res.statusCode, res.body).toBe(200);
    const r = res.json();
    // Postings dated 2026-01-01..03-31 WIB. January: I2 issued 111 000 and paid. February: I3, I4, I5, I6 issued
    // (111 000 + 111 000 + 200 000 + 200 000 = 622 000), I6 cancelled (200 000), I3 and I4 paid (222 000; I4 at
    // 02-11 06:00 WIB). March: I7, I8, I9, I10 issued (200 000 + 200 000 + 111 000 + 111 000 = 622 000), I10 and I9
    // paid (222 000). I8's payment (03-31 22:00 UTC) is 04-01 in WIB: outside the range.
    expect(r).toMatchObject({ start_date: '2026-01-01', end_date: '2026-03-31', group_by: 'month' });
    expect(r.rincian).toEqual([
      {
        key: '2026-01',
        label: '2026-01',
        ditagihkan: 111_000,
        dibatalkan: 0,
        dibayar: 111_000,
        invoices_dibayar: 1,
        jumlah_invoice: 1,
      },
      {
        key: '2026-02',
        label: '2026-02',
        ditagihkan: 622_000,
        dibatalkan: 200_000,
        dibayar: 222_000,
        invoices_dibayar: 2,
        jumlah_invoice: 4,
      },
      {
        key: '2026-03',
        label: '2026-03',
        ditagihkan: 622_000,
        dibatalkan: 0,
        dibayar: 222_000,
        invoices_dibayar: 2,
        jumlah_invoice: 4,
      },
    ]);
    // 111 000 + 222 000 + 222 000 = 555 000 from 1 + 2 + 2 = 5 payments; billed 111 000 + 622 000 + 622 000
    // − 200 000 cancelled = 1 155 000.
    expect(r.total_pendapatan).toBe(555_000);
    expect(r.total_invoices).toBe(5);
    expect(r.total_ditagihkan).toBe(1_155_000);
  });

  it('revenue by brand, and by status for one brand over a range with a late payment', async () => {
    const byBrand = (
      await call('GET', '/api/reports/revenue?start_date=2026-01-01&end_date=2026-03-31&group_by=brand', viewer)
    ).json();
    // JAKI: I2, I3, I4, I9, I10 issued and paid, 5 × 111 000 = 555 000. NAGR: I5, I6, I7, I8 issued (4 × 200 000),
    // I6 cancelled (200 000), nothing paid in the range.
    expect(byBrand.rincian).toEqual([
      {
        key: 'JAKI',
        label: 'Jakinet',
        ditagihkan: 555_000,
        dibatalkan: 0,
        dibayar: 555_000,
        invoices_dibayar: 5,
        jumlah_invoice: 5,
      },
      {
        key: 'NAGR',
        label: 'Nagrak',
        ditagihkan: 800_000,
        dibatalkan: 200_000,
        dibayar: 0,
        invoices_dibayar: 0,
        jumlah_invoice: 4,
      },
    ]);
    expect(byBrand.total_pendapatan).toBe(555_000);

    const res = await call(
      'GET',
      '/api/reports/revenue?start_date=2026-01-01&end_date=2026-04-30&group_by=status&id_brand=NAGR',
      viewer,
    );
    const r = res.json();
    // NAGR to 04-30: I6 (now Dibatalkan) issued and cancelled; I5 and I7 (Jatuh Tempo) issued 2 × 200 000; I8
    // (Lunas) issued and paid 200 000 on 04-01 WIB.
    expect(r.rincian).toEqual([
      {
        key: 'Dibatalkan',
        label: 'Dibatalkan',
        ditagihkan: 200_000,
        dibatalkan: 200_000,
        dibayar: 0,
        invoices_dibayar: 0,
        jumlah_invoice: 1,
      },
      {
        key: 'Jatuh Tempo',
        label: 'Jatuh Tempo',
        ditagihkan: 400_000,
        dibatalkan: 0,
        dibayar: 0,
        invoices_dibayar: 0,
        jumlah_invoice: 2,
      },
      {
        key: 'Lunas',
        label: 'Lunas',
        ditagihkan: 200_000,
        dibatalkan: 0,
        dibayar: 200_000,
        invoices_dibayar: 1,
        jumlah_invoice: 1,
      },
    ]);
    // 800 000 issued − 200 000 cancelled = 600 000 billed; 200 000 received from one invoice.
    expect(r).toMatchObject({ total_pendapatan: 200_000, total_invoices: 1, total_ditagihkan: 600_000 });
  });

  it('aging buckets what is owed today by days past due, from the ledger', async () => {
    const r = (await call('GET', '/api/reports/revenue?start_date=2026-04-01&end_date=2026-04-30', viewer)).json();
    // Owed on 2026-04-20: I11 111 000 due 04-25 (not yet due: current); I7 200 000 due 03-10 (21 + 20 = 41 days:
    // 31-60); I5 200 000 due 02-10 (18 + 31 + 20 = 69 days: 61-90); I1 111 000 due 2025-12-10 (21 + 31 + 28 + 31
    // + 20 = 131 days: > 90). Total 111 000 + 200 000 + 200 000 + 111 000 = 622 000.
    expect(r.aging).toEqual({
      per_tanggal: '2026-04-20',
      total_outstanding: 622_000,
      buckets: [
        { bucket: 'current', label: 'Belum jatuh tempo', jumlah_invoice: 1, total: 111_000 },
        { bucket: '1-30', label: '1-30 hari', jumlah_invoice: 0, total: 0 },
        { bucket: '31-60', label: '31-60 hari', jumlah_invoice: 1, total: 200_000 },
        { bucket: '61-90', label: '61-90 hari', jumlah_invoice: 1, total: 200_000 },
        { bucket: '>90', label: '> 90 hari', jumlah_invoice: 1, total: 111_000 },
      ],
    });
    // April alone: I11 issued (111 000) and I8 paid (200 000, 04-01 05:00 WIB).
    expect(r).toMatchObject({ total_pendapatan: 200_000, total_invoices: 1, total_ditagihkan: 111_000 });

    // Jl. Mawar only: C3's I7 (31-60) and I5 (61-90), 400 000.
    const mawar = (await call('GET', '/api/reports/revenue?alamat=Jl.%20Mawar', viewer)).json();
    expect(mawar.aging.total_outstanding).toBe(400_000);
    expect(mawar.aging.buckets.map((b: { total: number }) => b.total)).toEqual([0, 0, 200_000, 200_000, 0]);
  });

  it('details list the payments behind the report, paged, with the total in X-Total-Count', async () => {
    const all = await call('GET', '/api/reports/revenue/details?start_date=2026-01-01&end_date=2026-03-31', viewer);
    expect(all.statusCode).toBe(200);
    expect(all.headers['x-total-count']).toBe('5');
    // Oldest first: I2 (01-08), I3 (02-09), I4 (02-11 06:00 WIB), I10 (03-09), I9 (03-10).
    expect(all.json().map((p: { id: number }) => p.id)).toEqual([ids.I2, ids.I3, ids.I4, ids.I10, ids.I9]);
    const page = await call(
      'GET',
      '/api/reports/revenue/details?start_date=2026-01-01&end_date=2026-03-31&skip=1&limit=2',
      viewer,
    );
    expect(page.headers['x-total-count']).toBe('5');
    expect(page.json().map((p: { id: number }) => p.id)).toEqual([ids.I3, ids.I4]);

    const mawar = await call(
      'GET',
      '/api/reports/revenue/details?start_date=2026-01-01&end_date=2026-04-30&alamat=Jl.%20Mawar',
      viewer,
    );
    // Only I8 on Jl. Mawar was paid: 200 000, at 04-01 05:00 WIB.
    expect(mawar.json()).toEqual([
      {
        id: ids.I8,
        invoice_number: expect.stringMatching(/^INV-2026-\d{3,}$/),
        nomor_invoice: expect.stringMatching(/^INV-2026-\d{3,}$/),
        pelanggan_id: ids.C4,
        pelanggan_nama: 'Dedi',
        alamat: 'Jl. Mawar',
        id_brand: 'NAGR',
        paid_at: expect.any(String),
        metode_pembayaran: 'Tunai',
        total_harga: 200_000,
      },
    ]);
    // The same instant whichever way a timestamp is written (UTC or WIB with its offset).
    expect(Date.parse(mawar.json()[0].paid_at)).toBe(Date.parse('2026-04-01T05:00:00+07:00'));
  });

  it('loyalty segments over active customers, by id or by the chart label', async () => {
    const names = async (segmen: string) => {
      const res = await call(
        'GET',
        `/api/dashboard/loyalitas-users-by-segment?segmen=${encodeURIComponent(segmen)}`,
        viewer,
      );
      expect(res.statusCode, res.body).toBe(200);
      return { names: res.json().map((c: { nama: string }) => c.nama), total: res.headers['x-total-count'] };
    };
    // C4 stopped (Berhenti): no segment. C3 and C5 (Isolir) owe past due; C2 paid I4 on 02-11 WIB, after 02-10;
    // C1 paid every time by the due date and I11 is not due yet; C6 has only a cancelled invoice.
    expect(await names('menunggak')).toEqual({ names: ['Citra', 'Eka'], total: '2' });
    expect(await names('Menunggak')).toEqual({ names: ['Citra', 'Eka'], total: '2' });
    expect(await names('lunas-telat')).toEqual({ names: ['Budi'], total: '1' });
    expect(await names('Lunas (Tapi Telat)')).toEqual({ names: ['Budi'], total: '1' });
    expect(await names('setia')).toEqual({ names: ['Ani', 'Fajar'], total: '2' });
    expect(await names('Setia On-Time')).toEqual({ names: ['Ani', 'Fajar'], total: '2' });
    expect(await names('bogus')).toEqual({ names: [], total: '0' });
    const first = (
      await call('GET', '/api/dashboard/loyalitas-users-by-segment?segmen=setia&limit=1&skip=1', viewer)
    ).json();
    expect(first).toEqual([
      { id: ids.C6, nama: 'Fajar', id_pelanggan: null, alamat: 'Jl. Mawar', no_telp: null, segmen: 'setia' },
    ]);
  });

  it('the customer report: segment, status, brand, and what each owes from the ledger', async () => {
    const get = async (q: string) => {
      const res = await call('GET', `/api/reports/customers?${q}`, viewer);
      expect(res.statusCode, res.body).toBe(200);
      return res.json();
    };
    // C3 owes I5 + I7 = 400 000, C5 owes I1 = 111 000: 511 000.
    const owing = await get('segment=menunggak');
    expect(owing.data.map((c: { nama: string; tunggakan: number }) => [c.nama, c.tunggakan])).toEqual([
      ['Citra', 400_000],
      ['Eka', 111_000],
    ]);
    expect(owing).toMatchObject({ total_count: 2, skip: 0, limit: 15, total_tunggakan: 511_000 });
    // JAKI: C1 owes I11 (111 000), C2 nothing, C5 I1 (111 000).
    const jaki = await get('brand=JAKI');
    expect(
      jaki.data.map((c: { nama: string; tunggakan: number; segmen: string }) => [c.nama, c.segmen, c.tunggakan]),
    ).toEqual([
      ['Ani', 'setia', 111_000],
      ['Budi', 'lunas-telat', 0],
      ['Eka', 'menunggak', 111_000],
    ]);
    expect(jaki.total_tunggakan).toBe(222_000);
    const stopped = await get('status=Berhenti');
    expect(stopped.data).toMatchObject([
      { nama: 'Dedi', status: 'Berhenti', segmen: null, tunggakan: 0, brand: 'Nagrak', layanan: 'Home 50' },
    ]);
    expect((await get('status=Suspended')).data.map((c: { nama: string }) => c.nama)).toEqual(['Eka']);
  });

  it('the dashboard: stat cards, this month’s revenue from the ledger, and every chart', async () => {
    const res = await call('GET', '/api/dashboard/', viewer);
    expect(res.statusCode, res.body).toBe(200);
    const d = res.json();
    // Six live customers; JAKI C1, C2, C5; NAGR C3, C4, C6; Aktif C1, C2, C3, C6; Isolir C5.
    expect(d.stat_cards.map((c: { title: string; value: number }) => [c.title, c.value])).toEqual([
      ['Total Pelanggan', 6],
      ['Pelanggan Jakinet', 3],
      ['Pelanggan Nagrak', 3],
      ['Pelanggan Aktif', 4],
      ['Pelanggan Isolir', 1],
    ]);
    // April 2026 WIB: only I8's payment (NAGR, 200 000). Owed now: 622 000 (the aging total).
    expect(d.revenue_summary).toEqual({
      total: 200_000,
      periode: 'April 2026',
      breakdown: [
        { id_brand: 'JAKI', brand: 'Jakinet', revenue: 0 },
        { id_brand: 'NAGR', brand: 'Nagrak', revenue: 200_000 },
      ],
      outstanding: 622_000,
    });
    // Jl. Mawar: C3, C4, C6; Jl. Melati: C1, C2, C5 (ties by name).
    expect(d.lokasi_chart).toEqual({ labels: ['Jl. Mawar', 'Jl. Melati'], data: [3, 3] });
    // Jl. Melati block A: C1, C5; block B: C2.
    expect(d.pelanggan_per_alamat_chart).toEqual({
      labels: ['Jl. Mawar', 'Jl. Melati - A', 'Jl. Melati - B'],
      data: [3, 2, 1],
    });
    expect(d.paket_chart).toEqual({ labels: ['20 Mbps', '50 Mbps'], data: [3, 3] });
    // Installed: 2025-11 C5; 2026-01 C1; 2026-02 C2, C3, C6; 2026-03 C4 (twelve months to April 2026).
    expect(d.growth_chart).toEqual({
      labels: [
        'Mei 2025',
        'Jun 2025',
        'Jul 2025',
        'Agu 2025',
        'Sep 2025',
        'Okt 2025',
        'Nov 2025',
        'Des 2025',
        'Jan 2026',
        'Feb 2026',
        'Mar 2026',
        'Apr 2026',
      ],
      data: [0, 0, 0, 0, 0, 0, 1, 0, 1, 3, 1, 0],
    });
    expect(d.status_langganan_chart).toEqual({ labels: ['Aktif', 'Suspended', 'Berhenti'], data: [4, 1, 1] });
    expect(d.loyalitas_pembayaran_chart).toEqual({
      labels: ['Setia On-Time', 'Lunas (Tapi Telat)', 'Menunggak'],
      data: [2, 1, 2],
    });
    // Periods 2025-11..2026-04 (cancelled ones not counted): 2025-12 I1 (Jatuh Tempo); 2026-01 I2 (Lunas);
    // 2026-02 I3, I4 (Lunas), I5 (Jatuh Tempo); 2026-03 I8, I9, I10 (Lunas), I7 (Jatuh Tempo); 2026-04 I11 (waiting).
    expect(d.invoice_summary_chart).toEqual({
      labels: ['Nov 2025', 'Des 2025', 'Jan 2026', 'Feb 2026', 'Mar 2026', 'Apr 2026'],
      total: [0, 1, 1, 3, 4, 1],
      lunas: [0, 0, 1, 2, 3, 0],
      menunggu: [0, 0, 0, 0, 0, 1],
      kadaluarsa: [0, 1, 0, 1, 1, 0],
    });
    expect(d.charts.map((c: { id: string }) => c.id)).toEqual([
      'lokasi',
      'paket',
      'growth',
      'status_langganan',
      'pelanggan_per_alamat',
      'loyalitas_pembayaran',
    ]);
    expect(d.charts[5]).toMatchObject(d.loyalitas_pembayaran_chart);

    // 20 Mbps: C1, C2, C5 (Jl. Melati, Jakinet); 50 Mbps: C3, C4, C6 (Jl. Mawar, Nagrak).
    const paket = await call('GET', '/api/dashboard/paket-details', viewer);
    expect(paket.json()).toEqual({
      '20 Mbps': {
        total_pelanggan: 3,
        breakdown_lokasi: [{ nama: 'Jl. Melati', jumlah: 3 }],
        breakdown_brand: [{ nama: 'Jakinet', jumlah: 3 }],
      },
      '50 Mbps': {
        total_pelanggan: 3,
        breakdown_lokasi: [{ nama: 'Jl. Mawar', jumlah: 3 }],
        breakdown_brand: [{ nama: 'Nagrak', jumlah: 3 }],
      },
    });

    // Isolir C5; waiting or overdue I1, I5, I7, I11; Berhenti C4.
    const badges = await call('GET', '/api/dashboard/sidebar-badges', viewer);
    expect(badges.json()).toEqual({ suspended_count: 1, unpaid_invoice_count: 4, stopped_count: 1 });
  });

  it('the dashboard shows a payment within its 30 s freshness; until then the last view is served', async () => {
    const before = (await call('GET', '/api/dashboard/', viewer)).json();
    expect(before.revenue_summary.total).toBe(200_000);
    expect((await call('GET', '/api/dashboard/sidebar-badges', viewer)).json().unpaid_invoice_count).toBe(4);
    // C1 pays I11 (111 000) today, before its due date.
    await pay('I11', '2026-04-20T10:00:00');
    // Right after, the view computed before the payment may still be served (one recomputation runs meanwhile).
    const soon = (await call('GET', '/api/dashboard/', viewer)).json();
    expect([200_000, 311_000]).toContain(soon.revenue_summary.total);
    // 30 s later no view computed before the payment is served any more.
    await at('2026-04-20T10:00:30');
    const d = (await call('GET', '/api/dashboard/', viewer)).json();
    // April: I8's 200 000 and now I11's 111 000 (JAKI); owed 622 000 − 111 000 = 511 000.
    expect(d.revenue_summary).toMatchObject({
      total: 311_000,
      breakdown: [
        { id_brand: 'JAKI', brand: 'Jakinet', revenue: 111_000 },
        { id_brand: 'NAGR', brand: 'Nagrak', revenue: 200_000 },
      ],
      outstanding: 511_000,
    });
    expect(d.invoice_summary_chart.lunas[5]).toBe(1);
    expect(d.invoice_summary_chart.menunggu[5]).toBe(0);
    // C1 paid on time: still Setia.
    expect(d.loyalitas_pembayaran_chart.data).toEqual([2, 1, 2]);
    expect((await call('GET', '/api/dashboard/sidebar-badges', viewer)).json().unpaid_invoice_count).toBe(3);
  });

  it('refuses bad dates, a start after the end, an unknown grouping or status with 422; 401 and 403', async () => {
    for (const q of [
      'start_date=2026-02-30',
      'end_date=20260301',
      'start_date=2026-03-02&end_date=2026-03-01',
      'group_by=year',
    ]) {
      const res = await call('GET', `/api/reports/revenue?${q}`, viewer);
      expect(res.statusCode, q).toBe(422);
      expect(res.json()).toMatchObject({
        status: 'error',
        error_code: 'VALIDATION_ERROR',
        detail: { message: 'Validation failed' },
      });
    }
    expect((await call('GET', '/api/reports/revenue/details?start_date=2026-13-01', viewer)).statusCode).toBe(422);
    for (const q of ['skip=-1', 'limit=0', 'limit=abc']) {
      expect((await call('GET', `/api/reports/revenue/details?${q}`, viewer)).statusCode, q).toBe(422);
    }
    // A page larger than the export's bound is clamped, not refused.
    expect((await call('GET', '/api/reports/revenue/details?limit=2000000000', viewer)).statusCode).toBe(200);
    for (const q of ['segment=bogus', 'status=Hilang']) {
      const res = await call('GET', `/api/reports/customers?${q}`, viewer);
      expect(res.statusCode, q).toBe(422);
      expect(res.json().error_code).toBe('VALIDATION_ERROR');
    }
    for (const url of [
      '/api/dashboard/',
      '/api/dashboard/paket-details',
      '/api/dashboard/sidebar-badges',
      '/api/dashboard/loyalitas-users-by-segment',
      '/api/reports/revenue',
      '/api/reports/revenue/details',
      '/api/reports/customers',
    ]) {
      const anon = await call('GET', url, {});
      expect(anon.statusCode, url).toBe(401);
      expect(anon.json()).toMatchObject({ status: 'error', detail: expect.any(String) });
      expect((await call('GET', url, outsider)).statusCode, url).toBe(403);
    }
  });

  it('reading reports moves no money: the ledger still balances', async () => {
    const a = await audit(t.app.loket.database.db);
    expect(a).toEqual({ unbalancedJournals: 0, driftedAccounts: 0, total: 0 });
  });
});
