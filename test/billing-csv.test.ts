// Billing customers as CSV, called as an operator's spreadsheet round trip would: the template, the export with
// the list's filters, the import with its dry run, per-row errors, skip_invalid and re-import without duplicates,
// the original's extra columns (Alamat 2, Blok, Unit) and an export carried to another Loket.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeRouterConnections } from '../src/modules/billing/providers/routeros/index.ts';
import { startFakeRouter } from './fakes/routeros.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { roomInWindow } from './helpers/clock.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';
import { multipart } from './helpers/photobox.ts';
import { until } from './helpers/until.ts';

let t: TestApp;
let admin: Record<string, string>;
let operator: Record<string, string>;
let viewer: Record<string, string>;
let brandA: string;
let brandB: string;

const HEADER = 'Nama,No KTP,Email,No Telepon,Layanan,Alamat,Tanggal Instalasi (YYYY-MM-DD),ID Brand';
/** The original system's files (and the export): the document's eight, then three more. */
const ORIGINAL_HEADER = `${HEADER},Alamat 2,Blok,Unit`;
const code = () => `C${randomBytes(3).toString('hex').toUpperCase()}`;
const count = async (table: 'billing_customers' | 'activity_logs') =>
  Number(
    (
      await t.app.loket.database.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );
const get = (url: string, headers: Record<string, string>) => t.app.inject({ method: 'GET', url, headers });
const upload = (csv: string | Buffer, headers: Record<string, string>, query = '', app = t) => {
  const form = multipart([
    { name: 'file', filename: 'pelanggan.csv', contentType: 'text/csv', data: Buffer.from(csv) },
  ]);
  return app.app.inject({
    method: 'POST',
    url: `/api/pelanggan/import${query}`,
    headers: { ...headers, ...form.headers },
    payload: form.payload,
  });
};
/** The records of a CSV answer, without the BOM. */
const lines = (body: string) =>
  body
    .replace(/^\uFEFF/, '')
    .split('\r\n')
    .filter(Boolean);

beforeAll(async () => {
  t = await startTestApp({ config: { modules: ['billing'] } });
  admin = bearer((await tokensFor(t.app, await makeAccount(t.app, { billing: 50 }))).access_token);
  operator = bearer((await tokensFor(t.app, await makeAccount(t.app, { billing: 10 }))).access_token);
  viewer = bearer((await tokensFor(t.app, await makeAccount(t.app, { billing: 1 }))).access_token);
  brandA = code();
  brandB = code();
  for (const id of [brandA, brandB]) {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/brands/',
      headers: admin,
      payload: { id_brand: id, brand: id },
    });
    expect(res.statusCode).toBe(201);
  }
  for (const [id_brand, nama_paket, harga] of [
    [brandA, 'Internet 50Mbps', 250_000],
    [brandB, 'Internet 50Mbps', 200_000],
    [brandB, 'Internet 100Mbps', 400_000],
  ] as const) {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/paket_layanan/',
      headers: admin,
      payload: { id_brand, nama_paket, harga, kecepatan: 50 },
    });
    expect(res.statusCode).toBe(201);
  }
});
afterAll(async () => t?.close());

describe('billing CSV template', () => {
  it("is the document's header and example row, UTF-8 with BOM, for any billing user", async () => {
    const res = await get('/api/pelanggan/template/csv', viewer);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toContain('attachment; filename=');
    expect(res.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(lines(res.body)).toEqual([
      HEADER,
      'John Doe,1234567890123456,john@example.com,08123456789,Internet 50Mbps,Jl. Example No. 123,2024-01-15,JAKINET',
    ]);
    expect((await get('/api/pelanggan/template/csv', {})).statusCode).toBe(401);
  });
});

describe('billing CSV import', () => {
  it('dry run checks the file and writes nothing; the import creates; importing again creates nobody twice', async () => {
    const csv = [
      HEADER,
      `Ani Lestari,3201010101010001,ani@example.com,0812-1111-0001,Internet 50Mbps,"Jl. Kenanga No. 1, Bogor",2025-01-15,${brandA}`,
      `Bayu Putra,,,+62 812 1111 0002,internet 100mbps,Jl. Kenanga No. 2,,${brandB}`,
      `Citra Dewi,,,,,Jl. Kenanga No. 3,,`,
    ].join('\r\n');
    const before = await count('billing_customers');
    const logsBefore = await count('activity_logs');
    const dry = await upload(csv, admin, '?dry_run=true');
    expect(dry.statusCode, dry.body).toBe(200);
    expect(dry.json()).toMatchObject({ dry_run: true, total_rows: 3, created: 3, skipped: 0, invalid: 0, errors: [] });
    expect(await count('billing_customers')).toBe(before);
    expect(await count('activity_logs')).toBe(logsBefore);

    const first = await upload(csv, admin);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ dry_run: false, total_rows: 3, created: 3, skipped: 0, ignored_columns: [] });
    expect(await count('billing_customers')).toBe(before + 3);
    const list = await get('/api/pelanggan/?limit=100', viewer);
    const byName = Object.fromEntries(list.json().data.map((c: { nama: string }) => [c.nama, c]));
    expect(byName['Ani Lestari']).toMatchObject({
      no_ktp: '3201010101010001',
      no_telp: '081211110001',
      alamat: 'Jl. Kenanga No. 1, Bogor',
      tanggal_instalasi: '2025-01-15',
      id_brand: brandA,
      layanan: 'Internet 50Mbps',
      status: 'Aktif',
      alamat_2: null,
      blok: null,
      unit: null,
    });
    // The package by name within the row's brand (case does not matter).
    expect(byName['Bayu Putra']).toMatchObject({
      no_telp: '081211110002',
      id_brand: brandB,
      layanan: 'Internet 100Mbps',
    });
    expect(byName['Citra Dewi']).toMatchObject({ email: null, id_brand: null, layanan: null });

    const again = await upload(csv, admin);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ created: 0, skipped: 3 });
    expect(again.json().skipped_rows.map((s: { row: number }) => s.row)).toEqual([2, 3, 4]);
    expect(await count('billing_customers')).toBe(before + 3);

    const audit = await t.app.loket.database.db
      .selectFrom('activity_logs')
      .select(['action', 'after'])
      .where('action', '=', 'billing.customer.imported')
      .execute();
    expect(audit).toHaveLength(2);
    expect(audit.map((a) => (a.after as { created: number }).created).sort()).toEqual([0, 3]);
  });

  it('reports every bad row as {row, field, message} and writes nothing; skip_invalid imports the good ones', async () => {
    const tag = randomBytes(3).toString('hex');
    const csv = [
      'Nama;Email;No Telepon;Layanan;ID Brand;Tanggal Instalasi (YYYY-MM-DD);Catatan',
      `Good One;good1-${tag}@example.com;;;;2025-02-01;first`,
      `;nobody-${tag}@example.com;;;;;`,
      `Bad Mail;not-an-email;12345;;;;`,
      `Bad Package;bp-${tag}@example.com;;Internet 999Mbps;${brandA};;`,
      `Bad Brand;bb-${tag}@example.com;;;NOPE${tag};2025-13-40;`,
      ``,
      `Good Two;good2-${tag}@example.com;;Internet 50Mbps;${brandA};;`,
      `Good Two Again;GOOD2-${tag}@example.com;;;;;`,
    ].join('\n');
    const before = await count('billing_customers');
    const bad = await upload(csv, admin);
    expect(bad.statusCode).toBe(422);
    expect(bad.json()).toEqual({
      detail: {
        message: 'Validation failed',
        errors: [
          { row: 3, field: 'Nama', message: 'is required' },
          { row: 4, field: 'Email', message: 'must match format "email"' },
          { row: 4, field: 'No Telepon', message: expect.any(String) },
          { row: 5, field: 'Layanan', message: 'no package with this name' },
          { row: 6, field: 'Tanggal Instalasi (YYYY-MM-DD)', message: 'must match format "date"' },
          { row: 6, field: 'ID Brand', message: 'brand does not exist' },
        ],
      },
      status: 'error',
      error_code: 'VALIDATION_ERROR',
    });
    expect(await count('billing_customers')).toBe(before);
    // The dry run of a bad file says the same.
    expect((await upload(csv, admin, '?dry_run=true')).json().detail.errors).toHaveLength(6);

    const partial = await upload(csv, admin, '?skip_invalid=true');
    expect(partial.statusCode, partial.body).toBe(200);
    expect(partial.json()).toMatchObject({
      total_rows: 7,
      created: 2,
      skipped: 1,
      invalid: 4,
      skipped_rows: [{ row: 9, pelanggan_id: null, reason: 'same customer as row 8' }],
      ignored_columns: ['Catatan'],
    });
    expect(partial.json().errors).toHaveLength(6);
    expect(await count('billing_customers')).toBe(before + 2);
  });

  it('an unclosed quote is reported at its row; an unknown brand names its column', async () => {
    const csv = `${HEADER}\nX,,,,,,,NOPE\n"Open quote,,,,,,,`;
    const res = await upload(csv, admin);
    expect(res.statusCode).toBe(422);
    expect(res.json().detail.errors).toEqual([{ row: 3, field: 'file', message: 'a quoted cell is never closed' }]);
    const brand = await upload(`${HEADER}\nX,,,,,,,NOPE`, admin);
    expect(brand.json().detail.errors).toEqual([{ row: 2, field: 'ID Brand', message: 'brand does not exist' }]);
  });

  it('refuses what is not an import: no file, no header, no rows, not UTF-8, not multipart', async () => {
    const before = await count('billing_customers');
    const noName = await upload('Email,Alamat\na@b.co,x', admin);
    expect(noName.statusCode).toBe(422);
    expect(noName.json().detail.errors).toEqual([{ row: 1, field: 'Nama', message: 'the header has no Nama column' }]);
    const empty = await upload(`${HEADER}\r\n\r\n`, admin);
    expect(empty.statusCode).toBe(422);
    expect(empty.json().detail.errors).toEqual([{ field: 'file', message: 'has no customer rows under its header' }]);
    const latin1 = await upload(Buffer.from(`${HEADER}\nJos\xe9,,,,,,,\n`, 'latin1'), admin);
    expect(latin1.statusCode).toBe(422);
    expect(latin1.json().detail.errors[0].message).toContain('UTF-8');
    const form = multipart([{ name: 'other', value: 'x' }]);
    const noFile = await t.app.inject({
      method: 'POST',
      url: '/api/pelanggan/import',
      headers: { ...admin, ...form.headers },
      payload: form.payload,
    });
    expect(noFile.statusCode).toBe(422);
    expect(noFile.json().detail.errors).toEqual([{ field: 'file', message: 'is required (a CSV file)' }]);
    const json = await t.app.inject({ method: 'POST', url: '/api/pelanggan/import', headers: admin, payload: {} });
    expect(json.statusCode).toBe(415);
    expect(json.json()).toMatchObject({ status: 'error', error_code: 'UNSUPPORTED_MEDIA_TYPE' });
    expect((await upload(`${HEADER}\nA,,,,,,,`, admin, '?dry_run=maybe')).statusCode).toBe(422);
    expect(await count('billing_customers')).toBe(before);
  });

  it("a file with the original's eleven columns stores Alamat 2, Blok and Unit; importing it again creates nobody twice", async () => {
    const tag = randomBytes(3).toString('hex');
    const csv = [
      ORIGINAL_HEADER,
      `Eko Prasetyo,,eko-${tag}@example.com,,Internet 50Mbps,Jl. Melati No. 7,2025-04-01,${brandA},"Perumahan Griya, Tahap 2",C3,12A`,
      `Fitri Handayani,,fitri-${tag}@example.com,,,Jl. Melati No. 8,,,,,`,
    ].join('\r\n');
    const first = await upload(`\uFEFF${csv}`, admin);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ created: 2, skipped: 0, errors: [], ignored_columns: [] });

    const again = await upload(`\uFEFF${csv}`, admin);
    expect(again.json()).toMatchObject({ created: 0, skipped: 2 });
    const [eko, fitri] = again.json().skipped_rows.map((s: { pelanggan_id: number }) => s.pelanggan_id);
    const ekoRes = await get(`/api/pelanggan/${eko}`, viewer);
    expect(ekoRes.statusCode).toBe(200);
    expect(ekoRes.json()).toMatchObject({
      nama: 'Eko Prasetyo',
      alamat: 'Jl. Melati No. 7',
      alamat_2: 'Perumahan Griya, Tahap 2',
      blok: 'C3',
      unit: '12A',
      layanan: 'Internet 50Mbps',
      id_brand: brandA,
    });
    // Empty cells are no value, as an empty field is through the API.
    expect((await get(`/api/pelanggan/${fitri}`, viewer)).json()).toMatchObject({
      nama: 'Fitri Handayani',
      alamat_2: null,
      blok: null,
      unit: null,
    });

    // An existing customer is never changed by an import: a new Blok for Eko is skipped with the row.
    const changed = await upload(`${ORIGINAL_HEADER}\nEko Prasetyo,,eko-${tag}@example.com,,,,,,,D9,`, admin);
    expect(changed.json()).toMatchObject({ created: 0, skipped: 1 });
    expect((await get(`/api/pelanggan/${eko}`, viewer)).json()).toMatchObject({ blok: 'C3', unit: '12A' });
  });

  it('checks Alamat 2, Blok and Unit with the limits of POST /api/pelanggan/ and names their columns', async () => {
    const tag = randomBytes(3).toString('hex');
    const csv = [
      ORIGINAL_HEADER,
      `Long Blok,,lb-${tag}@example.com,,,,,,,${'B'.repeat(51)},`,
      `Long Unit,,lu-${tag}@example.com,,,,,,,,${'U'.repeat(51)}`,
      `Long Alamat,,la-${tag}@example.com,,,,,,${'A'.repeat(501)},,`,
      `At The Limit,,al-${tag}@example.com,,,,,,${'A'.repeat(500)},${'B'.repeat(50)},${'U'.repeat(50)}`,
    ].join('\n');
    const before = await count('billing_customers');
    const res = await upload(csv, admin);
    expect(res.statusCode).toBe(422);
    expect(res.json().detail.errors).toEqual([
      { row: 2, field: 'Blok', message: 'must NOT have more than 50 characters' },
      { row: 3, field: 'Unit', message: 'must NOT have more than 50 characters' },
      { row: 4, field: 'Alamat 2', message: 'must NOT have more than 500 characters' },
    ]);
    expect(await count('billing_customers')).toBe(before);
    // The same value is refused by the API in the same words.
    const api = await t.app.inject({
      method: 'POST',
      url: '/api/pelanggan/',
      headers: operator,
      payload: { nama: 'Long Blok', blok: 'B'.repeat(51) },
    });
    expect(api.statusCode).toBe(422);
    expect(api.json().detail.errors).toEqual([
      expect.objectContaining({ field: 'blok', message: 'must NOT have more than 50 characters' }),
    ]);
    const partial = await upload(csv, admin, '?skip_invalid=true');
    expect(partial.json()).toMatchObject({ created: 1, invalid: 3 });
  });

  it('needs level 50', async () => {
    const csv = `${HEADER}\nLevel Test,,,,,,,`;
    expect((await upload(csv, {})).statusCode).toBe(401);
    const res = await upload(csv, operator);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ status: 'error', error_code: 'AUTHORIZATION_ERROR' });
  });
});

describe('billing CSV import and the routers', () => {
  // The template (seed 003) carries no technical data (router, PPPoE name and password, address): an imported
  // customer, like one created by POST /api/pelanggan/, has nothing a router can hold until its technical data
  // names a router; from then on it is provisioned the same way, its imported package deciding the profile.
  it('an imported customer reaches the router with its package profile once technical data names one, like one made by hand', async () => {
    const routerPassword = `router-${randomBytes(6).toString('hex')}`;
    const fake = await startFakeRouter({ password: routerPassword });
    try {
      const brand = code();
      const post = async (url: string, payload: object, headers = admin) => {
        const res = await t.app.inject({ method: 'POST', url, headers, payload });
        expect(res.statusCode, res.body).toBe(201);
        return res.json() as { id: number };
      };
      await post('/api/brands/', { id_brand: brand, brand });
      await post('/api/paket_layanan/', {
        id_brand: brand,
        nama_paket: 'Fiber 30Mbps',
        harga: 200_000,
        kecepatan: 30,
        profile_pppoe: 'paket-10M',
      });
      const faster = await post('/api/paket_layanan/', {
        id_brand: brand,
        nama_paket: 'Fiber 60Mbps',
        harga: 300_000,
        kecepatan: 60,
        profile_pppoe: 'paket-20M',
      });
      const router = await post('/api/mikrotik_servers/', {
        name: 'POP Impor',
        host_ip: '127.0.0.1',
        port: fake.port,
        username: 'admin',
        password: routerPassword,
      });
      const who = code();
      const imported = await upload(
        [HEADER, `Impor ${who},,,,Fiber 30Mbps,Jl. Dahlia No. 1,,${brand}`].join('\r\n'),
        admin,
      );
      expect(imported.json()).toMatchObject({ created: 1 });
      const byHand = await post(
        '/api/pelanggan/',
        { nama: `Manual ${who}`, id_brand: brand, layanan: 'Fiber 30Mbps' },
        operator,
      );
      const list = await get(`/api/pelanggan/?search=${who}&limit=10`, viewer);
      const importedId = list.json().data.find((c: { nama: string }) => c.nama === `Impor ${who}`).id as number;

      for (const [id, ip, name] of [
        [importedId, '10.60.0.2', `imp-${who.toLowerCase()}`],
        [byHand.id, '10.60.0.3', `man-${who.toLowerCase()}`],
      ] as const) {
        expect(fake.engine.secret(name)).toBeUndefined(); // nothing to write before the technical data
        await post(
          '/api/data_teknis/',
          {
            pelanggan_id: id,
            mikrotik_server_id: router.id,
            ip_pelanggan: ip,
            id_pelanggan: name,
            password_pppoe: `pw-${code()}`,
          },
          operator,
        );
        const secret = await until(() => fake.engine.secret(name), { what: `the secret of ${name}` });
        expect(secret).toMatchObject({ profile: 'paket-10M', 'remote-address': ip, service: 'pppoe' });
      }
      // Its package changed later: the router follows, as for any customer.
      const patched = await t.app.inject({
        method: 'PATCH',
        url: `/api/pelanggan/${importedId}`,
        headers: operator,
        payload: { paket_layanan_id: faster.id },
      });
      expect(patched.statusCode, patched.body).toBe(200);
      await until(() => fake.engine.secret(`imp-${who.toLowerCase()}`)?.profile === 'paket-20M', {
        what: 'the new package profile',
      });
    } finally {
      closeRouterConnections();
      await fake.close();
    }
  });
});

describe('billing CSV export', () => {
  it("streams the list's filters with the import's eleven headers, guards formulas, and imports again unchanged", async () => {
    const brand = code();
    await t.app.inject({ method: 'POST', url: '/api/brands/', headers: admin, payload: { id_brand: brand, brand } });
    const pkg = await t.app.inject({
      method: 'POST',
      url: '/api/paket_layanan/',
      headers: admin,
      payload: { id_brand: brand, nama_paket: 'Paket "Hemat", 10M', harga: 100_000, kecepatan: 10 },
    });
    expect(pkg.statusCode).toBe(201);
    const people = [
      { nama: '=HYPERLINK("http://evil")', email: 'formula@example.com', alamat: '-Blok A; No. 5' },
      {
        nama: 'Dewi Sartika',
        no_telp: '081233334444',
        alamat: 'Jl. Dago\nBandung',
        no_ktp: '3273000000000001',
        alamat_2: 'Komplek Dago Asri, Blok',
        blok: 'C',
        unit: '-12',
      },
      { nama: '@Rina', alamat: '+ Jalan Baru', tanggal_instalasi: '2025-03-01' },
    ];
    for (const p of people) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/pelanggan/',
        headers: operator,
        payload: { ...p, id_brand: brand, paket_layanan_id: pkg.json().id },
      });
      expect(res.statusCode, res.body).toBe(201);
    }
    const res = await get(`/api/pelanggan/export/csv?id_brand=${brand}`, operator);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['x-total-count']).toBe('3');
    expect(res.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const text = res.body.replace(/^\uFEFF/, '');
    expect(text.split('\r\n')[0]).toBe(ORIGINAL_HEADER);
    expect(text).toContain(
      `"'=HYPERLINK(""http://evil"")",,formula@example.com,,"Paket ""Hemat"", 10M",'-Blok A; No. 5,,${brand},,,\r\n`,
    );
    expect(text).toContain(
      `Dewi Sartika,3273000000000001,,081233334444,"Paket ""Hemat"", 10M","Jl. Dago\nBandung",,${brand},` +
        `"Komplek Dago Asri, Blok",C,'-12\r\n`,
    );
    expect(text).toContain(`'@Rina,,,,"Paket ""Hemat"", 10M",'+ Jalan Baru,2025-03-01,${brand},,,\r\n`);

    // Filters and paging: search, skip and limit.
    const one = await get(`/api/pelanggan/export/csv?id_brand=${brand}&search=dewi`, operator);
    expect(lines(one.body)).toHaveLength(2);
    const paged = await get(`/api/pelanggan/export/csv?id_brand=${brand}&skip=1&limit=1`, operator);
    expect(paged.headers['x-total-count']).toBe('1');
    expect(paged.body).toContain('Dewi Sartika');
    expect(paged.body).not.toContain('Rina');

    // Round trip: the exported file imports as it is; every row is someone who exists already.
    const before = await count('billing_customers');
    const back = await upload(res.rawPayload, admin);
    expect(back.statusCode, back.body).toBe(200);
    expect(back.json()).toMatchObject({ created: 0, skipped: 3, errors: [] });
    expect(await count('billing_customers')).toBe(before);

    // Deleted, they come back from the same file exactly as they were.
    const ids = (await get(`/api/pelanggan/?id_brand=${brand}`, viewer)).json().data.map((c: { id: number }) => c.id);
    for (const id of ids) {
      expect((await t.app.inject({ method: 'DELETE', url: `/api/pelanggan/${id}`, headers: admin })).statusCode).toBe(
        204,
      );
    }
    const restored = await upload(res.rawPayload, admin);
    expect(restored.json()).toMatchObject({ created: 3, skipped: 0 });
    const again = await get(`/api/pelanggan/export/csv?id_brand=${brand}`, operator);
    expect(again.body).toBe(res.body);
  });

  it('answers a file with the header row only when nothing matches', async () => {
    const res = await get('/api/pelanggan/export/csv?search=nobody-matches-this', operator);
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-total-count']).toBe('0');
    expect(res.body).toBe(`\uFEFF${ORIGINAL_HEADER}\r\n`);
  });

  it('an export moves customers to another Loket with Alamat 2, Blok and Unit', async () => {
    const brand = code();
    await t.app.inject({ method: 'POST', url: '/api/brands/', headers: admin, payload: { id_brand: brand, brand } });
    const pkg = { id_brand: brand, nama_paket: 'Rumah 30M', harga: 150_000, kecepatan: 30 };
    expect(
      (await t.app.inject({ method: 'POST', url: '/api/paket_layanan/', headers: admin, payload: pkg })).statusCode,
    ).toBe(201);
    const people = [
      {
        nama: 'Gilang Ramadhan',
        email: 'gilang@example.com',
        alamat: 'Jl. Anggrek 1',
        alamat_2: 'RT 01/RW 02',
        blok: 'A',
        unit: '1',
      },
      { nama: 'Hana Pertiwi', no_telp: '081255556666', alamat: 'Jl. Anggrek 2', blok: '=B', unit: '+2' },
      { nama: 'Indra Kusuma', alamat: 'Jl. Anggrek 3' },
    ];
    for (const p of people) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/pelanggan/',
        headers: operator,
        payload: { ...p, id_brand: brand, layanan: pkg.nama_paket },
      });
      expect(res.statusCode, res.body).toBe(201);
    }
    const file = await get(`/api/pelanggan/export/csv?id_brand=${brand}`, operator);
    expect(file.statusCode).toBe(200);

    const other = await startTestApp({ config: { modules: ['billing'] } });
    try {
      const otherAdmin = bearer(
        (await tokensFor(other.app, await makeAccount(other.app, { billing: 50 }))).access_token,
      );
      await other.app.inject({
        method: 'POST',
        url: '/api/brands/',
        headers: otherAdmin,
        payload: { id_brand: brand, brand },
      });
      await other.app.inject({ method: 'POST', url: '/api/paket_layanan/', headers: otherAdmin, payload: pkg });
      const imported = await upload(file.rawPayload, otherAdmin, '', other);
      expect(imported.statusCode, imported.body).toBe(200);
      expect(imported.json()).toMatchObject({ created: 3, skipped: 0, errors: [], ignored_columns: [] });
      const list = await other.app.inject({ method: 'GET', url: '/api/pelanggan/?limit=100', headers: otherAdmin });
      expect(list.json().total_count).toBe(3);
      for (const c of list.json().data as { id: number; nama: string }[]) {
        const res = await other.app.inject({ method: 'GET', url: `/api/pelanggan/${c.id}`, headers: otherAdmin });
        const p = people.find((x) => x.nama === c.nama);
        expect(res.json()).toMatchObject({
          alamat: p?.alamat,
          alamat_2: p?.alamat_2 ?? null,
          blok: p?.blok ?? null,
          unit: p?.unit ?? null,
          layanan: pkg.nama_paket,
          id_brand: brand,
        });
      }
      // And the other Loket's export is the same file.
      const back = await other.app.inject({ method: 'GET', url: '/api/pelanggan/export/csv', headers: otherAdmin });
      expect(back.body).toBe(file.body);
    } finally {
      await other.close();
    }
  }, 60_000); // a second app, on a database of its own

  it('needs level 10; a limit above 50,000 is clamped to 50,000 (CONTRACTS §4), a limit below 1 refused', async () => {
    expect((await get('/api/pelanggan/export/csv', {})).statusCode).toBe(401);
    const low = await get('/api/pelanggan/export/csv', viewer);
    expect(low.statusCode).toBe(403);
    expect(low.json()).toMatchObject({ status: 'error', error_code: 'AUTHORIZATION_ERROR' });
    const all = await get('/api/pelanggan/export/csv', operator);
    expect(all.statusCode, all.body).toBe(200);
    for (const limit of [50_001, 60_000]) {
      const big = await get(`/api/pelanggan/export/csv?limit=${limit}`, operator);
      expect(big.statusCode, big.body).toBe(200);
      expect(big.headers['x-total-count']).toBe(all.headers['x-total-count']);
      // The export's activity entry records the limit it ran with.
      const entry = await t.app.loket.database.db
        .selectFrom('activity_logs')
        .select('after')
        .where('action', '=', 'billing.customer.exported')
        .where('request_id', '=', String(big.headers['x-request-id']))
        .executeTakeFirstOrThrow();
      expect(entry.after).toMatchObject({ limit: 50_000 });
    }
    const zero = await get('/api/pelanggan/export/csv?limit=0', operator);
    expect(zero.statusCode).toBe(422);
    expect(zero.json()).toMatchObject({ error_code: 'VALIDATION_ERROR', detail: { message: 'Validation failed' } });
  });
});

describe('billing CSV limits', () => {
  it('export 10 and import 5 an hour per account, then 429 in billing shape', async () => {
    await roomInWindow(3_600_000, 60_000); // the calls must fall in one of the limiter's hourly windows
    const limited = await startTestApp({ config: { modules: ['billing'], rateLimits: true } });
    try {
      const op = bearer((await tokensFor(limited.app, await makeAccount(limited.app, { billing: 50 }))).access_token);
      const other = bearer(
        (await tokensFor(limited.app, await makeAccount(limited.app, { billing: 50 }))).access_token,
      );
      const exp = (h: Record<string, string>) =>
        limited.app.inject({ method: 'GET', url: '/api/pelanggan/export/csv', headers: h });
      for (let i = 0; i < 10; i++) expect((await exp(op)).statusCode).toBe(200);
      const over = await exp(op);
      expect(over.statusCode).toBe(429);
      expect(over.json()).toEqual({
        detail: 'Rate limit exceeded',
        retry_after: expect.any(Number),
        status: 'error',
        error_code: 'RATE_LIMITED',
      });
      expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
      expect((await exp(other)).statusCode).toBe(200);

      const csv = `${HEADER}\nLimit Test,,,,,,,`;
      for (let i = 0; i < 5; i++) expect((await upload(csv, op, '?dry_run=true', limited)).statusCode).toBe(200);
      const tooMany = await upload(csv, op, '', limited);
      expect(tooMany.statusCode).toBe(429);
      expect(tooMany.json()).toMatchObject({ detail: 'Rate limit exceeded', error_code: 'RATE_LIMITED' });
    } finally {
      await limited.close();
    }
  }, 120_000); // a second app of its own, with limits on
});
