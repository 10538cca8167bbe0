// Every example of the staff seed document (002_0a5280442d89656f.txt: "Penggunaan API dengan Postman", the OTP
// section and its Postman steps, the tables of "Catatan") run against a fresh Loket, compared by shape and by the
// values the example fixes (issue 21 item 3).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from './helpers/app.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';
import { expectExample, expectShape, type Res, startSeedApp } from './helpers/seed-examples.ts';

let t: TestApp;
let writer: Record<string, string>;
beforeAll(async () => {
  t = await startSeedApp(['staff']);
  // CONTRACTS §4 Staff: reads need staff level ≥ 1, writes ≥ 50 (the original had no authentication).
  writer = bearer((await tokensFor(t.app, await makeAccount(t.app, { staff: 50 }))).access_token);
});
afterAll(async () => t?.close());

const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object, auth = true) =>
  t.app.inject({ method, url, headers: auth ? writer : {}, ...(payload && { payload }) }) as Promise<Res>;

// The tables in "Catatan" (CREATE TABLE jabatan / "user"): the rows the API answers with.
const JABATAN = { id_jabatan: 1, nama_jabatan: 'Manager', deskripsi: 'Deskripsi' };
const USER = { id_user: 1, nama: 'John Doe', alamat: 'Jl. Contoh No. 123', telepon: '081234567890', id_jabatan: 1 };

let jabatan: number[];
let userId: number;

describe('staff seed examples', () => {
  it('1. GET /jabatan/ lists positions as jabatan rows', async () => {
    const res = await call('GET', '/jabatan/');
    expect(res.statusCode, res.body).toBe(200);
    const rows = res.json() as { id_jabatan: number }[];
    expectShape(rows, [JABATAN]);
    jabatan = rows.map((j) => j.id_jabatan);
    // The document's user examples use positions 1 and 2: a fresh start has them.
    expect(jabatan).toEqual(expect.arrayContaining([1, 2]));
    const page = (await call('GET', '/jabatan/?skip=1&limit=1')).json();
    expect(page).toEqual([rows[1]]);
  });

  it('2. GET /jabatan/1 answers that position', async () => {
    expectExample(await call('GET', '/jabatan/1'), 200, JABATAN, { id_jabatan: 1 });
  });

  it('3. POST /users/ with the documented body creates the user', async () => {
    const body = { nama: 'John Doe', alamat: 'Jl. Contoh No. 123', telepon: '081234567890', id_jabatan: 1 };
    const user = expectExample(await call('POST', '/users/', body), 200, USER, body);
    userId = user.id_user;
  });

  it('4. GET /users/ lists users as user rows', async () => {
    const res = await call('GET', '/users/');
    expect(res.statusCode, res.body).toBe(200);
    expectShape(res.json(), [USER]);
    expect(res.json()).toContainEqual(expect.objectContaining({ id_user: userId, nama: 'John Doe' }));
  });

  it('5. GET /users/{id} answers the user', async () => {
    expectExample(await call('GET', `/users/${userId}`), 200, USER, { ...USER, id_user: userId });
  });

  it('6. PUT /users/{id} with the documented partial body changes only the fields it carries', async () => {
    const body = { alamat: 'Jl. Contoh Baru No. 456', telepon: '089876543210', id_jabatan: 2 };
    expectExample(await call('PUT', `/users/${userId}`, body), 200, USER, { ...body, nama: 'John Doe' });
    expect((await call('GET', `/users/${userId}`)).json()).toMatchObject({ ...body, nama: 'John Doe' });
  });

  it('7. DELETE /users/{id} removes the user', async () => {
    const res = await call('DELETE', `/users/${userId}`);
    expect(res.statusCode, res.body).toBe(200);
    const gone = await call('GET', `/users/${userId}`);
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toEqual({ detail: expect.any(String) });
  });

  describe('OTP (3.1, 3.2 and "Cara Mengetes Endpoint OTP di Postman")', () => {
    const generate = (id: unknown) => call('POST', '/otp/generate', { id }, false);
    const verify = (id: unknown, otp: string) => call('POST', '/otp/verify', { id, otp }, false);

    // CONTRACTS §4 Staff: `id` may be a number or a string; the document shows both.
    for (const id of ['user123', 123]) {
      it(`generate {"id": ${JSON.stringify(id)}} answers {"otp"} (6 digits, 100000–999999); verify answers the message`, async () => {
        const gen = expectExample(await generate(id), 200, { otp: '123456' });
        expect(Object.keys(gen)).toEqual(['otp']);
        expect(gen.otp).toMatch(/^[1-9]\d{5}$/);
        const ok = await verify(id, gen.otp);
        expectExample(ok, 200, { message: '' }, { message: 'OTP berhasil diverifikasi.' });
        // The key is gone after a successful verification: the same code again is the document's 404.
        const again = await verify(id, gen.otp);
        expectExample(again, 404, { detail: '' }, { detail: 'OTP tidak ditemukan atau sudah kedaluwarsa.' });
      });
    }

    it('a wrong code ("wrongotp") answers 400 {"detail": "OTP wrong"}; after 3 wrong tries the next answers 429', async () => {
      const gen = (await generate('user123')).json();
      for (let i = 0; i < 3; i++) {
        expectExample(await verify('user123', 'wrongotp'), 400, { detail: '' }, { detail: 'OTP wrong' });
      }
      const blocked = await verify('user123', 'anyotp');
      expectExample(
        blocked,
        429,
        { detail: '' },
        { detail: 'Percobaan verifikasi OTP melebihi batas. OTP telah direset.' },
      );
      // "OTP telah direset": the right code no longer works either.
      expect((await verify('user123', gen.otp)).statusCode).toBe(404);
    });
  });
});
