import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { fakeClock, roomInWindow } from './helpers/clock.ts';
import { REDIS_URL } from './helpers/db.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';
import { bearerSecuritySuite } from './helpers/security.ts';

const clock = fakeClock();
let t: TestApp;
let writer: Record<string, string>;
let reader: Record<string, string>;

beforeAll(async () => {
  t = await startTestApp({ config: { modules: ['staff'] }, overrides: { now: clock.now } });
  writer = bearer((await tokensFor(t.app, await makeAccount(t.app, { staff: 50 }))).access_token);
  reader = bearer((await tokensFor(t.app, await makeAccount(t.app, { staff: 1 }))).access_token);
});
afterAll(async () => t?.close());

const call = (
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  headers: Record<string, string>,
  payload?: object,
) => t.app.inject({ method, url, headers, payload });

async function newJabatan(nama = `Jabatan ${randomBytes(3).toString('hex')}`) {
  const res = await call('POST', '/jabatan/', writer, { nama_jabatan: nama, deskripsi: 'Uji' });
  expect(res.statusCode).toBe(200);
  return res.json() as { id_jabatan: number; nama_jabatan: string; deskripsi: string };
}

describe('jabatan', () => {
  it('create, get, list with skip/limit, update, delete', async () => {
    const j = await newJabatan('Supervisor');
    expect(j).toEqual({ id_jabatan: expect.any(Number), nama_jabatan: 'Supervisor', deskripsi: 'Uji' });
    expect((await call('GET', `/jabatan/${j.id_jabatan}`, reader)).json()).toEqual(j);
    await newJabatan();
    const page = (await call('GET', '/jabatan/?skip=1&limit=1', reader)).json();
    expect(page).toHaveLength(1);
    const upd = await call('PUT', `/jabatan/${j.id_jabatan}`, writer, { deskripsi: 'Baru' });
    expect(upd.json()).toEqual({ ...j, deskripsi: 'Baru' });
    const del = await call('DELETE', `/jabatan/${j.id_jabatan}`, writer);
    expect(del.statusCode).toBe(200);
    expect(del.json().id_jabatan).toBe(j.id_jabatan);
    const gone = await call('GET', `/jabatan/${j.id_jabatan}`, reader);
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toEqual({ detail: 'Jabatan tidak ditemukan' });
  });

  it("refuses limit over 1000 and invalid fields with 422 in FastAPI's shape", async () => {
    const res = await call('GET', '/jabatan/?limit=1001', reader);
    expect(res.statusCode).toBe(422);
    expect(res.json().detail[0]).toMatchObject({ loc: expect.any(Array), msg: expect.any(String) });
    const bad = await call('POST', '/jabatan/', writer, { nama_jabatan: 'x'.repeat(101) });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().detail[0].loc).toEqual(['body', 'nama_jabatan']);
  });

  it('a jabatan still held by a user cannot be deleted (409)', async () => {
    const j = await newJabatan();
    await call('POST', '/users/', writer, { nama: 'Budi', id_jabatan: j.id_jabatan });
    const res = await call('DELETE', `/jabatan/${j.id_jabatan}`, writer);
    expect(res.statusCode).toBe(409);
    expect(typeof res.json().detail).toBe('string');
    expect((await call('GET', `/jabatan/${j.id_jabatan}`, reader)).statusCode).toBe(200);
  });
});

describe('users', () => {
  it('create returns the user with its jabatan nested; get and list show the same', async () => {
    const j = await newJabatan('Kasir');
    const res = await call('POST', '/users/', writer, {
      nama: 'John Doe',
      alamat: 'Jl. Contoh No. 123',
      telepon: '081234567890',
      id_jabatan: j.id_jabatan,
    });
    expect(res.statusCode).toBe(200);
    const user = res.json();
    expect(user).toEqual({
      id_user: expect.any(Number),
      nama: 'John Doe',
      alamat: 'Jl. Contoh No. 123',
      telepon: '081234567890',
      id_jabatan: j.id_jabatan,
      jabatan: j,
    });
    expect((await call('GET', `/users/${user.id_user}`, reader)).json()).toEqual(user);
    const list = (await call('GET', '/users/?limit=1000', reader)).json();
    expect(list).toContainEqual(user);
  });

  it('PUT changes only the fields it is given', async () => {
    const j1 = await newJabatan();
    const j2 = await newJabatan();
    const user = (
      await call('POST', '/users/', writer, {
        nama: 'Siti',
        alamat: 'Lama',
        telepon: '0811111111',
        id_jabatan: j1.id_jabatan,
      })
    ).json();
    const res = await call('PUT', `/users/${user.id_user}`, writer, {
      alamat: 'Jl. Contoh Baru No. 456',
      id_jabatan: j2.id_jabatan,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ...user, alamat: 'Jl. Contoh Baru No. 456', id_jabatan: j2.id_jabatan, jabatan: j2 });
  });

  it('an unknown id_jabatan is 400 "jabatan tidak valid" and creates or changes nothing', async () => {
    const before = (await call('GET', '/users/?limit=1000', reader)).json().length;
    const res = await call('POST', '/users/', writer, { nama: 'Ghost', id_jabatan: 999_999 });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ detail: 'jabatan tidak valid' });
    const j = await newJabatan();
    const user = (await call('POST', '/users/', writer, { nama: 'Real', id_jabatan: j.id_jabatan })).json();
    const put = await call('PUT', `/users/${user.id_user}`, writer, { id_jabatan: 999_999, nama: 'Changed' });
    expect(put.statusCode).toBe(400);
    expect((await call('GET', `/users/${user.id_user}`, reader)).json().nama).toBe('Real');
    expect((await call('GET', '/users/?limit=1000', reader)).json().length).toBe(before + 1);
  });

  it('invalid fields are 422: telepon digits only, bounded lengths, required fields', async () => {
    const j = await newJabatan();
    for (const body of [
      { nama: 'A', telepon: '0812-abc', id_jabatan: j.id_jabatan },
      { nama: 'x'.repeat(256), id_jabatan: j.id_jabatan },
      { id_jabatan: j.id_jabatan },
      { nama: 'A', id_jabatan: 'satu' },
    ]) {
      const res = await call('POST', '/users/', writer, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(422);
      expect(Array.isArray(res.json().detail)).toBe(true);
    }
  });

  it('DELETE returns the deleted user; afterwards it is 404', async () => {
    const j = await newJabatan();
    const user = (await call('POST', '/users/', writer, { nama: 'Hapus', id_jabatan: j.id_jabatan })).json();
    const del = await call('DELETE', `/users/${user.id_user}`, writer);
    expect(del.json()).toEqual(user);
    const gone = await call('GET', `/users/${user.id_user}`, reader);
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toEqual({ detail: 'User tidak ditemukan' });
    expect((await call('DELETE', `/users/${user.id_user}`, writer)).statusCode).toBe(404);
  });

  it('readers cannot write', async () => {
    const res = await call('POST', '/jabatan/', reader, { nama_jabatan: 'Nope' });
    expect(res.statusCode).toBe(403);
    expect(typeof res.json().detail).toBe('string');
  });

  it('writes are in the activity log', async () => {
    const j = await newJabatan('Diaudit');
    const row = await t.app.loket.database.db
      .selectFrom('activity_logs')
      .selectAll()
      .where('action', '=', 'staff.jabatan.created')
      .where('object_id', '=', String(j.id_jabatan))
      .executeTakeFirst();
    expect(row?.account_id).toEqual(expect.any(Number));
  });
});

describe('security suite', () => {
  bearerSecuritySuite(() => t, { method: 'GET', url: '/users/', module: 'staff', minLevel: 1 });
  bearerSecuritySuite(() => t, { method: 'GET', url: '/jabatan/', module: 'staff', minLevel: 1 });
  bearerSecuritySuite(() => t, {
    method: 'POST',
    url: '/jabatan/',
    module: 'staff',
    minLevel: 50,
    payload: { nama_jabatan: 'Sec' },
  });
  bearerSecuritySuite(() => t, { method: 'DELETE', url: '/users/1', module: 'staff', minLevel: 50 });
});

describe("OTP (the document's flow)", () => {
  const gen = (id: number | string) => t.app.inject({ method: 'POST', url: '/otp/generate', payload: { id } });
  const verify = (id: number | string, otp: string) =>
    t.app.inject({ method: 'POST', url: '/otp/verify', payload: { id, otp } });
  const freshId = () => `user-${randomBytes(4).toString('hex')}`;

  it('generate returns {otp} outside production; the right code verifies once', async () => {
    const id = freshId();
    const res = await gen(id);
    expect(res.statusCode).toBe(200);
    const { otp } = res.json();
    expect(otp).toMatch(/^\d{6}$/);
    const ok = await verify(id, otp);
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ message: 'OTP berhasil diverifikasi.' });
    const again = await verify(id, otp);
    expect(again.statusCode).toBe(404);
    expect(again.json()).toEqual({ detail: 'OTP tidak ditemukan atau sudah kedaluwarsa.' });
  });

  it('a numeric id works as well as a string one', async () => {
    const id = Number.parseInt(randomBytes(3).toString('hex'), 16);
    const { otp } = (await gen(id)).json();
    expect((await verify(id, otp)).statusCode).toBe(200);
  });

  it('wrong code is 400 "OTP wrong"; after three wrong tries the 4th is 429 (even right) and the OTP is reset', async () => {
    const id = freshId();
    const { otp } = (await gen(id)).json();
    const wrong = otp === '111111' ? '222222' : '111111';
    for (let i = 0; i < 3; i++) {
      const res = await verify(id, wrong);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ detail: 'OTP wrong' });
    }
    const fourth = await verify(id, otp);
    expect(fourth.statusCode).toBe(429);
    expect(fourth.json()).toEqual({ detail: 'Percobaan verifikasi OTP melebihi batas. OTP telah direset.' });
    expect((await verify(id, otp)).statusCode).toBe(404);
  });

  it('a new code replaces the old one and resets the tries', async () => {
    const id = freshId();
    const first = (await gen(id)).json().otp;
    const wrong = first === '111111' ? '222222' : '111111';
    await verify(id, wrong);
    await verify(id, wrong);
    const second = (await gen(id)).json().otp;
    if (second !== first) expect((await verify(id, first)).statusCode).toBe(400);
    expect((await verify(id, second)).statusCode).toBe(200);
  });

  it('unknown id is 404; concurrent right answers: exactly one succeeds', async () => {
    expect((await verify(freshId(), '123456')).statusCode).toBe(404);
    const id = freshId();
    const { otp } = (await gen(id)).json();
    const codes = await Promise.all(Array.from({ length: 5 }, () => verify(id, otp).then((r) => r.statusCode)));
    expect(codes.filter((c) => c === 200)).toHaveLength(1);
  });

  it('expires after 5 minutes; the stored value is a hash, never the code', async () => {
    const id = freshId();
    const { otp } = (await gen(id)).json();
    if (REDIS_URL) {
      // With Redis the state is where the document says an operator finds it, with its TTL.
      const redis = new Redis(REDIS_URL);
      try {
        const ttl = await redis.ttl(`otp:${id}`);
        expect(ttl).toBeGreaterThan(290);
        expect(ttl).toBeLessThanOrEqual(300);
        const stored = await redis.get(`otp:${id}`);
        expect(stored).toMatch(/^[0-9a-f]{64}$/);
        expect(stored).not.toContain(otp);
        await verify(id, otp === '111111' ? '222222' : '111111');
        expect(await redis.get(`otp:attempts:${id}`)).toBe('1');
        await redis.del(`otp:${id}`); // what the TTL does after 300 s
      } finally {
        redis.disconnect();
      }
    } else {
      const row = await t.app.loket.database.db
        .selectFrom('otp_challenges')
        .selectAll()
        .where('target', '=', id)
        .executeTakeFirstOrThrow();
      expect(row.code_hash).not.toContain(otp);
      clock.advance(301_000);
    }
    expect((await verify(id, otp)).statusCode).toBe(404);
  });

  it('is rate limited per client', async () => {
    await roomInWindow(60_000, 15_000); // the burst must fit in one of the limiter's one-minute windows
    const limited = await startTestApp({ config: { modules: ['staff'], rateLimits: true } });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 11; i++) {
        codes.push(
          (await limited.app.inject({ method: 'POST', url: '/otp/generate', payload: { id: `rl-${i}` } })).statusCode,
        );
      }
      expect(codes.slice(0, 10).every((c) => c === 200)).toBe(true);
      expect(codes[10]).toBe(429);
    } finally {
      await limited.close();
    }
  });

  it("in production the code goes to the staff member's phone and is not returned", async () => {
    const prod = await startTestApp({ config: { modules: ['staff'], env: 'production' } });
    try {
      const w = bearer((await tokensFor(prod.app, await makeAccount(prod.app, { staff: 50 }))).access_token);
      const j = (
        await prod.app.inject({ method: 'POST', url: '/jabatan/', headers: w, payload: { nama_jabatan: 'Kasir' } })
      ).json();
      const u = (
        await prod.app.inject({
          method: 'POST',
          url: '/users/',
          headers: w,
          payload: { nama: 'Ani', telepon: '081299990000', id_jabatan: j.id_jabatan },
        })
      ).json();
      const res = await prod.app.inject({ method: 'POST', url: '/otp/generate', payload: { id: u.id_user } });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ message: 'OTP telah dikirim ke nomor telepon yang terdaftar.' });
      expect(res.body).not.toMatch(/\d{6}/);
      const sms = await prod.app.loket.database.db
        .selectFrom('outbox_messages')
        .selectAll()
        .where('recipient', '=', '081299990000')
        .executeTakeFirstOrThrow();
      expect(sms.channel).toBe('sms');
      const code = /(\d{6})/.exec(sms.body)?.[1] as string;
      expect(
        (await prod.app.inject({ method: 'POST', url: '/otp/verify', payload: { id: u.id_user, otp: code } }))
          .statusCode,
      ).toBe(200);
      // An id that does not exist gets the same answer, and nothing is sent (the endpoint is public: it must not
      // tell which ids are real).
      const sent = await prod.app.loket.database.db
        .selectFrom('outbox_messages')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow();
      const unknown = await prod.app.inject({ method: 'POST', url: '/otp/generate', payload: { id: 999_999 } });
      expect(unknown.statusCode).toBe(200);
      expect(unknown.json()).toEqual({ message: 'OTP telah dikirim ke nomor telepon yang terdaftar.' });
      const after = await prod.app.loket.database.db
        .selectFrom('outbox_messages')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow();
      expect(after.n).toBe(sent.n);
    } finally {
      await prod.close();
    }
  });
});
