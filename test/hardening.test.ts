// Hostile and careless input, finding by finding (issue "Hardening"): each case failed before the fix in the
// core. The shared security suite (security-suite.test.ts) sends the same classes of input to every route; these
// are the reported instances, with what a user would see.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';
import { waitFor } from './helpers/photobox.ts';
import { snapshot } from './helpers/routes.ts';
import { jobsSettled } from './helpers/until.ts';

let t: TestApp;
let kiosk: Record<string, string>;
let ppobAdmin: Record<string, string>;
let staffAdmin: Record<string, string>;

beforeAll(async () => {
  t = await startTestApp({ config: { modules: ['ppob', 'photobox', 'staff'], demo: true, ppobSimulatorDelayMs: 50 } });
  const pb = bearer((await tokensFor(t.app, await makeAccount(t.app, { photobox: 50 }))).access_token);
  const k = await t.app.inject({ method: 'POST', url: '/api/v1/kiosks', headers: pb, payload: { name: 'Kiosk H' } });
  expect(k.statusCode, k.body).toBe(201);
  kiosk = { 'x-api-key': k.json().data.api_key };
  ppobAdmin = bearer((await tokensFor(t.app, await makeAccount(t.app, { ppob: 50 }))).access_token);
  staffAdmin = bearer((await tokensFor(t.app, await makeAccount(t.app, { staff: 50 }))).access_token);
});
afterAll(async () => t?.close());

const tag = () => randomBytes(3).toString('hex');

describe('text with NUL and control characters', () => {
  it('public routes answer 422 in their envelope, never 500, and write nothing', async () => {
    const before = await snapshot(t.app);
    const register = await t.app.inject({
      method: 'POST',
      url: '/register',
      payload: { nama: 'Ra\u0000ma', email: `r-${tag()}@example.com` },
    });
    expect(register.statusCode, register.body).toBe(422);
    expect(register.json()).toMatchObject({ code: 422, status: 'error' });
    expect(JSON.stringify(register.json())).toContain('nama');

    const token = await t.app.inject({
      method: 'POST',
      url: '/api/users/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'username=admin%00%40example.com&password=x',
    });
    expect(token.statusCode, token.body).toBeGreaterThanOrEqual(400);
    expect(token.statusCode, token.body).toBeLessThan(500);

    const search = await t.app.inject({ method: 'GET', url: '/jabatan/?search=a%00b', headers: staffAdmin });
    expect(search.statusCode, search.body).toBeGreaterThanOrEqual(400);
    expect(search.statusCode, search.body).toBeLessThan(500);
    expect(await snapshot(t.app)).toEqual(before);
  });

  it('line breaks and tabs stay allowed in text (an address on two lines)', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/locations',
      headers: bearer((await tokensFor(t.app, await makeAccount(t.app, { photobox: 50 }))).access_token),
      payload: { ml_name: `Mall ${tag()}`, ml_address: 'Jl. Contoh No. 1\r\nBlok\tB' },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().data.ml_address).toBe('Jl. Contoh No. 1\r\nBlok\tB');
  });
});

describe('JSON bodies are typed as the originals typed them (Pydantic lax mode)', () => {
  it('a destination number sent as a number is refused, not charged with its leading 0 lost', async () => {
    const before = await snapshot(t.app);
    const res = await t.app.inject({
      method: 'POST',
      url: '/beli',
      headers: { 'x-api-key': 'not-checked-before-the-body' },
      payload: { kode_produk: 'PLN20', nomor_tujuan: 81234567890 },
    });
    // Without a valid key the guard answers first; with any key the number is refused: both are 4xx, no charge.
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    expect(await snapshot(t.app)).toEqual(before);
  });

  it('text never takes a number; an integer never takes a fraction or a boolean; a numeric string is a number', async () => {
    const jabatan = (payload: object) =>
      t.app.inject({ method: 'POST', url: '/jabatan/', headers: staffAdmin, payload });
    const numberForText = await jabatan({ nama_jabatan: 123 });
    expect(numberForText.statusCode, numberForText.body).toBe(422);

    const price = (mp_amount: unknown) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/prices',
        headers: bearer(tokens.access_token),
        payload: { mp_name: `Paket ${tag()}`, mp_amount },
      });
    const tokens = await tokensFor(t.app, await makeAccount(t.app, { photobox: 50 }));
    expect((await price(35_000.5)).statusCode).toBe(422);
    expect((await price(true)).statusCode).toBe(422);
    const fromText = await price('35000');
    expect(fromText.statusCode, fromText.body).toBe(201);
    expect(fromText.json().data.mp_amount).toBe(35_000);
    expect((await price('35000.5')).statusCode).toBe(422);
    expect((await price('35 000')).statusCode).toBe(422);
  });

  it('a body nested 20,000 levels deep is a 400 before it is parsed, on the provider webhook too', async () => {
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    for (const url of ['/api/v1/webhooks/xendit', '/jabatan/']) {
      const res = await t.app.inject({
        method: 'POST',
        url,
        headers: {
          ...staffAdmin,
          'content-type': 'application/json',
          'x-callback-token': t.config.xenditCallbackToken ?? '',
        },
        payload: deep,
      });
      expect(res.statusCode, `${url}: ${res.body}`).toBe(400);
    }
  });
});

describe('the Xendit webhook compares the amount in every shape it accepts', () => {
  async function pendingTransaction() {
    const loc = await t.app.inject({
      method: 'POST',
      url: '/api/v1/locations',
      headers: bearer((await tokensFor(t.app, await makeAccount(t.app, { photobox: 50 }))).access_token),
      payload: { ml_name: `Mall ${tag()}`, ml_address: 'Jl. Contoh' },
    });
    const tr = await t.app.inject({
      method: 'POST',
      url: '/api/v1/transactions',
      headers: kiosk,
      payload: { location_id: loc.json().data.ml_id },
    });
    expect(tr.statusCode, tr.body).toBe(201);
    return tr.json().data as { tr_external_id: string; tr_amount: number };
  }
  const hook = (payload: object) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/webhooks/xendit',
      headers: { 'x-callback-token': t.config.xenditCallbackToken ?? '' },
      payload,
    });
  const statusOf = async (externalId: string) =>
    (await t.app.inject({ method: 'GET', url: `/api/v1/transactions/external/${externalId}` })).json().data
      .tr_status as string;

  it('a flat body with a wrong amount, an amount in words or another currency settles nothing', async () => {
    const tr = await pendingTransaction();
    const flat = { external_id: tr.tr_external_id, status: 'COMPLETED', xendit_id: `qr_${tag()}` };
    for (const wrong of [{ amount: 1 }, { amount: '1' }, { amount: 'empat puluh ribu' }, { currency: 'USD' }]) {
      const res = await hook({ ...flat, ...wrong, xendit_id: `qr_${tag()}` });
      expect(res.statusCode, JSON.stringify(wrong)).toBeGreaterThanOrEqual(200);
      expect(res.json().data?.outcome ?? res.json().outcome, JSON.stringify(wrong)).not.toBe('accepted');
    }
    await jobsSettled(t.app);
    expect(await statusOf(tr.tr_external_id)).toBe('PENDING');
    // The amount as a string that is exactly the amount is Xendit's own habit in some payloads: it settles.
    const right = await hook({ ...flat, amount: String(tr.tr_amount) });
    expect(right.json().data.outcome).toBe('accepted');
    await waitFor('COMPLETED', async () => (await statusOf(tr.tr_external_id)) === 'COMPLETED');
  });

  it("the document's flat body of a new transaction is not taken for a duplicate of another one", async () => {
    const a = await pendingTransaction();
    const b = await pendingTransaction();
    const xendit_id = `qr_${tag()}`;
    expect((await hook({ external_id: a.tr_external_id, status: 'COMPLETED', xendit_id })).json().data.outcome).toBe(
      'accepted',
    );
    expect((await hook({ external_id: b.tr_external_id, status: 'COMPLETED', xendit_id })).json().data.outcome).toBe(
      'accepted',
    );
    await waitFor('both COMPLETED', async () =>
      (await Promise.all([statusOf(a.tr_external_id), statusOf(b.tr_external_id)])).every((s) => s === 'COMPLETED'),
    );
  });
});

describe('the catalogue admin refuses mistyped bodies the same way', () => {
  it('a product price as a boolean or fraction is a 422 in the platform envelope', async () => {
    for (const harga of [true, 1500.5]) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/admin/ppob/products',
        headers: ppobAdmin,
        payload: { kode_produk: `H${tag()}`, nama: 'Pulsa', harga },
      });
      expect(res.statusCode, res.body).toBe(422);
      expect(res.json()).toMatchObject({ status: 'error', error_code: 'VALIDATION_ERROR' });
    }
  });
});

describe('URLs a user gives Loket to call (finding 4)', () => {
  async function resellerOn(app: TestApp['app']) {
    const email = `cb-${tag()}@example.com`;
    expect(
      (await app.inject({ method: 'POST', url: '/register', payload: { nama: 'Rama', email, hp: '081212345678' } }))
        .statusCode,
    ).toBe(201);
    const box = (await app.inject({ method: 'GET', url: `/_dev/outbox?to=${encodeURIComponent(email)}` })).json();
    const otp = /(\d{6})/.exec(box.messages[0].body)?.[1] as string;
    const ver = await app.inject({ method: 'POST', url: '/verif-otp', payload: { email, otp } });
    return { 'x-api-key': ver.json().data.api_key as string };
  }

  it('PUT /callback refuses loopback, private, link-local, CGNAT and metadata addresses in every spelling', async () => {
    const strict = await startTestApp({ config: { modules: ['ppob'], outboundAllow: [] } });
    try {
      const h = await resellerOn(strict.app);
      const refused = [
        'http://127.0.0.1:8000/hook',
        'http://localhost/hook',
        'http://0x7f000001/hook', // 127.0.0.1 written in hex
        'http://2130706433/hook', // and as one number
        'http://[::1]/hook',
        'http://[::ffff:127.0.0.1]/hook',
        'http://10.1.2.3/hook',
        'http://172.16.0.5/hook',
        'http://192.168.1.1/hook',
        'http://100.64.0.1/hook',
        'http://169.254.169.254/latest/meta-data',
        'http://[fd00:ec2::254]/',
        'http://0.0.0.0/',
      ];
      for (const url of refused) {
        const res = await strict.app.inject({ method: 'PUT', url: '/callback', headers: h, payload: { url } });
        expect(res.statusCode, `${url}: ${res.body}`).toBe(422);
        expect(res.json()).toMatchObject({ code: 422, status: 'error' });
      }
      const log = await strict.app.inject({ method: 'GET', url: '/callback', headers: h });
      expect(log.json().data.url).toBeNull();
      const ok = await strict.app.inject({
        method: 'PUT',
        url: '/callback',
        headers: h,
        payload: { url: 'http://93.184.216.34/hook' },
      });
      expect(ok.statusCode, ok.body).toBe(200);
    } finally {
      await strict.close();
    }
  });

  it('the delivery checks the address again when it connects: a name that now points to loopback is not called', async () => {
    const { createServer } = await import('node:http');
    const { createUrlGuard, OutboundRefused } = await import('../src/core/http/safe-url.ts');
    let calls = 0;
    const server = createServer((_req, res) => {
      calls++;
      res.writeHead(204).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const guard = createUrlGuard([]);
      for (const url of [`http://127.0.0.1:${port}/`, `http://localhost:${port}/`]) {
        await expect(guard.post(url, '{}', {}, 2000)).rejects.toBeInstanceOf(OutboundRefused);
      }
      expect(calls).toBe(0);
      // The same server, allowed by the configuration's list, is called.
      const allowed = createUrlGuard(['127.0.0.1']);
      expect((await allowed.post(`http://127.0.0.1:${port}/`, '{}', {}, 2000)).status).toBe(204);
      expect(calls).toBe(1);
    } finally {
      server.close();
    }
  });
});

describe('logs (finding 9)', () => {
  it('hold no credential the requests carried: passwords, tokens in paths and queries, keys, OTPs, callback tokens', async () => {
    const user = await makeAccount(t.app, { photobox: 50 });
    const pair = await tokensFor(t.app, user);
    const refreshed = await t.app.inject({
      method: 'POST',
      url: '/api/users/refresh',
      payload: { refresh_token: pair.refresh_token },
    });
    const wrongPassword = `wrong-${tag()}-password`;
    await t.app.inject({
      method: 'POST',
      url: '/api/users/token',
      payload: { username: user.email, password: wrongPassword },
    });
    const pathToken = `photo${tag()}${tag()}secret`;
    await t.app.inject({ method: 'GET', url: `/api/v1/photos/${pathToken}` });
    const queryToken = `q${tag()}${tag()}secret`;
    await t.app.inject({ method: 'GET', url: `/ws/notifications?token=${queryToken}&x=1` });
    await t.app.inject({ method: 'GET', url: `/api/v1/kiosks?access_token=${queryToken}`, headers: kiosk });

    const email = `log-${tag()}@example.com`;
    await t.app.inject({ method: 'POST', url: '/register', payload: { nama: 'Rama', email, hp: '081212345678' } });
    const box = (await t.app.inject({ method: 'GET', url: `/_dev/outbox?to=${encodeURIComponent(email)}` })).json();
    const otp = /(\d{6})/.exec(box.messages[0].body)?.[1] as string;
    const keys = (await t.app.inject({ method: 'POST', url: '/verif-otp', payload: { email, otp } })).json().data;
    await t.app.inject({ method: 'GET', url: '/saldo', headers: { 'x-api-key': keys.api_key } });
    await t.app.inject({ method: 'GET', url: '/saldo', headers: { 'x-api-key': `${keys.api_key}x` } });
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/webhooks/xendit',
      headers: { 'x-callback-token': t.config.xenditCallbackToken ?? '' },
      payload: { external_id: 'nope', status: 'COMPLETED', amount: 1 },
    });

    const secrets = {
      password: user.password,
      wrongPassword,
      access: pair.access_token,
      refresh: pair.refresh_token,
      refreshed: refreshed.json().refresh_token as string,
      pathToken,
      queryToken,
      otp: `"${otp}"`,
      apiKey: keys.api_key as string,
      privateKey: keys.private_key as string,
      callbackToken: t.config.xenditCallbackToken ?? '',
    };
    const text = t.logs.text;
    for (const [name, secret] of Object.entries(secrets)) {
      expect(secret.length, name).toBeGreaterThan(5);
      expect(text.includes(secret), `${name} appears in the log`).toBe(false);
    }
    // The request lines are still there, with the parts that are not secret.
    expect(text).toContain('/ws/notifications?token=[redacted]&x=1');
    expect(text).toContain('/api/v1/photos/[redacted]');
  });

  it('a client error is a warning with its code, never an error with a stack', async () => {
    const from = t.logs.lines.length;
    await t.app.inject({
      method: 'POST',
      url: '/api/users/token',
      payload: { username: 'x@example.com', password: 'y' },
    });
    await t.app.inject({ method: 'GET', url: '/saldo', headers: { 'x-api-key': 'nope' } });
    const lines = t.logs.lines.slice(from).map((l) => JSON.parse(l) as { level: number; msg: string; err?: unknown });
    const answers = lines.filter((l) => l.msg !== 'incoming request' && l.msg !== 'request completed');
    expect(answers.length).toBeGreaterThanOrEqual(2);
    for (const l of answers) {
      expect(l.level, l.msg).toBe(40);
      expect(l.err, l.msg).toBeUndefined();
    }
  });
});

describe('oversize bodies (finding 10)', () => {
  it('a client that is still sending (Node fetch, with a length or chunked) reads the 413 in the envelope', async () => {
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const big = 'x'.repeat(30 * 1024 * 1024);
    const sized = await fetch(`${address}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ nama: big, email: 'big@example.com' }),
    });
    expect(sized.status).toBe(413);
    expect(await sized.json()).toMatchObject({ code: 413, status: 'error' });

    const chunk = new TextEncoder().encode('x'.repeat(256 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent++ >= 40) return controller.close();
        await new Promise((r) => setTimeout(r, 5));
        controller.enqueue(chunk);
      },
    });
    const chunked = await fetch(`${address}/otp/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(await chunked.json()).toMatchObject({ detail: expect.any(String) });
  });
});

describe('found by the fuzz run (test/fuzz.test.ts)', () => {
  it('an unexpected field named constructor or __proto__ is ignored (CONTRACTS §6), never stored, not a 500', async () => {
    for (const payload of [
      '{"nama_jabatan": "Kasir", "constructor": "x"}',
      '{"nama_jabatan": "Kasir", "toString": 1}',
    ]) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/jabatan/',
        headers: { ...staffAdmin, 'content-type': 'application/json' },
        payload,
      });
      expect(res.statusCode, `${payload}: ${res.body}`).toBe(200);
      const made = res.json();
      expect(made, res.body).toEqual({ id_jabatan: expect.any(Number), nama_jabatan: 'Kasir', deskripsi: null });
      const read = await t.app.inject({ method: 'GET', url: `/jabatan/${made.id_jabatan}`, headers: staffAdmin });
      expect(read.json()).toEqual(made);
    }
    // `__proto__` is refused by the JSON parser itself (400), before any module sees it
    const before = await snapshot(t.app);
    const proto = await t.app.inject({
      method: 'POST',
      url: '/jabatan/',
      headers: { ...staffAdmin, 'content-type': 'application/json' },
      payload: '{"nama_jabatan": "Kasir", "__proto__": {"admin": true}}',
    });
    expect(proto.statusCode, proto.body).toBe(400);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(await snapshot(t.app)).toEqual(before);
  });

  it('a path with broken percent-encoding is a 400, a path parameter past 100 characters a 414, in the envelope', async () => {
    for (const url of ['/jabatan/%zz', '/jabatan/%E0%A4%A', '/jabatan/%']) {
      const res = await t.app.inject({ method: 'GET', url, headers: staffAdmin });
      expect(res.statusCode, `${url}: ${res.body}`).toBe(400);
      expect(res.json(), url).toEqual({ detail: expect.stringContaining('URL') });
    }
    const long = await t.app.inject({ method: 'GET', url: `/api/v1/prices/${'9'.repeat(101)}` });
    expect(long.statusCode, long.body).toBe(414);
    // The photobox envelope: `{success: false, data: null, message}`.
    expect(long.json()).toMatchObject({ success: false, data: null });
  });
});

describe('an empty body labelled JSON (CONTRACTS §6)', () => {
  it('is no body: a route without one answers, a route that needs one says what is missing (422)', async () => {
    const pair = await tokensFor(t.app, await makeAccount(t.app));
    const logout = await t.app.inject({
      method: 'POST',
      url: '/api/users/logout',
      headers: { ...bearer(pair.access_token), 'content-type': 'application/json' },
      payload: '',
    });
    expect(logout.statusCode, logout.body).toBe(200);
    const create = await t.app.inject({
      method: 'POST',
      url: '/jabatan/',
      headers: { ...staffAdmin, 'content-type': 'application/json' },
      payload: '',
    });
    expect(create.statusCode, create.body).toBe(422);
  });
});
