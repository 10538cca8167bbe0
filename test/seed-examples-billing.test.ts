// Every example of the FTTH billing seed document (003_47e22e4c06daf499.txt) for what is on main (part 1: auth,
// dashboard, customers, technical data, invoices, reports, notifications, activity logs, error formats, data models,
// the WebSocket message) run against a fresh Loket, compared by shape and by the values the example fixes (issue 21
// item 3). The Mikrotik examples (routers, isolation: part 2) are not here yet.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from './helpers/app.ts';
import { bearer, makeAccount, type TestAccount, tokensFor } from './helpers/identity.ts';
import { multipart } from './helpers/photobox.ts';
import {
  expectExample,
  expectShape,
  type Res,
  startSeedApp,
  timestampsWithoutOffset,
} from './helpers/seed-examples.ts';
import { until } from './helpers/until.ts';

let t: TestApp;
let account: TestAccount;
let h: Record<string, string>;
let port: number;
beforeAll(async () => {
  t = await startSeedApp(['billing']);
  account = await makeAccount(t.app, { billing: 50 });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  port = (t.app.server.address() as { port: number }).port;
});
afterAll(async () => t?.close());

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
const call = (method: Method, url: string, headers: Record<string, string> = h, payload?: object) =>
  t.app.inject({ method, url, headers, ...(payload && { payload }) }) as Promise<Res>;
const form = (fields: Record<string, string>) => ({
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  payload: new URLSearchParams(fields).toString(),
});

// "Mendapatkan Access Token": the response.
const TOKEN = {
  access_token: 'eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9...',
  token_type: 'bearer',
  expires_in: 3600,
  refresh_token: 'eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9...',
};
// "Standard Error Response Format" and "Validation Errors" (CONTRACTS §4 Billing adds status and error_code to the
// validation answer, as the standard format has them).
const ERROR = { detail: 'Error message description', status: 'error', error_code: 'VALIDATION_ERROR' };
const VALIDATION = {
  detail: { message: 'Validation failed', errors: [{ field: 'email', message: 'Email format is invalid' }] },
};
// "Get Dashboard Data"
const DASHBOARD = {
  stat_cards: [{ title: 'Total Pelanggan', value: 1250, icon: 'users', color: 'primary' }],
  revenue_summary: { total: 50000000, periode: 'Januari 2024', breakdown: [] },
  charts: [],
};
// "Create Pelanggan" request and response.
const CREATE_PELANGGAN = {
  nama: 'John Doe',
  email: 'john@example.com',
  no_telp: '08123456789',
  no_ktp: '1234567890123456',
  alamat: 'Jl. Example No. 123',
  id_brand: 'JAKINET',
  tanggal_instalasi: '2024-01-15',
};
const CREATED_PELANGGAN = {
  id: 123,
  nama: 'John Doe',
  email: 'john@example.com',
  no_telp: '08123456789',
  alamat: 'Jl. Example No. 123',
  created_at: '2024-01-15T10:00:00Z',
};
// "Get All Pelanggan"
const PELANGGAN_LIST = {
  data: [{ id: 123, nama: 'John Doe', email: 'john@example.com', no_telp: '08123456789' }],
  total_count: 1250,
  skip: 0,
  limit: 15,
};
// "Get Pelanggan by ID"
const PELANGGAN_DETAIL = {
  id: 123,
  nama: 'John Doe',
  email: 'john@example.com',
  no_telp: '08123456789',
  alamat: 'Jl. Example No. 123',
  harga_layanan: { id: 1, nama_paket: 'Internet 50Mbps', harga: 500000 },
  data_teknis: { ip_pelanggan: '192.168.1.100', vlan: 100 },
};
// "Data Models": Pelanggan, Data Teknis, Invoice.
const PELANGGAN_MODEL = {
  id: 123,
  nama: 'John Doe',
  email: 'john@example.com',
  no_telp: '08123456789',
  no_ktp: '1234567890123456',
  alamat: 'Jl. Example No. 123',
  alamat_2: 'RT 01/RW 02',
  blok: 'A',
  unit: '123',
  tanggal_instalasi: '2024-01-15',
  id_brand: 'JAKINET',
  status: 'Aktif',
  created_at: '2024-01-15T10:00:00Z',
  updated_at: '2024-01-15T10:00:00Z',
};
const DATA_TEKNIS_CREATE = {
  pelanggan_id: 123,
  ip_pelanggan: '192.168.1.100',
  vlan: 100,
  sn_ont: 'ALCL12345678',
  port_odp: 'ODP-01/P01',
  port_olt: '1/GP1',
};
const DATA_TEKNIS_MODEL = {
  id: 456,
  pelanggan_id: 123,
  ip_pelanggan: '192.168.1.100',
  password_pppoe: 'encrypted_password',
  vlan: 100,
  sn_ont: 'ALCL12345678',
  port_odp: 'ODP-01/P01',
  port_olt: '1/GP1',
  status: 'Aktif',
  mikrotik_server_id: 1,
  created_at: '2024-01-15T10:00:00Z',
};
// CONTRACTS §2 (secrets are never returned after creation) and §4 Billing (`password_pppoe` reads back as null);
// no router in this file (part 2), so no mikrotik_server_id.
const DATA_TEKNIS_OPTS = {
  nullable: ['password_pppoe', 'mikrotik_server_id', '[].password_pppoe', '[].mikrotik_server_id'],
};
const INVOICE_CREATE = {
  pelanggan_id: 123,
  periode: '2024-01',
  tanggal_jatuh_tempo: '2024-01-31',
  items: [{ deskripsi: 'Internet 50Mbps', jumlah: 1, harga: 500000 }],
};
const INVOICE_MODEL = {
  id: 789,
  nomor_invoice: 'INV-2024-001',
  pelanggan_id: 123,
  periode: '2024-01',
  tanggal_invoice: '2024-01-01',
  tanggal_jatuh_tempo: '2024-01-31',
  total_harga: 500000,
  status_invoice: 'Menunggu Pembayaran',
  paid_at: null,
  created_at: '2024-01-01T00:00:00Z',
};
// "WebSocket Message Format"
const WS_MESSAGE = {
  type: 'new_invoice',
  message: 'Invoice baru telah dibuat',
  data: { invoice_id: 789, nomor_invoice: 'INV-2024-001', pelanggan_nama: 'John Doe' },
  timestamp: '2024-01-15T10:00:00Z',
};

let customerId: number;
let technicalId: number;
let invoiceId: number;
const wsMessages: Record<string, unknown>[] = [];
let ws: WebSocket;

describe('billing seed examples', () => {
  describe('Authentication', () => {
    it('POST /api/users/token (form) answers the documented token', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/users/token',
        ...form({ username: account.email, password: account.password }),
      });
      const b = expectExample(res, 200, TOKEN, { token_type: 'bearer', expires_in: 3600 });
      h = bearer(b.access_token);
    });

    it('Login: 401 for a wrong password, 403 for a user that is not active', async () => {
      const wrong = await t.app.inject({
        method: 'POST',
        url: '/api/users/token',
        ...form({ username: account.email, password: 'not-the-password' }),
      });
      expectExample(wrong, 401, ERROR, { status: 'error' });
      const off = await makeAccount(t.app, { billing: 1 });
      await t.app.loket.identity.service.updateAccount(off.id, { status: 'disabled' }, account.id, {
        requestId: 'test',
        ip: null,
      });
      const disabled = await t.app.inject({
        method: 'POST',
        url: '/api/users/token',
        ...form({ username: off.email, password: off.password }),
      });
      expectExample(disabled, 403, ERROR, { status: 'error' });
    });

    it('the Login "Request Body" as JSON {"username","password"} also signs in (the document shows both)', async () => {
      const res = await call('POST', '/api/users/token', {}, { username: account.email, password: account.password });
      expectExample(res, 200, TOKEN, { token_type: 'bearer' });
    });

    it('POST /api/users/refresh {"refresh_token"} answers a new pair; POST /api/users/logout ends it', async () => {
      const pair = await tokensFor(t.app, account);
      const refreshed = await call('POST', '/api/users/refresh', {}, { refresh_token: pair.refresh_token });
      const b = expectExample(refreshed, 200, TOKEN, { token_type: 'bearer' });
      const out = await call('POST', '/api/users/logout', bearer(b.access_token), { refresh_token: b.refresh_token });
      expect(out.statusCode, out.body).toBeLessThan(300);
      const after = await call('POST', '/api/users/refresh', {}, { refresh_token: b.refresh_token });
      expectExample(after, 401, ERROR, { status: 'error' });
    });

    it('a call without the Authorization header is 401 in the standard error format', async () => {
      expectExample(await call('GET', '/api/pelanggan/', {}), 401, ERROR, { status: 'error' });
    });
  });

  describe('Pelanggan', () => {
    it('POST /api/pelanggan/ with the documented body creates the customer (brand JAKINET)', async () => {
      const res = await call('POST', '/api/pelanggan/', h, { ...CREATE_PELANGGAN, layanan: 'Internet 50Mbps' });
      const b = expectExample(res, 201, CREATED_PELANGGAN, {
        nama: 'John Doe',
        email: 'john@example.com',
        no_telp: '08123456789',
        alamat: 'Jl. Example No. 123',
      });
      customerId = b.id;
      // The Pelanggan data model is what a customer reads as.
      expectShape(b, PELANGGAN_MODEL, { nullable: ['alamat_2', 'blok', 'unit'] });
      expect(b).toMatchObject({ no_ktp: '1234567890123456', id_brand: 'JAKINET', tanggal_instalasi: '2024-01-15' });
      expect(b.status).toBe('Aktif');
    });

    it('the Validation Errors example: a bad email is 422 with field "email"', async () => {
      const res = await call('POST', '/api/pelanggan/', h, { ...CREATE_PELANGGAN, email: 'not-an-email' });
      const b = expectExample(res, 422, VALIDATION, {
        detail: { message: 'Validation failed' },
        status: 'error',
        error_code: 'VALIDATION_ERROR',
      });
      expect(b.detail.errors).toContainEqual(expect.objectContaining({ field: 'email' }));
    });

    it('GET /api/pelanggan/?skip&limit&search answers {data, total_count, skip, limit}', async () => {
      const res = await call('GET', '/api/pelanggan/?skip=0&limit=15&search=john@example.com');
      expectExample(res, 200, PELANGGAN_LIST, {
        data: [{ id: customerId, nama: 'John Doe', email: 'john@example.com', no_telp: '08123456789' }],
        total_count: 1,
        skip: 0,
        limit: 15,
      });
      const brand = await call('GET', '/api/pelanggan/?id_brand=JAKINET&alamat=Jl.%20Example%20No.%20123');
      expect(brand.json().data.map((c: { id: number }) => c.id)).toEqual([customerId]);
      const some = await call('GET', '/api/pelanggan/?fields=nama,email&search=john@example.com');
      expect(Object.keys(some.json().data[0]).sort()).toEqual(['email', 'id', 'nama']);
    });

    it('PATCH /api/pelanggan/{id} with the documented body changes nama and alamat', async () => {
      const body = { nama: 'John Smith', alamat: 'Jl. Updated Address No. 456' };
      expectExample(await call('PATCH', `/api/pelanggan/${customerId}`, h, body), 200, CREATED_PELANGGAN, body);
    });
  });

  describe('Data Teknis', () => {
    it('POST /api/data_teknis/ with the documented body answers the Data Teknis model', async () => {
      const res = await call('POST', '/api/data_teknis/', h, { ...DATA_TEKNIS_CREATE, pelanggan_id: customerId });
      const b = expectExample(
        res,
        201,
        DATA_TEKNIS_MODEL,
        { ...DATA_TEKNIS_CREATE, pelanggan_id: customerId, password_pppoe: null },
        DATA_TEKNIS_OPTS,
      );
      technicalId = b.id;
    });

    it('GET /api/data_teknis/pelanggan/{pelanggan_id} answers it', async () => {
      const res = await call('GET', `/api/data_teknis/pelanggan/${customerId}`);
      expectExample(res, 200, DATA_TEKNIS_MODEL, { id: technicalId, pelanggan_id: customerId }, DATA_TEKNIS_OPTS);
    });

    it('PATCH /api/data_teknis/{id} changes what it carries', async () => {
      const res = await call('PATCH', `/api/data_teknis/${technicalId}`, h, { vlan: 200, port_odp: 'ODP-02/P03' });
      expectExample(
        res,
        200,
        DATA_TEKNIS_MODEL,
        { id: technicalId, vlan: 200, port_odp: 'ODP-02/P03' },
        DATA_TEKNIS_OPTS,
      );
    });

    it('GET /api/pelanggan/{id} answers harga_layanan and data_teknis as documented', async () => {
      const res = await call('GET', `/api/pelanggan/${customerId}`);
      expectExample(res, 200, PELANGGAN_DETAIL, {
        id: customerId,
        nama: 'John Smith',
        harga_layanan: { nama_paket: 'Internet 50Mbps', harga: 250000 },
        data_teknis: { ip_pelanggan: '192.168.1.100', vlan: 200 },
      });
    });
  });

  describe('Invoices (and the WebSocket message they send)', () => {
    it('POST /api/invoices/ with the documented body answers the Invoice model; the socket gets new_invoice', async () => {
      ws = new WebSocket(`ws://127.0.0.1:${port}/ws/notifications?token=${h.authorization?.slice(7)}`);
      ws.addEventListener('message', (e) => wsMessages.push(JSON.parse(String(e.data))));
      await until(() => wsMessages.length > 0, { what: 'the socket to connect' });
      // The example's body with the Invoice model's tanggal_invoice: without it Loket issues the invoice today, and
      // the example's due date (2024-01-31) before today is refused (422 on tanggal_jatuh_tempo; see the report).
      const res = await call('POST', '/api/invoices/', h, {
        ...INVOICE_CREATE,
        pelanggan_id: customerId,
        tanggal_invoice: INVOICE_MODEL.tanggal_invoice,
      });
      const b = expectExample(res, 201, INVOICE_MODEL, {
        pelanggan_id: customerId,
        nomor_invoice: 'INV-2024-001', // the first invoice of 2024 on a fresh start
        periode: '2024-01',
        tanggal_invoice: '2024-01-01',
        tanggal_jatuh_tempo: '2024-01-31',
        total_harga: 555000, // 500000 + JAKINET's 11 % PPN (CONTRACTS §4 Billing: total_harga includes the PPN)
        status_invoice: 'Menunggu Pembayaran',
        paid_at: null,
      });
      expect(b.nomor_invoice).toMatch(/^INV-\d{4}-\d{3,}$/);
      invoiceId = b.id;
      const m = await until(() => wsMessages.find((x) => x.type === 'new_invoice'), { what: 'new_invoice' });
      expectShape(m, WS_MESSAGE);
      expect(m).toMatchObject({
        data: { invoice_id: invoiceId, nomor_invoice: b.nomor_invoice, pelanggan_nama: 'John Smith' },
      });
    });

    it('GET /api/invoices/ filters by pelanggan_id, status_invoice and periode', async () => {
      const q = `pelanggan_id=${customerId}&status_invoice=Menunggu%20Pembayaran&periode=2024-01&skip=0&limit=15`;
      const res = await call('GET', `/api/invoices/?${q}`);
      // CONTRACTS §4 Billing and the original web frontend: invoices are a plain array with X-Total-Count.
      const b = expectExample(res, 200, [INVOICE_MODEL], [{ id: invoiceId }]);
      expect(b).toHaveLength(1);
      expect(res.headers['x-total-count']).toBe('1');
      expect((await call('GET', `/api/invoices/?pelanggan_id=${customerId}&status_invoice=Lunas`)).json()).toEqual([]);
    });

    it('GET /api/invoices/{id} answers the Invoice model', async () => {
      expectExample(await call('GET', `/api/invoices/${invoiceId}`), 200, INVOICE_MODEL, { id: invoiceId });
    });

    it('PATCH /api/invoices/{id}/status sets Lunas: paid_at is set; the socket gets new_payment', async () => {
      const res = await call('PATCH', `/api/invoices/${invoiceId}/status`, h, {
        status_invoice: 'Lunas',
        metode_pembayaran: 'Tunai',
      });
      const b = expectExample(
        res,
        200,
        INVOICE_MODEL,
        { id: invoiceId, status_invoice: 'Lunas' },
        {
          nullOr: { paid_at: 'string' },
        },
      );
      expect(typeof b.paid_at).toBe('string');
      await until(() => wsMessages.find((x) => x.type === 'new_payment'), { what: 'new_payment' });
      ws.close();
    });
  });

  describe('Dashboard and reports', () => {
    it('GET /api/dashboard/ answers stat_cards, revenue_summary and charts', async () => {
      const b = expectExample(await call('GET', '/api/dashboard/'), 200, DASHBOARD);
      expect(b.stat_cards).toContainEqual(expect.objectContaining({ title: 'Total Pelanggan', value: 4 }));
    });

    it('GET /api/dashboard/loyalitas-users-by-segment?segmen=setia lists the segment', async () => {
      for (const segmen of ['setia', 'lunas-telat', 'menunggak']) {
        const res = await call('GET', `/api/dashboard/loyalitas-users-by-segment?segmen=${segmen}`);
        expect(res.statusCode, res.body).toBe(200);
        expectShape(res.json(), [{ id: 1, nama: '' }]);
      }
    });

    it('GET /api/reports/revenue?start_date&end_date&group_by answers for month, brand and status', async () => {
      // The document shows no answer; CONTRACTS §4 Billing: total_pendapatan and total_invoices beside the grouping.
      for (const [group_by, key] of [
        ['month', expect.stringMatching(/^\d{4}-\d{2}$/)],
        ['brand', 'JAKINET'],
        ['status', 'Lunas'],
      ] as const) {
        const res = await call(
          'GET',
          `/api/reports/revenue?start_date=2024-01-01&end_date=2030-12-31&group_by=${group_by}`,
        );
        expect(res.statusCode, res.body).toBe(200);
        expect(res.json()).toMatchObject({ group_by, total_pendapatan: 555000, total_invoices: 1, rincian: [{ key }] });
      }
      const bad = await call('GET', '/api/reports/revenue?group_by=year');
      expectExample(bad, 422, VALIDATION, { status: 'error', error_code: 'VALIDATION_ERROR' });
    });

    it('GET /api/reports/customers?segment&status&brand answers', async () => {
      const res = await call('GET', '/api/reports/customers?segment=setia&status=Aktif&brand=JAKINET');
      expect(res.statusCode, res.body).toBe(200);
    });
  });

  describe('Notifications and activity logs', () => {
    it('GET /api/notifications/ lists them; PATCH /api/notifications/{id}/read marks one read', async () => {
      const res = await call('GET', '/api/notifications/');
      expect(res.statusCode, res.body).toBe(200);
      const items = res.json().data as { id: number; type: string }[];
      const n = items.find((x) => x.type === 'new_invoice');
      if (!n) throw new Error(`no new_invoice notification: ${res.body}`);
      const read = await call('PATCH', `/api/notifications/${n.id}/read`);
      expect(read.statusCode, read.body).toBe(200);
      const unknown = await call('PATCH', '/api/notifications/999999/read');
      expectExample(unknown, 404, ERROR, { status: 'error' });
    });

    it('GET /api/activity-logs/?skip&limit&user_id&action&start_date&end_date answers {items, total}', async () => {
      const res = await call('GET', `/api/activity-logs/?skip=0&limit=50&user_id=${account.id}&action=POST`);
      const b = expectExample(res, 200, { items: [{ id: 1, action: '' }], total: 1 });
      expect(b.items.length).toBeGreaterThan(0);
      const dated = await call('GET', '/api/activity-logs/?start_date=2024-01-01&end_date=2030-12-31');
      expect(dated.statusCode, dated.body).toBe(200);
    });
  });

  describe('CSV export and import, delete', () => {
    it('GET /api/pelanggan/export/csv answers the customers as CSV', async () => {
      const res = await call('GET', '/api/pelanggan/export/csv?search=john@example.com&limit=50000');
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['content-type']).toMatch(/text\/csv/);
      expect(res.body).toContain('John Smith');
    });

    it('POST /api/pelanggan/import takes the documented CSV template', async () => {
      const csv = [
        'Nama,No KTP,Email,No Telepon,Layanan,Alamat,Tanggal Instalasi (YYYY-MM-DD),ID Brand',
        'John Doe,1234567890123457,john2@example.com,08123456780,Internet 50Mbps,"Jl. Example No. 123",2024-01-15,JAKINET',
      ].join('\n');
      const body = multipart([
        { name: 'file', filename: 'pelanggan.csv', contentType: 'text/csv', data: Buffer.from(csv) },
      ]);
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/pelanggan/import',
        headers: { ...h, ...body.headers },
        payload: body.payload,
      });
      expect(res.statusCode, res.body).toBeLessThan(300);
      await until(
        async () => (await call('GET', '/api/pelanggan/?search=john2@example.com')).json().total_count === 1,
        { what: 'the imported customer' },
      );
    });

    it('DELETE /api/pelanggan/{id} answers 204 No Content and the customer is gone', async () => {
      const res = await call('DELETE', `/api/pelanggan/${customerId}`);
      expect(res.statusCode).toBe(204);
      expect(res.body).toBe('');
      expectExample(await call('GET', `/api/pelanggan/${customerId}`), 404, ERROR, { status: 'error' });
    });
  });

  it('Rate Limit Response: the sixth sign-in in 5 minutes from one IP answers 429 {detail, retry_after}', async () => {
    const limited = await startSeedApp(['billing'], { config: { rateLimits: true } });
    try {
      const attempt = () =>
        limited.app.inject({
          method: 'POST',
          url: '/api/users/token',
          ...form({ username: 'nobody@example.com', password: 'wrong-password' }),
        }) as Promise<Res>;
      for (let i = 0; i < 5; i++) expect((await attempt()).statusCode).toBe(401);
      const res = await attempt();
      const b = expectExample(
        res,
        429,
        { detail: 'Rate limit exceeded', retry_after: 60 },
        { detail: 'Rate limit exceeded' },
      );
      expect(b.retry_after).toBeGreaterThan(0);
      expect(res.headers['retry-after']).toBe(String(b.retry_after));
    } finally {
      await limited.close();
    }
  }, 90_000);

  it('CONTRACTS §6: every timestamp in the answers above carries its offset (issue 21 finding 13)', () => {
    expect(timestampsWithoutOffset()).toEqual([]);
  });
});
