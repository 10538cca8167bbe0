// Every example of the PPOB seed document (000_fbccbf84060101a9.txt, "4. Endpoint & Contoh Request") run against a
// fresh Loket, compared by shape and by the values the example fixes (issue 21 item 3).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from './helpers/app.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';
import {
  expectExample,
  otpFromOutbox,
  type Res,
  shapeProblems,
  startSeedApp,
  timestampsWithoutOffset,
} from './helpers/seed-examples.ts';
import { until } from './helpers/until.ts';

let t: TestApp;
let admin: Record<string, string>;
beforeAll(async () => {
  t = await startSeedApp(['ppob'], { config: { ppobSimulatorDelayMs: 100 } });
  admin = bearer((await tokensFor(t.app, await makeAccount(t.app, { ppob: 50 }))).access_token);
});
afterAll(async () => t?.close());

const call = (method: 'GET' | 'POST', url: string, headers: Record<string, string> = {}, payload?: object) =>
  t.app.inject({ method, url, headers, ...(payload && { payload }) }) as Promise<Res>;

// "### 1. Register User": the request and its response.
const REGISTER_RESPONSE = {
  code: 201,
  status: 'success',
  message: 'Registrasi sukses. OTP telah dikirim ke email Anda.',
};
// "### 2. Verifikasi OTP"
const VERIFY_RESPONSE = {
  code: 200,
  status: 'success',
  message: 'Verifikasi berhasil. Simpan baik-baik API Key dan Private Key berikut.',
  data: { api_key: '1234567890', 'privat-key': '1234567890' },
};
// "### 2. Generate ulang API Key/private key"
const GENERATE_KEY_RESPONSE = {
  code: 201,
  status: 'success',
  message: 'API Key dan Private Key telah diperbarui.',
  data: { api_key: '...', private_key: '...', info: 'Yang lama sudah tidak berlaku. Simpan baik-baik!' },
};
// "### 3. List Produk"
const PRODUK_RESPONSE = {
  code: 200,
  status: 'success',
  message: 'Daftar produk',
  data: [{ id: 1, nama: 'Pulsa 10k', harga: 12000, deskripsi: 'Pulsa Reguler 10.000' }],
};
// "### 4. Beli Produk"
const BELI_RESPONSE = {
  code: 200,
  status: 'success',
  message: 'Transaksi berhasil dibuat',
  data: {
    id: 'HIDEBOT993666',
    'kode-produk': 'XCVYT12',
    'nomor-tujuan': '081212xxxx',
    'nama-produk': 'Xtra Combo YouTube 1 Tahun',
    status: 'pending',
    info: 'Proses transaksi sedang berjalan, cek status untuk hasilnya.',
  },
};
// "### 5. Cek Status Transaksi": found and not found.
const STATUS_RESPONSE = {
  code: 200,
  status: 'success',
  message: 'Status transaksi ditemukan',
  data: {
    trx_id: 'HIDEBOT123456',
    produk_id: 2,
    nomor_tujuan: '081212xxxx',
    nominal: 20000,
    status: 'sukses',
    hasil_eksekusi: '...',
    waktu: '2024-06-09T12:34:56',
  },
};
const STATUS_NOT_FOUND = { code: 404, status: 'error', message: 'Transaksi tidak ditemukan', data: null };
// "### 6. Riwayat Transaksi": the document lists no fields; its items are the transactions /status shows.
const RIWAYAT_RESPONSE = { code: 200, status: 'success', message: 'Riwayat transaksi', data: [STATUS_RESPONSE.data] };

const email = `rama-${randomBytes(4).toString('hex')}@email.com`;
let key: Record<string, string>;
let trxId: string;

describe('PPOB seed examples', () => {
  it('the shape comparison fails on a wrong field name and on a wrong type', () => {
    const body = { code: 200, status: 'success', message: 'Daftar produk', data: [{ ...PRODUK_RESPONSE.data[0] }] };
    expect(shapeProblems(body, PRODUK_RESPONSE)).toEqual([]);
    expect(shapeProblems({ ...body, data: [{ ...body.data[0], harga: '12000' }] }, PRODUK_RESPONSE)).toEqual([
      'data[].harga: expected number, got string (#0)',
    ]);
    const { nama: _n, ...renamed } = body.data[0] as Record<string, unknown>;
    expect(shapeProblems({ ...body, data: [{ ...renamed, name: 'Pulsa 10k' }] }, PRODUK_RESPONSE)).toEqual([
      'data[].nama: missing (#0)',
    ]);
    expect(shapeProblems({ waktu: '2024-06-09T12:34:56' }, { waktu: '2024-06-09T12:34:56' })).toHaveLength(1);
  });

  it('POST /register with the documented body answers 201 and the documented message', async () => {
    const res = await call('POST', '/register', {}, { nama: 'Rama', email, hp: '081212345678' });
    expectExample(res, 201, REGISTER_RESPONSE, REGISTER_RESPONSE);
  });

  it('POST /verif-otp answers the keys under api_key and the documented alias privat-key', async () => {
    const otp = await otpFromOutbox(t, email, 'email');
    const body = expectExample(await call('POST', '/verif-otp', {}, { email, otp }), 200, VERIFY_RESPONSE, {
      code: 200,
      status: 'success',
      message: VERIFY_RESPONSE.message,
    });
    // CONTRACTS §4 PPOB: the key pair also under private_key (the /generate-key spelling), the same value.
    expect(body.data.private_key).toBe(body.data['privat-key']);
    key = { 'x-api-key': body.data.api_key };
  });

  it('POST /generate-key with the old x-api-key answers 201 and the new pair; the old key stops working', async () => {
    const body = expectExample(await call('POST', '/generate-key', key), 201, GENERATE_KEY_RESPONSE, {
      ...GENERATE_KEY_RESPONSE,
      data: { info: GENERATE_KEY_RESPONSE.data.info },
    });
    expect((await call('GET', '/produk', key)).statusCode).toBe(401);
    key = { 'x-api-key': body.data.api_key };
  });

  it('GET /produk lists the catalogue as documented (Pulsa 10k at 12000)', async () => {
    const body = expectExample(await call('GET', '/produk', key), 200, PRODUK_RESPONSE, {
      code: 200,
      status: 'success',
      message: 'Daftar produk',
    });
    expect(body.data.length).toBeGreaterThan(0);
    // The demo catalogue carries the document's own example product.
    expect(body.data).toContainEqual(expect.objectContaining({ nama: 'Pulsa 10k', harga: 12000 }));
  });

  it('GET /cek-produk/{kode_produk} answers one product in the list shape', async () => {
    const list = (await call('GET', '/produk', key)).json().data as { id: number; kode_produk: string }[];
    const first = list[0] as { id: number; kode_produk: string };
    const res = await call('GET', `/cek-produk/${first.kode_produk}`, key);
    expectExample(res, 200, { ...PRODUK_RESPONSE, message: '', data: PRODUK_RESPONSE.data[0] }, { code: 200 });
    expect(res.json().data.id).toBe(first.id);
  });

  it('POST /beli with the documented body answers 200, status pending, with the hyphenated names', async () => {
    await call('POST', '/api/admin/ppob/balance-adjustments', admin, { email, amount: 100_000, reason: 'modal' });
    const list = (await call('GET', '/produk', key)).json().data as { kode_produk: string; nama: string }[];
    const p = list[0] as { kode_produk: string; nama: string };
    const res = await call('POST', '/beli', key, { kode_produk: p.kode_produk, nomor_tujuan: '081212345678' });
    const body = expectExample(res, 200, BELI_RESPONSE, {
      code: 200,
      status: 'success',
      message: 'Transaksi berhasil dibuat',
      data: {
        'kode-produk': p.kode_produk,
        'nomor-tujuan': '081212345678',
        'nama-produk': p.nama,
        status: 'pending',
        info: BELI_RESPONSE.data.info,
      },
    });
    trxId = body.data.id;
  });

  it('GET /status/{trx_id} answers the documented fields, and sukses once the provider is done', async () => {
    const done = await until(
      async () => {
        const r = await call('GET', `/status/${trxId}`, key);
        return r.json().data?.status === 'sukses' && r;
      },
      { what: 'the purchase to succeed' },
    );
    // CONTRACTS §6 (timestamps): `waktu` carries its offset, which the document's example lacks.
    expectExample(done, 200, STATUS_RESPONSE, {
      code: 200,
      status: 'success',
      message: 'Status transaksi ditemukan',
      data: { trx_id: trxId, nomor_tujuan: '081212345678', status: 'sukses' },
    });
  });

  it('GET /status/{unknown} answers the documented 404 body', async () => {
    expectExample(await call('GET', '/status/HIDEBOT123456', key), 404, STATUS_NOT_FOUND, STATUS_NOT_FOUND);
  });

  it('GET /riwayat lists the caller’s transactions in the /status shape', async () => {
    const body = expectExample(await call('GET', '/riwayat', key), 200, RIWAYAT_RESPONSE, {
      code: 200,
      status: 'success',
      message: 'Riwayat transaksi',
    });
    expect(body.data.map((x: { trx_id: string }) => x.trx_id)).toEqual([trxId]);
  });

  it('a request without x-api-key is refused in the PPOB envelope', async () => {
    const res = await call('GET', '/produk');
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 401, status: 'error', message: expect.any(String) });
  });

  // Last, over every answer above: the document's `waktu` has no offset; CONTRACTS §6 adds it (issue 21 finding 13).
  it('CONTRACTS §6: every timestamp in the answers above carries its offset (issue 21 finding 13)', () => {
    expect(timestampsWithoutOffset()).toEqual([]);
  });
});
