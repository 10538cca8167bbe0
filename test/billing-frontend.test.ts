// Billing's original Vue frontend as a client (CONTRACTS §4, billing-frontend.md): every call below is made as the
// frontend makes it (its paths with or without the trailing slash, form sign-in, parallel refreshes, its list
// parameters and field names), through a client that follows redirects the way the browser does.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit } from '../src/core/ledger/ledger.ts';
import { jakartaDate } from '../src/modules/billing/dates.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { roomInWindow } from './helpers/clock.ts';
import { bearer, makeAccount, type TestAccount } from './helpers/identity.ts';

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
type Headers = Record<string, string>;

let t: TestApp;
let adminAccount: TestAccount;
let admin: Headers;
let operator: Headers;
let viewer: Headers;
let brand: string;
let pkg: { id: number; nama_paket: string; harga: number };

const code = () => `F${randomBytes(3).toString('hex').toUpperCase()}`;

/** One call as axios in the browser makes it: a 307 is followed with the same method and body. */
async function api(method: Method, url: string, headers: Headers = {}, payload?: object) {
  let res = await t.app.inject({ method, url, headers, payload });
  for (let hops = 0; res.statusCode === 307 && hops < 3; hops++) {
    const location = String(res.headers.location);
    expect(location.startsWith('/')).toBe(true); // relative: no scheme, no host
    res = await t.app.inject({ method, url: location, headers, payload });
  }
  return res;
}

/** `POST /api/auth/token` as `stores/auth.ts` sends it: a form with the e-mail as username. */
const signIn = (who: { email: string; password: string }) =>
  t.app.inject({
    method: 'POST',
    url: '/api/auth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ username: who.email, password: who.password }).toString(),
  });

async function tokens(who: { email: string; password: string }) {
  const res = await signIn(who);
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { access_token: string; refresh_token: string };
}

async function customer(extra: object = {}) {
  const res = await api('POST', '/api/pelanggan/', operator, {
    nama: `Pelanggan ${code()}`,
    no_ktp: null,
    email: `${code().toLowerCase()}@example.com`,
    no_telp: '081234567890',
    alamat: 'Jl. Kenanga No. 5',
    alamat_2: null,
    blok: 'B',
    unit: '12',
    tgl_instalasi: '2026-01-15',
    layanan: pkg.nama_paket,
    id_brand: brand,
    ...extra,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: number; nama: string };
}

beforeAll(async () => {
  t = await startTestApp({ config: { modules: ['billing'] } });
  adminAccount = await makeAccount(t.app, { billing: 50 });
  admin = bearer((await tokens(adminAccount)).access_token);
  operator = bearer((await tokens(await makeAccount(t.app, { billing: 10 }))).access_token);
  viewer = bearer((await tokens(await makeAccount(t.app, { billing: 1 }))).access_token);
  brand = code();
  const b = await api('POST', '/api/harga_layanan/', admin, {
    id_brand: brand,
    brand: 'Kenanga Net',
    pajak: 11.0,
    xendit_key_name: brand,
  });
  expect(b.statusCode, b.body).toBe(201);
  const p = await api('POST', '/api/paket_layanan/', admin, {
    id_brand: brand,
    nama_paket: `Internet 20Mbps ${brand}`,
    kecepatan: 20,
    harga: 200_000,
  });
  expect(p.statusCode, p.body).toBe(201);
  pkg = p.json();
});
afterAll(async () => t?.close());

describe('sign-in and session (stores/auth.ts, services/api.ts)', () => {
  it('/api/auth/token takes the form; /api/users/me gives the role the menu and invoice buttons read', async () => {
    const me = await api('GET', '/api/users/me', admin);
    expect(me.statusCode, me.body).toBe(200);
    const body = me.json();
    expect(body).toMatchObject({ id: adminAccount.id, email: adminAccount.email, role: { name: 'admin' } });
    const names = body.role.permissions.map((p: { name: string }) => p.name);
    for (const n of ['create_invoices', 'edit_invoices', 'delete_invoices', 'view_activity_log', 'view_pelanggan']) {
      expect(names).toContain(n);
    }

    const op = (await api('GET', '/api/users/me', operator)).json();
    expect(op.role.name).toBe('operator');
    const opNames = op.role.permissions.map((p: { name: string }) => p.name);
    expect(opNames).toContain('create_invoices');
    expect(opNames).not.toContain('view_activity_log');
    // The one delete an operator may make is an invoice's, which cancels it (CONTRACTS §4); deleting customers and
    // technical data is a billing admin's.
    expect(opNames.filter((n: string) => n.startsWith('delete_'))).toEqual(['delete_invoices']);

    const view = (await api('GET', '/api/users/me', viewer)).json();
    expect(view.role.name).toBe('viewer');
    const viewNames = view.role.permissions.map((p: { name: string }) => p.name);
    expect(viewNames).toContain('view_invoices');
    expect(viewNames.filter((n: string) => !n.startsWith('view_'))).toEqual([]);

    // An account without billing cannot use the frontend (the failure logs it out).
    const outsider = await tokens(await makeAccount(t.app, { photobox: 50 }));
    const denied = await api('GET', '/api/users/me', bearer(outsider.access_token));
    expect(denied.statusCode).toBe(403);
    expect(typeof denied.json().detail).toBe('string');
    expect((await api('GET', '/api/users/me')).statusCode).toBe(401);

    const wrong = await signIn({ email: adminAccount.email, password: 'not-the-password' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ status: 'error', error_code: expect.any(String) });
    expect(typeof wrong.json().detail).toBe('string');
  });

  it('parallel refreshes on mount get one successor; logout with {refresh_token} ends the session', async () => {
    const account = await makeAccount(t.app, { billing: 10 });
    const first = await tokens(account);
    const refresh = (token: string) =>
      t.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refresh_token: token } });
    const answers = await Promise.all([1, 2, 3, 4].map(() => refresh(first.refresh_token)));
    expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200, 200]);
    const successors = new Set(answers.map((r) => r.json().refresh_token));
    expect(successors.size).toBe(1);
    for (const r of answers) {
      expect((await api('GET', '/api/users/me', bearer(r.json().access_token))).statusCode).toBe(200);
    }
    const latest = answers[0]?.json() as { access_token: string; refresh_token: string };
    const out = await t.app.inject({
      method: 'POST',
      url: '/api/auth/logout',
      headers: bearer(latest.access_token),
      payload: { refresh_token: latest.refresh_token },
    });
    expect(out.statusCode, out.body).toBe(200);
    expect((await api('GET', '/api/users/me', bearer(latest.access_token))).statusCode).toBe(401);
    expect((await refresh(latest.refresh_token)).statusCode).toBe(401);
    // Within the grace the old token names the ended successor: still nothing.
    expect((await refresh(first.refresh_token)).statusCode).toBe(401);

    // A logout without a body ends the access token too.
    const other = await tokens(account);
    const bare = await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(other.access_token) });
    expect(bare.statusCode, bare.body).toBe(200);
    expect((await api('GET', '/api/users/me', bearer(other.access_token))).statusCode).toBe(401);
    // An empty body labelled JSON is no body.
    const third = await tokens(account);
    const labelled = await t.app.inject({
      method: 'POST',
      url: '/api/auth/logout',
      headers: { ...bearer(third.access_token), 'content-type': 'application/json' },
    });
    expect(labelled.statusCode, labelled.body).toBe(200);
    const bad = await refresh('not-a-token');
    expect(bad.statusCode).toBe(401);
    expect(typeof bad.json().detail).toBe('string');
  });
});

describe('paths as the frontend writes them', () => {
  it('a missing or extra trailing slash is a 307 to the declared path (relative Location, query kept)', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/harga_layanan', headers: viewer });
    expect(res.statusCode).toBe(307);
    expect(res.headers.location).toBe('/api/harga_layanan/');
    const search = await t.app.inject({ method: 'GET', url: '/api/invoices?search=Kenanga&limit=50', headers: viewer });
    expect(search.statusCode).toBe(307);
    expect(search.headers.location).toBe('/api/invoices/?search=Kenanga&limit=50');
    const extra = await t.app.inject({ method: 'GET', url: '/api/invoices/count/', headers: viewer });
    expect(extra.headers.location).toBe('/api/invoices/count');
    // A POST keeps its method and body through the redirect.
    const created = await api('POST', '/api/pelanggan', operator, { nama: `Tanpa Garis ${code()}` });
    expect(created.statusCode, created.body).toBe(201);
    expect((await api('GET', '/api/activity-logs?skip=0&limit=10', admin)).statusCode).toBe(200);
  });

  it("helpers billing does not offer answer 404 in billing's envelope with a string detail, never 5xx", async () => {
    for (const [method, url] of [
      ['GET', '/api/roles/'],
      ['GET', '/api/users/'],
      ['GET', '/api/settings/maintenance_mode'],
      ['POST', '/api/uploads/speedtest/'],
    ] as const) {
      const res = await t.app.inject({ method, url, headers: admin });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json()).toMatchObject({ status: 'error', error_code: 'NOT_FOUND', detail: expect.any(String) });
    }
  });
});

describe('lists and names (PelangganView, DataTeknisView, HargaLayananView)', () => {
  it("customers: {data, total_count}, limit=10000 clamped, every row for selections, both names, the brand's name", async () => {
    const c = await customer();
    const page = await api('GET', `/api/pelanggan/?search=${encodeURIComponent(c.nama)}&skip=0&limit=15`, viewer);
    expect(page.statusCode).toBe(200);
    expect(page.json().total_count).toBe(1);
    const row = page.json().data[0];
    expect(row).toMatchObject({
      id: c.id,
      tgl_instalasi: '2026-01-15',
      tanggal_instalasi: '2026-01-15',
      layanan: pkg.nama_paket,
      blok: 'B',
      unit: '12',
      alamat_2: null,
      harga_layanan: { brand: 'Kenanga Net', pajak: 11, nama_paket: pkg.nama_paket, harga: 200_000 },
    });
    const big = await api('GET', '/api/pelanggan/?limit=10000', viewer);
    expect(big.statusCode).toBe(200);
    expect(big.json().limit).toBe(100);
    const all = await api('GET', '/api/pelanggan/?for_invoice_selection=true', viewer);
    const every = all.json();
    expect(every.data.length).toBe(every.total_count);
    expect(every.data.some((r: { id: number; nama: string }) => r.id === c.id && r.nama === c.nama)).toBe(true);

    const got = (await api('GET', `/api/pelanggan/${c.id}`, viewer)).json();
    expect(got).toMatchObject({ id_brand: brand, layanan: pkg.nama_paket });

    const brands = await api('GET', '/api/harga_layanan/', viewer);
    expect(Array.isArray(brands.json())).toBe(true);
    expect(brands.headers['x-total-count']).toBeDefined();
    expect(brands.json()).toContainEqual(expect.objectContaining({ id_brand: brand, brand: 'Kenanga Net', pajak: 11 }));
    const packages = (await api('GET', '/api/paket_layanan/', viewer)).json();
    expect(packages).toContainEqual(expect.objectContaining({ id: pkg.id, kecepatan: 20, harga: 200_000 }));
  });

  it('PelangganView saves the whole row it read, edited in its own names: the edits are kept, the echo changes nothing', async () => {
    const c = await customer();
    const other = await api('POST', '/api/paket_layanan/', admin, {
      id_brand: brand,
      nama_paket: `Internet 50Mbps ${brand}`,
      kecepatan: 50,
      harga: 350_000,
    });
    expect(other.statusCode, other.body).toBe(201);
    const read = async () =>
      (await api('GET', `/api/pelanggan/?search=${encodeURIComponent(c.nama)}`, viewer)).json().data[0];
    // The row sent back as it was read: nothing changes.
    const row = await read();
    const same = await api('PATCH', `/api/pelanggan/${c.id}`, operator, { ...row });
    expect(same.statusCode, same.body).toBe(200);
    expect(await read()).toMatchObject({
      layanan: pkg.nama_paket,
      paket_layanan_id: pkg.id,
      tgl_instalasi: '2026-01-15',
    });
    // The form edits `layanan` and `tgl_instalasi`; `paket_layanan_id` and `tanggal_instalasi` ride along unchanged.
    const edited = await api('PATCH', `/api/pelanggan/${c.id}`, operator, {
      ...row,
      layanan: other.json().nama_paket,
      tgl_instalasi: '2026-03-01',
    });
    expect(edited.statusCode, edited.body).toBe(200);
    expect(await read()).toMatchObject({
      layanan: other.json().nama_paket,
      paket_layanan_id: other.json().id,
      tgl_instalasi: '2026-03-01',
      tanggal_instalasi: '2026-03-01',
      harga_layanan: { harga: 350_000 },
    });
    // The document's names, edited beside echoed frontend names, win the same way.
    const back = await read();
    const doc = await api('PATCH', `/api/pelanggan/${c.id}`, operator, {
      ...back,
      paket_layanan_id: pkg.id,
      tanggal_instalasi: '2026-02-01',
    });
    expect(doc.statusCode, doc.body).toBe(200);
    expect(await read()).toMatchObject({
      paket_layanan_id: pkg.id,
      layanan: pkg.nama_paket,
      tgl_instalasi: '2026-02-01',
    });
  });

  it('technical data: {data, total_count} with limit=500; by-pelanggan is an array; the password reads null', async () => {
    const c = await customer();
    const ip = `10.${Number.parseInt(code().slice(1, 3), 16)}.${Number.parseInt(code().slice(1, 3), 16)}.7`;
    const created = await api('POST', '/api/data_teknis/', operator, {
      pelanggan_id: c.id,
      id_pelanggan: `pppoe-${c.id}`,
      password_pppoe: 'rahasia123',
      ip_pelanggan: ip,
      profile_pppoe: '20Mbps',
      olt: 'OLT-1',
      pon: 3,
      otb: 1,
      odc: 2,
      port_odp: 4,
      onu_power: -21,
      sn: 'ZTEG00000001',
    });
    expect(created.statusCode, created.body).toBe(201);
    const list = await api('GET', `/api/data_teknis/?search=${encodeURIComponent(`pppoe-${c.id}`)}&limit=500`, viewer);
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json()).toMatchObject({ total_count: 1, data: [{ pelanggan_id: c.id, password_pppoe: null }] });
    const by = await api('GET', `/api/data_teknis/by-pelanggan/${c.id}`, viewer);
    expect(by.json()).toMatchObject([{ pelanggan_id: c.id, sn: 'ZTEG00000001', password_pppoe: null }]);
    const none = await customer();
    expect((await api('GET', `/api/data_teknis/by-pelanggan/${none.id}`, viewer)).json()).toEqual([]);

    // The form's helpers: choices in use, and whether an IP is taken (not by the row being edited).
    expect((await api('GET', '/api/data_teknis/available-olt', viewer)).json()).toContain('OLT-1');
    expect((await api('GET', '/api/data_teknis/available-profiles', viewer)).json()).toContain('20Mbps');
    expect(Array.isArray((await api('GET', '/api/data_teknis/available-vlans', viewer)).json())).toBe(true);
    const power = (await api('GET', '/api/data_teknis/onu-power-ranges', viewer)).json();
    expect(power.min).toBeLessThanOrEqual(-21);
    expect(power.max).toBeGreaterThanOrEqual(-21);
    expect(power.ranges.map((r: { label: string }) => r.label)).toHaveLength(3);
    const taken = await api('POST', '/api/data_teknis/check-ip', operator, { ip_address: ip, current_id: null });
    expect(taken.json()).toMatchObject({ is_taken: true, owner_id: c.id, message: expect.any(String) });
    const own = await api('POST', '/api/data_teknis/check-ip', operator, {
      ip_address: ip,
      current_id: created.json().id,
    });
    expect(own.json()).toMatchObject({ is_taken: false, owner_id: null });
    const bad = await api('POST', '/api/data_teknis/check-ip', operator, { ip_address: '10.0.0.999' });
    expect(bad.statusCode).toBe(422);
  });

  it("deleting (PelangganView, DataTeknisView) is a billing admin's: an operator gets 403 with a string detail", async () => {
    const c = await customer();
    const td = await api('POST', '/api/data_teknis/', operator, { pelanggan_id: c.id, id_pelanggan: `pppoe-${c.id}` });
    expect(td.statusCode, td.body).toBe(201);
    for (const url of [`/api/data_teknis/${td.json().id}`, `/api/pelanggan/${c.id}`]) {
      const refused = await api('DELETE', url, operator);
      expect(refused.statusCode, refused.body).toBe(403);
      expect(typeof refused.json().detail).toBe('string');
      expect((await api('GET', url, viewer)).statusCode).toBe(200);
      expect((await api('DELETE', url, admin)).statusCode).toBe(204);
      expect((await api('GET', url, viewer)).statusCode).toBe(404);
    }
  });
});

describe('subscriptions and invoices (LanggananView, InvoicesView)', () => {
  it('langganan: one per customer, Isolir shown as Suspended, filtered by status and package name', async () => {
    const c = await customer();
    const isolated = await customer();
    expect((await api('PATCH', `/api/pelanggan/${isolated.id}`, operator, { status: 'Isolir' })).statusCode).toBe(200);
    const res = await api('GET', `/api/langganan/?paket_layanan_name=${encodeURIComponent(pkg.nama_paket)}`, viewer);
    expect(res.statusCode, res.body).toBe(200);
    const { data, total_count } = res.json();
    const mine = data.find((s: { pelanggan_id: number }) => s.pelanggan_id === c.id);
    const month = jakartaDate(new Date()).slice(0, 7);
    expect(mine).toEqual({
      id: c.id,
      pelanggan_id: c.id,
      paket_layanan_id: pkg.id,
      status: 'Aktif',
      metode_pembayaran: 'Otomatis',
      harga_awal: 200_000,
      tgl_jatuh_tempo: `${month}-10`,
      tgl_mulai_langganan: '2026-01-15',
      alasan_berhenti: null,
      status_modem: null,
      pelanggan: {
        id: c.id,
        nama: c.nama,
        alamat: 'Jl. Kenanga No. 5',
        no_telp: '081234567890',
        harga_layanan: { id_brand: brand, brand: 'Kenanga Net', pajak: 11 },
      },
      paket_layanan: { id: pkg.id, nama_paket: pkg.nama_paket, harga: 200_000, kecepatan: 20 },
    });
    expect(total_count).toBeGreaterThanOrEqual(2);
    const suspended = await api(
      'GET',
      `/api/langganan/?status=Suspended&paket_layanan_name=${encodeURIComponent(pkg.nama_paket)}`,
      viewer,
    );
    expect(suspended.json().data.map((s: { id: number; status: string }) => [s.id, s.status])).toEqual([
      [isolated.id, 'Suspended'],
    ]);
    const selection = await api('GET', '/api/langganan/?for_invoice_selection=true&limit=10', viewer);
    expect(selection.json().data.length).toBe(selection.json().total_count);
    expect((await api('GET', '/api/langganan/?status=Isolir', viewer)).statusCode).toBe(422);
    expect((await api('GET', '/api/langganan/')).statusCode).toBe(401);
  });

  it('generate {langganan_id} → mark-as-paid "Bank Transfer" → a paid one cannot be deleted; an unpaid one can', async () => {
    const c = await customer();
    const gen = await api('POST', '/api/invoices/generate', operator, { langganan_id: c.id });
    expect(gen.statusCode, gen.body).toBe(200);
    const [made] = gen.json().created;
    // 200,000 for the month (installed long before) + 11 % PPN = 222,000.
    expect(made).toMatchObject({ pelanggan_id: c.id, total_harga: 222_000 });

    const unpaid = await api('GET', '/api/invoices/?status_invoice=Belum%20Dibayar&limit=1000', viewer);
    expect(Array.isArray(unpaid.json())).toBe(true);
    const row = unpaid.json().find((i: { id: number }) => i.id === made.id);
    expect(row).toMatchObject({
      invoice_number: made.nomor_invoice,
      nomor_invoice: made.nomor_invoice,
      pelanggan_id: c.id,
      id_pelanggan: c.id,
      total_harga: 222_000,
      email: expect.stringContaining('@example.com'),
      no_telp: '081234567890',
      paid_at: null,
    });
    expect(row.tgl_invoice).toBe(row.tanggal_invoice);
    expect(row.tgl_jatuh_tempo).toBe(row.tanggal_jatuh_tempo);
    expect(Number(unpaid.headers['x-total-count'])).toBeGreaterThanOrEqual(1);
    const count = await api('GET', '/api/invoices/count?status_invoice=Belum%20Dibayar', viewer);
    expect(count.json()).toBe(Number(unpaid.headers['x-total-count']));
    // The frontend's words (billing-frontend.md, row 9): Belum Dibayar is waiting for payment or a draft, never past
    // due; Kadaluarsa is past due.
    for (const i of unpaid.json() as { status_invoice: string }[]) {
      expect(['Menunggu Pembayaran', 'Draft']).toContain(i.status_invoice);
    }
    const late = await api('GET', '/api/invoices/?status_invoice=Kadaluarsa&limit=1000', viewer);
    for (const i of late.json() as { status_invoice: string }[]) expect(i.status_invoice).toBe('Jatuh Tempo');

    const paid = await api('POST', `/api/invoices/${made.id}/mark-as-paid`, operator, {
      metode_pembayaran: 'Bank Transfer',
    });
    expect(paid.statusCode, paid.body).toBe(200);
    expect(paid.json()).toMatchObject({ status_invoice: 'Lunas', metode_pembayaran: 'Bank Transfer' });
    expect(paid.json().paid_at).toBeTruthy();
    const again = await api('POST', `/api/invoices/${made.id}/mark-as-paid`, operator, { metode_pembayaran: 'Cash' });
    expect(again.statusCode).toBe(409);
    expect(typeof again.json().detail).toBe('string');

    const refused = await api('DELETE', `/api/invoices/${made.id}`, operator);
    expect(refused.statusCode).toBe(409);
    expect(typeof refused.json().detail).toBe('string');

    const other = await customer();
    const second = (await api('POST', '/api/invoices/generate', operator, { langganan_id: other.id })).json()
      .created[0];
    expect((await api('DELETE', `/api/invoices/${second.id}`, operator)).statusCode).toBe(204);
    expect((await api('GET', `/api/invoices/${second.id}`, viewer)).json().status_invoice).toBe('Dibatalkan');
    expect((await api('DELETE', `/api/invoices/${second.id}`, viewer)).statusCode).toBe(403);
    expect(await audit(t.app.loket.database.db)).toEqual({ unbalancedJournals: 0, driftedAccounts: 0, total: 0 });
  });
  it('metode_pembayaran null (an empty field sent as null, CONTRACTS §6) settles with the default method', async () => {
    const generated = async () => {
      const res = await api('POST', '/api/invoices/generate', operator, { langganan_id: (await customer()).id });
      expect(res.statusCode, res.body).toBe(200);
      return res.json().created[0] as { id: number };
    };
    const first = await generated();
    const paid = await api('POST', `/api/invoices/${first.id}/mark-as-paid`, operator, { metode_pembayaran: null });
    expect(paid.statusCode, paid.body).toBe(200);
    expect(paid.json()).toMatchObject({ status_invoice: 'Lunas', metode_pembayaran: 'Tunai' });
    const second = await generated();
    const changed = await api('PATCH', `/api/invoices/${second.id}/status`, operator, {
      status_invoice: 'Lunas',
      metode_pembayaran: null,
    });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({ status_invoice: 'Lunas', metode_pembayaran: 'Tunai' });
    // A method that is there is still a string of 1 to 50 characters.
    const third = await generated();
    for (const metode_pembayaran of [1, '', 'x'.repeat(51)]) {
      const res = await api('POST', `/api/invoices/${third.id}/mark-as-paid`, operator, { metode_pembayaran });
      expect(res.statusCode, JSON.stringify(metode_pembayaran)).toBe(422);
    }
    expect(await audit(t.app.loket.database.db)).toEqual({ unbalancedJournals: 0, driftedAccounts: 0, total: 0 });
  });

  it('an overdue invoice (Jatuh Tempo) shows payment_link_status Kadaluarsa, the word the page shows first', async () => {
    const res = await api('POST', '/api/invoices/generate', operator, { langganan_id: (await customer()).id });
    expect(res.statusCode, res.body).toBe(200);
    const { id } = res.json().created[0] as { id: number };
    expect((await api('GET', `/api/invoices/${id}`, viewer)).json().payment_link_status).toBe('Belum Dibayar');
    const overdue = await api('PATCH', `/api/invoices/${id}/status`, operator, { status_invoice: 'Jatuh Tempo' });
    expect(overdue.statusCode, overdue.body).toBe(200);
    expect(overdue.json()).toMatchObject({ status_invoice: 'Jatuh Tempo', payment_link_status: 'Kadaluarsa' });
    const late = await api('GET', '/api/invoices/?status_invoice=Kadaluarsa&limit=1000', viewer);
    expect(late.json()).toContainEqual(expect.objectContaining({ id, payment_link_status: 'Kadaluarsa' }));
    for (const i of late.json() as { payment_link_status: string }[]) {
      expect(['Kadaluarsa', 'Expired']).toContain(i.payment_link_status);
    }
  });

  it('generate {langganan_id}: a refusal is never a 2xx; 404 "… tidak ditemukan" and 409 with a string detail', async () => {
    // InvoicesView.vue shows "Invoice berhasil dibuat" for any 2xx and, on an error, `detail` (reloading its
    // selection lists when it includes "tidak ditemukan").
    const c = await customer();
    expect((await api('POST', '/api/invoices/generate', operator, { langganan_id: c.id })).statusCode).toBe(200);
    const again = await api('POST', '/api/invoices/generate', operator, { langganan_id: c.id });
    expect(again.statusCode, again.body).toBe(409);
    expect(again.json()).toMatchObject({ status: 'error', error_code: 'CONFLICT' });
    expect(again.json().detail).toMatch(/^Invoice untuk periode ini \(\d{4}-\d{2}\) sudah ada\.$/);

    const unknown = await api('POST', '/api/invoices/generate', operator, { langganan_id: 2_000_000_000 });
    expect(unknown.statusCode, unknown.body).toBe(404);
    expect(unknown.json()).toMatchObject({ status: 'error', error_code: 'NOT_FOUND' });
    expect(unknown.json().detail).toContain('Langganan dengan ID 2000000000 tidak ditemukan');

    // Stopped (Berhenti) and without a package: nothing to bill, the same 404; by pelanggan_id too.
    const stopped = await customer();
    const patched = await api('PATCH', `/api/pelanggan/${stopped.id}`, operator, { status: 'Berhenti' });
    expect(patched.statusCode, patched.body).toBe(200);
    const noPackage = await customer({ layanan: null });
    for (const [body, subject] of [
      [{ langganan_id: stopped.id }, 'Langganan'],
      [{ langganan_id: noPackage.id }, 'Langganan'],
      [{ pelanggan_id: noPackage.id }, 'Pelanggan'],
    ] as const) {
      const res = await api('POST', '/api/invoices/generate', operator, body);
      expect(res.statusCode, res.body).toBe(404);
      expect(typeof res.json().detail).toBe('string');
      expect(res.json().detail).toContain(`${subject} dengan ID`);
      expect(res.json().detail).toContain('tidak ditemukan');
    }
    // Nothing was invoiced for them.
    for (const id of [stopped.id, noPackage.id]) {
      expect((await api('GET', `/api/invoices/count?pelanggan_id=${id}`, viewer)).json()).toBe(0);
    }
  });
});

describe('activity log (ActivityLogView)', () => {
  it('{items, total}; action is the request line; details holds the values before and after; filters', async () => {
    const c = await customer({ alamat: 'Jl. Lama 1' });
    const patched = await api('PATCH', `/api/pelanggan/${c.id}`, operator, { alamat: 'Jl. Baru 2' });
    expect(patched.statusCode).toBe(200);

    const res = await api('GET', '/api/activity-logs?skip=0&limit=10', admin);
    expect(res.statusCode, res.body).toBe(200);
    const page = res.json();
    expect(page.total).toBeGreaterThanOrEqual(2);
    expect(page.total_count).toBe(page.total);
    expect(page.items.length).toBeLessThanOrEqual(10);
    const change = page.items.find(
      (i: { event: string; object_id: string }) =>
        i.event === 'billing.customer.updated' && i.object_id === String(c.id),
    );
    expect(change.action).toBe(`PATCH /api/pelanggan/${c.id}`);
    expect(change.user).toMatchObject({ id: expect.any(Number), name: expect.any(String) });
    expect(new Date(change.timestamp).getTime()).not.toBeNaN();
    const details = JSON.parse(change.details);
    expect(details.before.alamat).toBe('Jl. Lama 1');
    expect(details.after.alamat).toBe('Jl. Baru 2');
    for (const item of page.items) expect(item.action).toMatch(/^(GET|POST|PUT|PATCH|DELETE) \//);

    // The document's filters: by user, by action (a name or the start of the request line), by date.
    const mine = (await api('GET', `/api/activity-logs/?user_id=${change.user.id}&limit=100`, admin)).json();
    expect(mine.items.every((i: { user_id: number }) => i.user_id === change.user.id)).toBe(true);
    const patches = (await api('GET', '/api/activity-logs/?action=PATCH&limit=100', admin)).json();
    expect(patches.items.length).toBeGreaterThan(0);
    expect(patches.items.every((i: { action: string }) => i.action.startsWith('PATCH '))).toBe(true);
    const named = (await api('GET', '/api/activity-logs/?action=billing.customer.updated&limit=100', admin)).json();
    expect(named.items.every((i: { event: string }) => i.event === 'billing.customer.updated')).toBe(true);
    const today = jakartaDate(new Date());
    const dated = await api('GET', `/api/activity-logs/?start_date=${today}&end_date=${today}`, admin);
    expect(dated.json().total).toBe(page.total);
    const before = await api('GET', '/api/activity-logs/?end_date=2020-01-01', admin);
    expect(before.json()).toMatchObject({ total: 0, items: [] });

    expect((await api('GET', '/api/activity-logs/', operator)).statusCode).toBe(403);
    expect((await api('GET', '/api/activity-logs/?limit=abc', admin)).statusCode).toBe(422);
  });
});

describe('refresh under the rate limits', () => {
  it('a burst of parallel refreshes passes; a client stuck in a refresh loop is stopped with 429', async () => {
    const limited = await startTestApp({ config: { modules: ['billing'], rateLimits: true } });
    try {
      const account = await makeAccount(limited.app, { billing: 1 });
      const res = await limited.app.inject({
        method: 'POST',
        url: '/api/auth/token',
        payload: { username: account.email, password: account.password },
      });
      const { refresh_token } = res.json();
      const refresh = () =>
        limited.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refresh_token } });
      // Fixed one-minute windows: start where the burst and the loop fit in one.
      await roomInWindow(60_000, 30_000);
      const burst = await Promise.all(Array.from({ length: 12 }, refresh));
      expect(burst.map((r) => r.statusCode)).toEqual(Array(12).fill(200));
      let last = burst[0];
      for (let i = 0; i < 30 && last?.statusCode !== 429; i++) last = await refresh();
      expect(last?.statusCode).toBe(429);
      expect(last?.json()).toMatchObject({ detail: 'Rate limit exceeded', status: 'error' });
      expect(Number(last?.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  }, 120_000);
});
