// Drop-in compatibility of the PPOB and staff modules (issue 21, items 12 and 14–21; CONTRACTS §6): what a
// client written from the seed documents, or against the FastAPI originals, sends must work unchanged.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';

let t: TestApp;
let admin: Record<string, string>;
let writer: Record<string, string>;
beforeAll(async () => {
  t = await startTestApp({ config: { modules: ['ppob', 'staff'], ppobSimulatorDelayMs: 100, demo: true } });
  admin = bearer((await tokensFor(t.app, await makeAccount(t.app, { ppob: 50 }))).access_token);
  writer = bearer((await tokensFor(t.app, await makeAccount(t.app, { staff: 50 }))).access_token);
});
afterAll(async () => t?.close());

const newEmail = () => `compat-${randomBytes(4).toString('hex')}@example.com`;
const registerAs = (payload: Record<string, unknown>) => t.app.inject({ method: 'POST', url: '/register', payload });

async function otpFor(email: string): Promise<string> {
  const box = (await t.app.inject({ method: 'GET', url: `/_dev/outbox?to=${encodeURIComponent(email)}` })).json();
  return /(\d{6})/.exec(box.messages[0].body)?.[1] as string; // the newest first
}

async function verified(email: string): Promise<Record<string, string>> {
  const ver = await t.app.inject({ method: 'POST', url: '/verif-otp', payload: { email, otp: await otpFor(email) } });
  expect(ver.statusCode, ver.body).toBe(200);
  return { 'x-api-key': ver.json().data.api_key };
}

async function reseller(hp: unknown = '081212345678') {
  const email = newEmail();
  const reg = await registerAs({ nama: 'Rama', email, hp });
  expect(reg.statusCode, reg.body).toBe(201);
  return { email, h: await verified(email) };
}

const saldoOf = async (h: Record<string, string>) =>
  (await t.app.inject({ method: 'GET', url: '/saldo', headers: h })).json().data;

describe('PPOB', () => {
  it('12: /generate-key with content-type application/json and no body rotates the keys', async () => {
    const r = await reseller();
    const res = await t.app.inject({
      method: 'POST',
      url: '/generate-key',
      headers: { ...r.h, 'content-type': 'application/json' },
    });
    expect(res.statusCode, res.body).toBe(201);
    const fresh = { 'x-api-key': res.json().data.api_key };
    expect((await t.app.inject({ method: 'GET', url: '/saldo', headers: fresh })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/saldo', headers: r.h })).statusCode).toBe(401);
  });

  it('14: /cek-produk takes the numeric id /produk returns as well as the product code', async () => {
    const r = await reseller();
    const list = (await t.app.inject({ method: 'GET', url: '/produk', headers: r.h })).json().data as {
      id: number;
      kode_produk: string;
    }[];
    const pls10 = list.find((p) => p.kode_produk === 'PLS10');
    if (!pls10) throw new Error('demo catalogue has no PLS10');
    const byId = await t.app.inject({ method: 'GET', url: `/cek-produk/${pls10.id}`, headers: r.h });
    expect(byId.statusCode, byId.body).toBe(200);
    const byCode = await t.app.inject({ method: 'GET', url: '/cek-produk/PLS10', headers: r.h });
    expect(byId.json().data).toEqual(byCode.json().data);
    expect(byId.json().data).toMatchObject({ id: pls10.id, kode_produk: 'PLS10', harga: 12_000 });
    const none = await t.app.inject({ method: 'GET', url: '/cek-produk/999999', headers: r.h });
    expect(none.statusCode).toBe(404);
    expect(none.json().message).toBe('Produk tidak ditemukan');
  });

  it('15: hp as +62 with spaces and dashes is stored as 08…; hp null is accepted; a bad hp gets one message', async () => {
    const a = await reseller('+62 812-3456-7890');
    expect((await saldoOf(a.h)).hp).toBe('081234567890');
    const b = await reseller('6281234567891');
    expect((await saldoOf(b.h)).hp).toBe('081234567891');
    const c = await reseller(null);
    expect((await saldoOf(c.h)).hp).toBeNull();

    const email = newEmail();
    const bad = await registerAs({ nama: 'Rama', email, hp: '+62 12-ab' });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().data.errors).toHaveLength(1);
    const alsoBad = await registerAs({ nama: 'Rama', email, hp: '0712345678' });
    expect(alsoBad.statusCode).toBe(422);
    expect(alsoBad.json().data.errors).toHaveLength(1);
    const box = (await t.app.inject({ method: 'GET', url: `/_dev/outbox?to=${encodeURIComponent(email)}` })).json();
    expect(box.messages).toHaveLength(0);
  });

  it('15: nomor_tujuan written as +62 with dashes buys for 08…; an unreadable one is refused and costs nothing', async () => {
    const r = await reseller();
    const fund = await t.app.inject({
      method: 'POST',
      url: '/api/admin/ppob/balance-adjustments',
      headers: admin,
      payload: { email: r.email, amount: 20_000, reason: 'modal awal' },
    });
    expect(fund.statusCode, fund.body).toBe(201);
    const buy = await t.app.inject({
      method: 'POST',
      url: '/beli',
      headers: r.h,
      payload: { kode_produk: 'PLS10', nomor_tujuan: '+62 812-1234-5678' },
    });
    expect(buy.statusCode, buy.body).toBe(200);
    expect(buy.json().data['nomor-tujuan']).toBe('081212345678');
    const status = (await t.app.inject({ method: 'GET', url: `/status/${buy.json().data.id}`, headers: r.h })).json()
      .data;
    expect(status.nomor_tujuan).toBe('081212345678');
    expect((await saldoOf(r.h)).saldo).toBe(8_000); // 20 000 − 12 000

    const bad = await t.app.inject({
      method: 'POST',
      url: '/beli',
      headers: r.h,
      payload: { kode_produk: 'PLS10', nomor_tujuan: '+1 555-0100' },
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().data.errors).toHaveLength(1);
    // a meter number (plain digits) is taken as it is written
    const meter = await t.app.inject({
      method: 'POST',
      url: '/beli',
      headers: r.h,
      payload: { kode_produk: 'PLS5', nomor_tujuan: '14012345678' },
    });
    expect(meter.json().data['nomor-tujuan']).toBe('14012345678');
    expect((await saldoOf(r.h)).saldo).toBe(1_500); // 8 000 − 6 500
  });

  it('16: nulls in the catalogue stay null in /produk and /cek-produk', async () => {
    const kode = `NUL${randomBytes(2).toString('hex')}`.toUpperCase();
    const made = await t.app.inject({
      method: 'POST',
      url: '/api/admin/ppob/products',
      headers: admin,
      payload: { kode_produk: kode, nama: 'Tanpa deskripsi', harga: 1_000, deskripsi: null, plp: null },
    });
    expect(made.statusCode, made.body).toBe(201);
    const r = await reseller();
    const list = (await t.app.inject({ method: 'GET', url: '/produk', headers: r.h })).json().data;
    const listed = list.find((p: { kode_produk: string }) => p.kode_produk === kode);
    expect(listed).toMatchObject({ deskripsi: null, plp: null, plp_nomor: null });
    const one = (await t.app.inject({ method: 'GET', url: `/cek-produk/${kode}`, headers: r.h })).json().data;
    expect(one).toMatchObject({ deskripsi: null, plp: null, plp_nomor: null });
  });

  it('16: a blank nama is a 422 and sends nothing', async () => {
    const email = newEmail();
    const res = await registerAs({ nama: '   ', email, hp: '081212345678' });
    expect(res.statusCode).toBe(422);
    expect(res.json().data.errors).toEqual([{ field: 'nama', message: 'tidak boleh kosong' }]);
    const box = (await t.app.inject({ method: 'GET', url: `/_dev/outbox?to=${encodeURIComponent(email)}` })).json();
    expect(box.messages).toHaveLength(0);
  });

  it('16: re-registering an unverified email replaces name and hp together', async () => {
    const email = newEmail();
    expect((await registerAs({ nama: 'Nama Lama', email, hp: '081100000001' })).statusCode).toBe(201);
    expect((await registerAs({ nama: '  Nama Baru ', email, hp: '+62 811-0000-0002' })).statusCode).toBe(201);
    const h = await verified(email);
    expect(await saldoOf(h)).toMatchObject({ nama: 'Nama Baru', hp: '081100000002' });

    const other = newEmail();
    expect((await registerAs({ nama: 'Pertama', email: other, hp: '081100000003' })).statusCode).toBe(201);
    expect((await registerAs({ nama: 'Kedua', email: other })).statusCode).toBe(201);
    expect(await saldoOf(await verified(other))).toMatchObject({ nama: 'Kedua', hp: null });
  });
});

const staffCall = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
  t.app.inject({ method, url, headers: writer, payload });

async function staffMember(extra: Record<string, unknown> = {}) {
  const j = await staffCall('POST', '/jabatan/', { nama_jabatan: `Kasir ${randomBytes(2).toString('hex')}` });
  expect(j.statusCode, j.body).toBe(200);
  const u = await staffCall('POST', '/users/', {
    nama: 'John Doe',
    alamat: 'Jl. Contoh No. 123',
    telepon: '081234567890',
    id_jabatan: j.json().id_jabatan,
    ...extra,
  });
  expect(u.statusCode, u.body).toBe(200);
  return u.json() as { id_user: number; id_jabatan: number; jabatan: { id_jabatan: number } };
}

describe('staff', () => {
  it('17: PUT /users/{id} with the body a GET returned works; unknown fields are ignored, never stored', async () => {
    const u = await staffMember();
    const got = (await staffCall('GET', `/users/${u.id_user}`)).json();
    const put = await staffCall('PUT', `/users/${u.id_user}`, { ...got, nama: 'Jane Doe', warna: 'biru' });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toEqual({ ...got, nama: 'Jane Doe' });
    expect((await staffCall('GET', `/users/${u.id_user}`)).json()).toEqual({ ...got, nama: 'Jane Doe' });
    // a nested position sent back does not change the position
    const renamed = await staffCall('PUT', `/users/${u.id_user}`, {
      ...got,
      jabatan: { ...got.jabatan, nama_jabatan: 'Direktur' },
    });
    expect(renamed.json().jabatan).toEqual(got.jabatan);
    const j = (await staffCall('GET', `/jabatan/${u.id_jabatan}`)).json();
    const putJ = await staffCall('PUT', `/jabatan/${u.id_jabatan}`, { ...j, dibuat: 'kemarin' });
    expect(putJ.statusCode, putJ.body).toBe(200);
    expect(putJ.json()).toEqual(j);
  });

  it('18: alamat and deskripsi are cleared with null and read back null', async () => {
    const u = await staffMember();
    const put = await staffCall('PUT', `/users/${u.id_user}`, { alamat: null });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json().alamat).toBeNull();
    expect((await staffCall('GET', `/users/${u.id_user}`)).json().alamat).toBeNull();
    const j = await staffCall('POST', '/jabatan/', { nama_jabatan: 'Gudang', deskripsi: 'Stok' });
    const cleared = await staffCall('PUT', `/jabatan/${j.json().id_jabatan}`, { deskripsi: null });
    expect(cleared.json().deskripsi).toBeNull();
    expect((await staffCall('GET', `/jabatan/${j.json().id_jabatan}`)).json().deskripsi).toBeNull();
    const made = await staffCall('POST', '/jabatan/', { nama_jabatan: 'Arsip', deskripsi: null });
    expect(made.json().deskripsi).toBeNull();
  });

  it('19: telepon with +62, spaces or dashes is stored as 08…; an invalid one gets one message', async () => {
    const u = await staffMember({ telepon: '+62 812-3456-7890' });
    expect((await staffCall('GET', `/users/${u.id_user}`)).json().telepon).toBe('081234567890');
    const put = await staffCall('PUT', `/users/${u.id_user}`, { telepon: '62-812-9999-0000' });
    expect(put.json().telepon).toBe('081299990000');
    const cleared = await staffCall('PUT', `/users/${u.id_user}`, { telepon: null });
    expect(cleared.json().telepon).toBeNull();

    for (const telepon of ['+62 12-ab', '12345', '0712345678']) {
      const bad = await staffCall('PUT', `/users/${u.id_user}`, { telepon });
      expect(bad.statusCode, telepon).toBe(422);
      expect(bad.json().detail, telepon).toHaveLength(1);
      expect(bad.json().detail[0].loc).toEqual(['body', 'telepon']);
    }
    expect((await staffCall('GET', `/users/${u.id_user}`)).json().telepon).toBeNull();
  });

  it('20: blank names are a 422 and nothing is stored', async () => {
    const u = await staffMember();
    const before = (await staffCall('GET', `/users/${u.id_user}`)).json();
    const put = await staffCall('PUT', `/users/${u.id_user}`, { nama: '   ' });
    expect(put.statusCode).toBe(422);
    expect(put.json().detail).toEqual([{ loc: ['body', 'nama'], msg: 'tidak boleh kosong', type: 'value_error' }]);
    expect((await staffCall('GET', `/users/${u.id_user}`)).json()).toEqual(before);
    const post = await staffCall('POST', '/users/', { nama: ' \t ', id_jabatan: u.id_jabatan });
    expect(post.statusCode).toBe(422);
    const j = await staffCall('POST', '/jabatan/', { nama_jabatan: '  ' });
    expect(j.statusCode).toBe(422);
    const jPut = await staffCall('PUT', `/jabatan/${u.id_jabatan}`, { nama_jabatan: '   ' });
    expect(jPut.statusCode).toBe(422);
    const list = (await staffCall('GET', '/users/?limit=1000')).json() as { nama: string }[];
    expect(list.every((m) => m.nama.trim() !== '')).toBe(true);
  });

  it('21: OTP codes are six digits from 100000 to 999999', async () => {
    const codes: string[] = [];
    for (let i = 0; i < 60; i++) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/otp/generate',
        remoteAddress: `10.21.${Math.floor(i / 10)}.1`,
        payload: { id: `otp-range-${i}` },
      });
      expect(res.statusCode, res.body).toBe(200);
      codes.push(res.json().otp);
    }
    for (const code of codes) {
      expect(code).toMatch(/^[1-9]\d{5}$/);
    }
  });
});
