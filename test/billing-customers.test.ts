// Billing packages and customers, called as the document and the original web frontend call them.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';

let t: TestApp;
let admin: Record<string, string>;
let operator: Record<string, string>;
let viewer: Record<string, string>;
let brandA: string;
let brandB: string;

const code = () => `B${randomBytes(3).toString('hex').toUpperCase()}`;
const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, headers: object, payload?: object) =>
  t.app.inject({ method, url, headers: headers as Record<string, string>, payload });
const rows = async (table: 'billing_customers' | 'billing_packages') =>
  Number(
    (
      await t.app.loket.database.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

async function newPackage(idBrand: string, nama: string, harga = 250_000, kecepatan = 50) {
  const res = await call('POST', '/api/paket_layanan/', admin, {
    id_brand: idBrand,
    nama_paket: nama,
    kecepatan,
    harga,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: number; id_brand: string; nama_paket: string; harga: number };
}

beforeAll(async () => {
  t = await startTestApp({ config: { modules: ['billing'] } });
  admin = bearer((await tokensFor(t.app, await makeAccount(t.app, { billing: 50 }))).access_token);
  operator = bearer((await tokensFor(t.app, await makeAccount(t.app, { billing: 10 }))).access_token);
  viewer = bearer((await tokensFor(t.app, await makeAccount(t.app, { billing: 1 }))).access_token);
  brandA = code();
  brandB = code();
  for (const [id, pajak] of [
    [brandA, 11],
    [brandB, 0],
  ] as const) {
    expect((await call('POST', '/api/brands/', admin, { id_brand: id, brand: `Brand ${id}`, pajak })).statusCode).toBe(
      201,
    );
  }
});
afterAll(async () => t?.close());

describe('billing packages', () => {
  it('fields a package does not declare are ignored, never written (found by the fuzz run: a 500 before)', async () => {
    const res = await call('POST', '/api/paket_layanan/', admin, {
      id_brand: brandA,
      nama_paket: `Paket ${code()}`,
      kecepatan: 20,
      harga: 150_000,
      id: 876_543,
      unexpected: [1, 2],
    });
    expect(res.statusCode, res.body).toBe(201);
    const p = res.json() as { id: number };
    expect(p.id).not.toBe(876_543);
    const patched = await call('PATCH', `/api/paket_layanan/${p.id}`, admin, { harga: 160_000, unexpected: [1, 2] });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ id: p.id, harga: 160_000 });
  });

  it('belong to an existing brand, are unique per brand by name, and cannot be deleted while used', async () => {
    const p = await newPackage(brandA, 'Internet 50Mbps');
    expect(p).toMatchObject({ id_brand: brandA, nama_paket: 'Internet 50Mbps', harga: 250_000, kecepatan: 50 });
    const dup = await call('POST', '/api/paket_layanan/', admin, {
      id_brand: brandA,
      nama_paket: 'internet 50mbps',
      kecepatan: 50,
      harga: 1,
    });
    expect(dup.statusCode).toBe(409);
    await newPackage(brandB, 'Internet 50Mbps', 200_000);
    const unknown = await call('POST', '/api/paket_layanan/', admin, {
      id_brand: 'NOPE',
      nama_paket: 'X',
      kecepatan: 1,
      harga: 1,
    });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().detail.errors).toEqual([{ field: 'id_brand', message: 'brand does not exist' }]);
    const mine = await call('GET', `/api/paket_layanan/?id_brand=${brandA}`, viewer);
    expect(mine.json().every((x: { id_brand: string }) => x.id_brand === brandA)).toBe(true);
    expect(Number(mine.headers['x-total-count'])).toBe(mine.json().length);

    const c = await call('POST', '/api/pelanggan/', operator, { nama: 'Pemakai', paket_layanan_id: p.id });
    expect(c.statusCode).toBe(201);
    const used = await call('DELETE', `/api/paket_layanan/${p.id}`, admin);
    expect(used.statusCode).toBe(409);
    expect(used.json()).toMatchObject({
      status: 'error',
      error_code: 'CONFLICT',
      detail: expect.stringContaining('customers'),
    });
    const brandInUse = await call('DELETE', `/api/brands/${brandA}`, admin);
    expect(brandInUse.statusCode).toBe(409);
    const spare = await newPackage(brandB, 'Spare');
    expect((await call('DELETE', `/api/paket_layanan/${spare.id}`, admin)).statusCode).toBe(204);
    expect((await call('PATCH', `/api/paket_layanan/${p.id}`, operator, { harga: 1 })).statusCode).toBe(403);
  });
});

describe('billing customers', () => {
  it('create with the package named in layanan: brand filled in, phone stored as 08…, both date spellings', async () => {
    await newPackage(brandA, 'Internet 20Mbps', 150_000, 20);
    const res = await call('POST', '/api/pelanggan/', operator, {
      nama: '  John Doe ',
      email: 'john@example.com',
      no_telp: '+62 812-3456-7890',
      no_ktp: '1234567890123456',
      alamat: 'Jl. Example No. 123',
      alamat_2: 'RT 01/RW 02',
      blok: 'A',
      unit: '123',
      tgl_instalasi: '2024-01-15',
      layanan: 'internet 20mbps',
      id_brand: brandA,
    });
    expect(res.statusCode, res.body).toBe(201);
    const c = res.json();
    expect(c).toMatchObject({
      nama: 'John Doe',
      no_telp: '081234567890',
      tanggal_instalasi: '2024-01-15',
      tgl_instalasi: '2024-01-15',
      id_brand: brandA,
      layanan: 'Internet 20Mbps',
      status: 'Aktif',
      harga_layanan: { nama_paket: 'Internet 20Mbps', harga: 150_000, kecepatan: 20, id_brand: brandA, pajak: 11 },
    });
    const got = await call('GET', `/api/pelanggan/${c.id}`, viewer);
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual({ ...c, data_teknis: null });
  });

  it('lists with search, address, brand, fields, selection lists and a clamped limit', async () => {
    const tag = randomBytes(3).toString('hex');
    const made: { id: number; nama: string; email: string }[] = [];
    for (const [i, alamat, brand] of [
      [1, `Jl. Melati ${tag}`, brandA],
      [2, `Jl. Melati ${tag}`, brandB],
      [3, `Jl. Mawar ${tag}`, brandB],
    ] as const) {
      const r = await call('POST', '/api/pelanggan/', operator, {
        nama: `Cari ${tag} ${i}`,
        email: `c${i}.${tag}@example.com`,
        no_telp: `08123${tag.replace(/\D/g, '1').padEnd(6, '1').slice(0, 6)}${i}`,
        alamat,
        id_brand: brand,
      });
      expect(r.statusCode, r.body).toBe(201);
      made.push(r.json());
    }
    const search = (await call('GET', `/api/pelanggan/?search=${tag}`, viewer)).json();
    expect(search).toMatchObject({ total_count: 3, skip: 0, limit: 15 });
    expect(search.data.map((x: { id: number }) => x.id)).toEqual(made.map((m) => m.id));
    const byMail = (await call('GET', `/api/pelanggan/?search=C2.${tag}@EXAMPLE`, viewer)).json();
    expect(byMail.data.map((x: { id: number }) => x.id)).toEqual([made[1]?.id]);
    const melati = (
      await call('GET', `/api/pelanggan/?alamat=${encodeURIComponent(`Jl. Melati ${tag}`)}`, viewer)
    ).json();
    expect(melati.total_count).toBe(2);
    const bBrand = (await call('GET', `/api/pelanggan/?search=${tag}&id_brand=${brandB}`, viewer)).json();
    expect(bBrand.total_count).toBe(2);
    // The total is remembered between pages (a change is counted at once: see the end of this test).
    const second = (await call('GET', `/api/pelanggan/?search=${tag}&skip=2&limit=1`, viewer)).json();
    expect(second).toMatchObject({ total_count: 3, skip: 2, limit: 1 });
    expect(second.data.map((x: { id: number }) => x.id)).toEqual([made[2]?.id]);
    const slim = (await call('GET', `/api/pelanggan/?search=${tag}&fields=nama,email`, viewer)).json();
    expect(slim.data[0]).toEqual({ id: made[0]?.id, nama: made[0]?.nama, email: made[0]?.email });
    const clamped = (await call('GET', '/api/pelanggan/?limit=10000', viewer)).json();
    expect(clamped.limit).toBe(100);
    const choices = (await call('GET', '/api/pelanggan/?for_invoice_selection=true', viewer)).json();
    expect(choices.data.find((x: { id: number }) => x.id === made[2]?.id)).toEqual({
      id: made[2]?.id,
      nama: made[2]?.nama,
    });
    const places = (await call('GET', '/api/pelanggan/lokasi/unik', viewer)).json();
    expect(places).toEqual(expect.arrayContaining([`Jl. Melati ${tag}`, `Jl. Mawar ${tag}`]));
    expect((await call('DELETE', `/api/pelanggan/${made[2]?.id}`, admin)).statusCode).toBe(204);
    expect((await call('GET', `/api/pelanggan/?search=${tag}`, viewer)).json().total_count).toBe(2);
  });

  it('PATCH keeps what is left out, null clears, a package of another brand is refused; DELETE hides but keeps the row', async () => {
    const pa = await newPackage(brandA, `Paket ${code()}`);
    const pb = await newPackage(brandB, `Paket ${code()}`);
    const c = (
      await call('POST', '/api/pelanggan/', operator, { nama: 'Ubah', alamat: 'Jl. Lama', paket_layanan_id: pa.id })
    ).json();
    const patched = await call('PATCH', `/api/pelanggan/${c.id}`, operator, { alamat: null, blok: 'C', id: c.id });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ nama: 'Ubah', alamat: null, blok: 'C', paket_layanan_id: pa.id });
    const wrong = await call('PATCH', `/api/pelanggan/${c.id}`, operator, { paket_layanan_id: pb.id });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.json().detail.errors[0]).toMatchObject({ field: 'paket_layanan_id' });
    const moved = await call('PATCH', `/api/pelanggan/${c.id}`, operator, {
      id_brand: brandB,
      paket_layanan_id: pb.id,
    });
    expect(moved.json()).toMatchObject({ id_brand: brandB, paket_layanan_id: pb.id, harga_layanan: { pajak: 0 } });

    const before = await rows('billing_customers');
    // Deleting is administration (CONTRACTS §4: level 50); an operator creates and changes, and is refused here.
    const refused = await call('DELETE', `/api/pelanggan/${c.id}`, operator);
    expect(refused.statusCode, refused.body).toBe(403);
    expect(typeof refused.json().detail).toBe('string');
    expect((await call('GET', `/api/pelanggan/${c.id}`, viewer)).statusCode).toBe(200);
    const del = await call('DELETE', `/api/pelanggan/${c.id}`, admin);
    expect(del.statusCode).toBe(204);
    expect((await call('GET', `/api/pelanggan/${c.id}`, viewer)).statusCode).toBe(404);
    expect((await call('GET', '/api/pelanggan/?search=Ubah', viewer)).json().data).toEqual([]);
    expect(await rows('billing_customers')).toBe(before);
    expect((await call('DELETE', `/api/pelanggan/${c.id}`, admin)).statusCode).toBe(404);
  });

  it('401 without a token, 403 for a viewer writing, 422 per field; nothing written', async () => {
    const before = await rows('billing_customers');
    expect((await call('GET', '/api/pelanggan/', {})).statusCode).toBe(401);
    expect((await call('POST', '/api/pelanggan/', viewer, { nama: 'X' })).statusCode).toBe(403);
    for (const [body, field] of [
      [{ nama: '   ' }, 'nama'],
      [{ nama: 'X', no_ktp: '123' }, 'no_ktp'],
      [{ nama: 'X', no_telp: '12345' }, 'no_telp'],
      [{ nama: 'X', email: 'not-mail' }, 'email'],
      [{ nama: 'X', id_brand: 'NOPE' }, 'id_brand'],
      [{ nama: 'X', layanan: 'No Such Package' }, 'layanan'],
      [{ nama: 'X', tgl_instalasi: '2024-13-45' }, 'tgl_instalasi'],
    ] as const) {
      const res = await call('POST', '/api/pelanggan/', operator, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(422);
      expect(res.json().detail.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    expect((await call('GET', '/api/pelanggan/999999', viewer)).statusCode).toBe(404);
    expect(await rows('billing_customers')).toBe(before);
  });
});

describe('billing technical data', () => {
  const customer = async (nama: string) =>
    (await call('POST', '/api/pelanggan/', operator, { nama, id_brand: brandA })).json() as { id: number };

  it('one row per customer, both spellings, the password write-only and sealed at rest, the IP unique per router', async () => {
    const c = await customer('Teknis Satu');
    const res = await call('POST', '/api/data_teknis/', operator, {
      pelanggan_id: c.id,
      mikrotik_server_id: 1,
      ip_pelanggan: '10.10.0.2',
      id_vlan: 100,
      password_pppoe: 'rahasia-pppoe-1',
      profile_pppoe: '20Mbps',
      sn: 'ALCL12345678',
      port_odp: 3,
      pon: 7,
      onu_power: -21.5,
    });
    expect(res.statusCode, res.body).toBe(201);
    const t1 = res.json();
    expect(t1).toMatchObject({
      pelanggan_id: c.id,
      id_pelanggan: String(c.id),
      vlan: 100,
      id_vlan: 100,
      sn_ont: 'ALCL12345678',
      sn: 'ALCL12345678',
      port_odp: '3',
      pon: '7',
      onu_power: -21.5,
      password_pppoe: null,
    });
    expect(res.body).not.toContain('rahasia-pppoe-1');
    const stored = await t.app.loket.database.db
      .selectFrom('billing_technical_data')
      .select('password_pppoe_enc')
      .where('id', '=', t1.id)
      .executeTakeFirstOrThrow();
    expect(stored.password_pppoe_enc).toBeTruthy();
    expect(stored.password_pppoe_enc).not.toContain('rahasia');
    const logs = await t.app.loket.database.db
      .selectFrom('activity_logs')
      .select(['before', 'after'])
      .where('action', 'like', 'billing.technical.%')
      .execute();
    expect(JSON.stringify(logs)).not.toContain('rahasia');

    const second = await call('POST', '/api/data_teknis/', operator, { pelanggan_id: c.id });
    expect(second.statusCode).toBe(409);
    const other = await customer('Teknis Dua');
    const sameIp = await call('POST', '/api/data_teknis/', operator, {
      pelanggan_id: other.id,
      mikrotik_server_id: 1,
      ip_pelanggan: '10.10.0.2',
    });
    expect(sameIp.statusCode).toBe(409);
    const otherRouter = await call('POST', '/api/data_teknis/', operator, {
      pelanggan_id: other.id,
      mikrotik_server_id: 2,
      ip_pelanggan: '10.10.0.2',
    });
    expect(otherRouter.statusCode, otherRouter.body).toBe(201);

    const byDoc = await call('GET', `/api/data_teknis/pelanggan/${c.id}`, viewer);
    expect(byDoc.json()).toMatchObject({ id: t1.id, ip_pelanggan: '10.10.0.2' });
    const byFrontend = await call('GET', `/api/data_teknis/by-pelanggan/${c.id}`, viewer);
    expect(byFrontend.json()).toHaveLength(1);
    const detail = await call('GET', `/api/pelanggan/${c.id}`, viewer);
    expect(detail.json().data_teknis).toMatchObject({ ip_pelanggan: '10.10.0.2', vlan: 100, password_pppoe: null });

    const patched = await call('PATCH', `/api/data_teknis/${t1.id}`, operator, { vlan: 200, odc: 4 });
    expect(patched.json()).toMatchObject({ vlan: 200, odc: '4', ip_pelanggan: '10.10.0.2' });
    const list = (await call('GET', '/api/data_teknis/?vlan=200', viewer)).json();
    expect(list.data.map((x: { id: number }) => x.id)).toContain(t1.id);
    expect(list.total_count).toBeGreaterThanOrEqual(1);

    // Operators create and change technical data; deleting it is a billing admin's (level 50).
    const refused = await call('DELETE', `/api/data_teknis/${t1.id}`, operator);
    expect(refused.statusCode, refused.body).toBe(403);
    expect(typeof refused.json().detail).toBe('string');
    expect((await call('GET', `/api/data_teknis/${t1.id}`, viewer)).statusCode).toBe(200);
    expect((await call('DELETE', `/api/data_teknis/${t1.id}`, admin)).statusCode).toBe(204);
    expect((await call('GET', `/api/data_teknis/${t1.id}`, viewer)).statusCode).toBe(404);
  });

  it('vlan 1-4094, a valid IPv4, an existing customer; 403 for a viewer; nothing written', async () => {
    const c = await customer('Teknis Salah');
    const before = Number(
      (
        await t.app.loket.database.db
          .selectFrom('billing_technical_data')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
    for (const [body, field] of [
      [{ pelanggan_id: c.id, vlan: 0 }, 'vlan'],
      [{ pelanggan_id: c.id, vlan: 4095 }, 'vlan'],
      [{ pelanggan_id: c.id, ip_pelanggan: '10.0.0.256' }, 'ip_pelanggan'],
      [{ pelanggan_id: c.id, ip_pelanggan: 'router.local' }, 'ip_pelanggan'],
      [{ pelanggan_id: 999_999 }, 'pelanggan_id'],
    ] as const) {
      const res = await call('POST', '/api/data_teknis/', operator, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(422);
      expect(res.json().detail.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    expect((await call('POST', '/api/data_teknis/', viewer, { pelanggan_id: c.id })).statusCode).toBe(403);
    expect((await call('GET', '/api/data_teknis/pelanggan/999999', viewer)).statusCode).toBe(404);
    const after = Number(
      (
        await t.app.loket.database.db
          .selectFrom('billing_technical_data')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
    expect(after).toBe(before);
  });
});

describe('billing customer search (the narrow search table, migrations/0062)', () => {
  it('follows renames and deletes, matches across case in name, e-mail and phone, and totals past the last page', async () => {
    const tag = randomBytes(3).toString('hex');
    const ids: number[] = [];
    for (let i = 1; i <= 4; i++) {
      const r = await call('POST', '/api/pelanggan/', operator, {
        nama: `Telusur ${tag} ${i}`,
        email: `t${i}.${tag}@Example.com`,
        no_telp: `0857${String(900000 + i)}${tag.replace(/\D/g, '7').slice(0, 2)}`,
      });
      expect(r.statusCode, r.body).toBe(201);
      ids.push(r.json().id);
    }
    const list = async (q: string) => (await call('GET', `/api/pelanggan/?${q}`, viewer)).json();
    expect(await list(`search=TELUSUR%20${tag.toUpperCase()}`)).toMatchObject({ total_count: 4 });
    // A full page is counted; a page past the end still answers the exact total.
    expect(await list(`search=telusur%20${tag}&limit=2`)).toMatchObject({ total_count: 4 });
    const past = await list(`search=telusur%20${tag}&skip=10&limit=2`);
    expect(past).toMatchObject({ total_count: 4, data: [] });
    const renamed = await call('PATCH', `/api/pelanggan/${ids[0]}`, operator, { nama: `Ganti ${tag}` });
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect(await list(`search=telusur%20${tag}`)).toMatchObject({ total_count: 3 });
    expect((await list(`search=ganti%20${tag}`)).data.map((c: { id: number }) => c.id)).toEqual([ids[0]]);
    expect((await list(`search=T2.${tag}@EXAMPLE`)).data.map((c: { id: number }) => c.id)).toEqual([ids[1]]);
    expect((await call('DELETE', `/api/pelanggan/${ids[2]}`, admin)).statusCode).toBe(204);
    expect(await list(`search=telusur%20${tag}`)).toMatchObject({ total_count: 2 });
    // A term with a line feed cannot match across two fields.
    expect(await list(`search=${encodeURIComponent(`ganti ${tag}\nt1.`)}`)).toMatchObject({ total_count: 0 });
  });

  it('finds a phone number written as 08…, 628…, +628…, with spaces or dashes (CONTRACTS §6), after a change too', async () => {
    const digits = () => String(randomBytes(4).readUInt32BE() % 100_000_000).padStart(8, '0');
    const [a, b] = [digits(), digits()];
    const spellings = (d: string) => [
      `0812${d}`,
      `62812${d}`,
      `+62812${d}`,
      `0812-${d.slice(0, 4)}-${d.slice(4)}`,
      `+62 812 ${d.slice(0, 4)} ${d.slice(4)}`,
      `62812${d.slice(0, 4)}\n${d.slice(4)}`, // a line feed is white space in a number
    ];
    const nama = `Nomor ${a.replace(/\d/g, (d) => 'abcdefghij'.charAt(Number(d)))}`; // no digits: only the phone has them
    const made = await call('POST', '/api/pelanggan/', operator, { nama, no_telp: `+62 812-${a}` });
    expect(made.statusCode, made.body).toBe(201);
    const { id } = made.json();
    expect(made.json().no_telp).toBe(`0812${a}`);
    const found = async (term: string) => {
      const res = await call('GET', `/api/pelanggan/?search=${encodeURIComponent(term)}`, viewer);
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json();
      return { ids: page.data.map((c: { id: number }) => c.id), total: page.total_count };
    };
    for (const term of spellings(a)) expect(await found(term), term).toEqual({ ids: [id], total: 1 });
    // Part of a number, the name and the e-mail are searched as before.
    expect((await found(a.slice(2))).ids).toContain(id);
    expect(await found(nama.toLowerCase())).toEqual({ ids: [id], total: 1 });
    // Each spelling was answered (and cached) under the list's version; a new number shows under every one.
    const changed = await call('PATCH', `/api/pelanggan/${id}`, operator, { no_telp: `0812-${b}` });
    expect(changed.statusCode, changed.body).toBe(200);
    for (const term of spellings(a)) expect(await found(term), term).toEqual({ ids: [], total: 0 });
    for (const term of spellings(b)) expect(await found(term), term).toEqual({ ids: [id], total: 1 });
    // The export reads the same search.
    const csv = await call('GET', `/api/pelanggan/export/csv?search=${encodeURIComponent(`+62812${b}`)}`, operator);
    expect(csv.headers['x-total-count']).toBe('1');
  });
});
