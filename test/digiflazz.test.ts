// The Digiflazz adapter against a fake Digiflazz that is a real HTTP server: no mocked fetch, so bodies, signs,
// timeouts and connection failures are the real thing. Webhooks are captured raw by a small HTTP receiver, since
// their signature covers the exact bytes.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDigiflazzProvider, DigiflazzError } from '../src/modules/ppob/providers/digiflazz.ts';
import type { PpobProvider } from '../src/modules/ppob/providers/provider.ts';
import { type FakeDigiflazz, startFakeDigiflazz } from './fakes/digiflazz.ts';

interface Received {
  headers: IncomingHttpHeaders;
  raw: Buffer;
}

/** Listens on 127.0.0.1 and keeps every webhook it gets, as bytes. */
async function startReceiver() {
  const received: Received[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    received.push({ headers: req.headers, raw: Buffer.concat(chunks) });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/digiflazz`,
    received,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on: bound, then released. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const md5 = (text: string) => createHash('md5').update(text).digest('hex');
// Loket's ref_ids are at most 20 characters.
const newRef = () => `LK${randomBytes(8).toString('hex').toUpperCase()}`;
const newPhone = () => `0812${String(randomBytes(4).readUInt32BE() % 100_000_000).padStart(8, '0')}`;

let fake: FakeDigiflazz;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let df: PpobProvider;
// Every message the adapter produced, to check that none carries a credential.
const messages: string[] = [];

const provider = (over: Partial<Parameters<typeof createDigiflazzProvider>[0]> = {}) =>
  createDigiflazzProvider({
    username: fake.username,
    apiKey: fake.apiKey,
    webhookSecret: fake.webhookSecret,
    baseUrl: `${fake.url}/`,
    timeoutMs: 2000,
    ...over,
  });

async function buy(p: PpobProvider, sku: string, customerNo: string, refId = newRef()) {
  const result = await p.purchase({ refId, sku, customerNo });
  messages.push(result.message);
  return { refId, result };
}

async function rejection(promise: Promise<unknown>): Promise<DigiflazzError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DigiflazzError);
  messages.push((err as Error).message);
  return err as DigiflazzError;
}

const transactionRequests = (refId: string) =>
  fake.requests.filter(
    (r) => r.path === '/v1/transaction' && (r.body as Record<string, unknown> | undefined)?.ref_id === refId,
  );

beforeAll(async () => {
  fake = await startFakeDigiflazz();
  receiver = await startReceiver();
  df = provider();
});

afterAll(async () => {
  await fake?.close();
  await receiver?.close();
});

describe('purchase', () => {
  it('posts the documented body to /v1/transaction, signed md5(username + apiKey + ref_id)', async () => {
    const phone = newPhone();
    const { refId, result } = await buy(df, 'tsel10', phone);
    const [req] = transactionRequests(refId);
    expect(req?.method).toBe('POST');
    expect(req?.headers['content-type']).toBe('application/json');
    expect(req?.body).toEqual({
      username: fake.username,
      buyer_sku_code: 'tsel10',
      customer_no: phone,
      ref_id: refId,
      sign: md5(`${fake.username}${fake.apiKey}${refId}`),
    });
    // The fake's default: Digiflazz has not decided yet.
    expect(result).toEqual({ status: 'pending', message: 'Transaksi Pending', code: '03', price: 10_150 });
  });

  it('adds testing: true only when asked to', async () => {
    const { refId } = await buy(provider({ testing: true }), 'xl5', newPhone());
    expect(transactionRequests(refId)[0]?.body).toMatchObject({ testing: true });
    expect(fake.transactions.get(refId)?.testing).toBe(true);
  });

  it('rc 00 is sukses, with the serial number and the price', async () => {
    const phone = newPhone();
    fake.setOutcome(phone, { rc: '00', sn: '0412 3456 7890 1234 5678', message: 'Transaksi Sukses' });
    const before = fake.deposit;
    const { result } = await buy(df, 'pln20', phone);
    expect(result).toEqual({
      status: 'sukses',
      message: 'Transaksi Sukses',
      serialNumber: '0412 3456 7890 1234 5678',
      code: '00',
      price: 20_300,
    });
    expect(fake.deposit).toBe(before - 20_300);
  });

  it('rc 03 and rc 99 are pending', async () => {
    for (const rc of ['03', '99']) {
      const phone = newPhone();
      fake.setOutcome(phone, { rc });
      const { result } = await buy(df, 'tsel10', phone);
      expect(result.status).toBe('pending');
      expect(result.code).toBe(rc);
      expect(result.serialNumber).toBeUndefined();
    }
  });

  it('any other rc is gagal, with Digiflazz’s message', async () => {
    const cases: [string, string][] = [
      ['02', 'Transaksi Gagal'],
      ['01', 'Timeout'],
      ['54', 'Nomor Tujuan Salah'],
      ['70', 'Timeout Dari Biller'],
    ];
    for (const [rc, message] of cases) {
      const phone = newPhone();
      fake.setOutcome(phone, { rc, message });
      const { result } = await buy(df, 'tsel10', phone);
      expect(result).toMatchObject({ status: 'gagal', code: rc, message });
    }
  });

  it('reads refusals sent with a 4xx: an unknown SKU (rc 43) and a wrong key (rc 41) are gagal', async () => {
    const unknown = await buy(df, 'nope99', newPhone());
    expect(unknown.result).toMatchObject({ status: 'gagal', code: '43' });
    const inactive = await buy(df, 'dana25', newPhone());
    expect(inactive.result).toMatchObject({ status: 'gagal', code: '43' });
    const wrongKey = await buy(provider({ apiKey: 'dev-wrong-key-0000' }), 'tsel10', newPhone());
    expect(wrongKey.result).toEqual({ status: 'gagal', message: 'Signature Anda salah', code: '41', price: 0 });
    expect(fake.transactions.has(wrongKey.refId)).toBe(false);
  });

  it('uses `status` when there is no rc', async () => {
    const answer = (status: string) => async () =>
      new Response(JSON.stringify({ data: { ref_id: 'R1', status, message: status } }), { status: 200 });
    const read = async (status: string) =>
      (await provider({ fetchImpl: answer(status) }).purchase({ refId: 'R1', sku: 'x', customerNo: '1' })).status;
    expect(await read('Sukses')).toBe('sukses');
    expect(await read('Pending')).toBe('pending');
    expect(await read('Gagal')).toBe('gagal');
  });
});

describe('check', () => {
  it('resends the same request with the same ref_id and gets the stored transaction; one purchase only', async () => {
    const phone = newPhone();
    const before = fake.deposit;
    const { refId, result } = await buy(df, 'tsel10', phone);
    expect(result.status).toBe('pending');
    fake.finish(refId, { rc: '00', sn: 'SN-CHECK-1' });
    const checked = await df.check({ refId, sku: 'tsel10', customerNo: phone });
    expect(checked).toMatchObject({ status: 'sukses', serialNumber: 'SN-CHECK-1', code: '00', price: 10_150 });
    const [first, second] = transactionRequests(refId);
    expect(second?.body).toEqual(first?.body);
    expect(fake.transactions.get(refId)).toMatchObject({ purchases: 1, submissions: 2 });
    expect(fake.deposit).toBe(before - 10_150);
  });

  it('sees a pending purchase fail later (and Digiflazz refund it)', async () => {
    const phone = newPhone();
    const before = fake.deposit;
    const { refId } = await buy(df, 'xl5', phone);
    expect(fake.deposit).toBe(before - 5_900);
    fake.finish(refId, { rc: '02', message: 'Transaksi Gagal' });
    const checked = await df.check({ refId, sku: 'xl5', customerNo: phone });
    expect(checked).toMatchObject({ status: 'gagal', code: '02', message: 'Transaksi Gagal' });
    expect(fake.deposit).toBe(before);
  });
});

describe('an unknown outcome is pending, never gagal', () => {
  it('a timeout is pending (TIMEOUT); the purchase went through and a re-check finds it, bought once', async () => {
    const phone = newPhone();
    fake.setOutcome(phone, { rc: '00', sn: 'SN-LATE' });
    fake.delayNext(600);
    const started = Date.now();
    const { refId, result } = await buy(provider({ timeoutMs: 150 }), 'tsel10', phone);
    expect(Date.now() - started).toBeLessThan(550);
    expect(result.status).toBe('pending');
    expect(result.code).toBe('TIMEOUT');
    expect(result.message).toMatch(/status akan dicek ulang/);
    await vi.waitFor(() => expect(fake.transactions.has(refId)).toBe(true), { timeout: 2000 });
    const checked = await df.check({ refId, sku: 'tsel10', customerNo: phone });
    expect(checked).toMatchObject({ status: 'sukses', serialNumber: 'SN-LATE' });
    expect(fake.transactions.get(refId)).toMatchObject({ purchases: 1, submissions: 2 });
  });

  it('a 500, 502 or 504 is pending (HTTP_5xx), even for a customer set to fail', async () => {
    for (const status of [500, 502, 504]) {
      const phone = newPhone();
      fake.setOutcome(phone, { rc: '02' });
      fake.failNext(status);
      const { result } = await buy(df, 'tsel10', phone);
      expect(result).toMatchObject({ status: 'pending', code: `HTTP_${status}` });
    }
  });

  it('a 5xx carrying a Digiflazz body is still pending', async () => {
    fake.failNext(503, JSON.stringify({ data: { rc: '02', status: 'Gagal', message: 'Transaksi Gagal' } }));
    const { result } = await buy(df, 'tsel10', newPhone());
    expect(result).toMatchObject({ status: 'pending', code: 'HTTP_503' });
  });

  it('an unreadable body is pending, whatever the HTTP status', async () => {
    fake.failNext(200, 'not json at all');
    expect((await buy(df, 'tsel10', newPhone())).result).toMatchObject({ status: 'pending', code: 'INVALID_RESPONSE' });
    fake.failNext(200, JSON.stringify({ data: { message: 'no rc, no status' } }));
    expect((await buy(df, 'tsel10', newPhone())).result).toMatchObject({ status: 'pending', code: 'INVALID_RESPONSE' });
    fake.failNext(403, '<html>Forbidden</html>');
    expect((await buy(df, 'tsel10', newPhone())).result).toMatchObject({ status: 'pending', code: 'HTTP_403' });
  });

  it('an answer about another ref_id is pending', async () => {
    const other = async () =>
      new Response(JSON.stringify({ data: { ref_id: 'SOMEONE-ELSE', rc: '02', status: 'Gagal' } }), { status: 200 });
    const result = await provider({ fetchImpl: other }).purchase({ refId: 'MINE', sku: 'x', customerNo: '1' });
    expect(result).toMatchObject({ status: 'pending', code: 'INVALID_RESPONSE' });
  });

  it('a connection refused is pending (NETWORK)', async () => {
    const down = provider({ baseUrl: `http://127.0.0.1:${await deadPort()}` });
    const { result } = await buy(down, 'tsel10', newPhone());
    expect(result).toEqual({
      status: 'pending',
      message: 'Provider tidak dapat dihubungi; status akan dicek ulang',
      code: 'NETWORK',
    });
  });

  it('is never retried inside the adapter', async () => {
    fake.failNext(500);
    const { refId } = await buy(df, 'tsel10', newPhone());
    expect(transactionRequests(refId)).toHaveLength(1);
  });
});

describe('priceList', () => {
  it('posts cmd prepaid signed with "pricelist" and maps each product to the port’s fields', async () => {
    const { products, unreadable } = await df.priceList();
    expect(unreadable).toBe(0);
    const req = fake.requests.filter((r) => r.path === '/v1/price-list').at(-1);
    expect(req?.body).toEqual({
      cmd: 'prepaid',
      username: fake.username,
      sign: md5(`${fake.username}${fake.apiKey}pricelist`),
    });
    expect(products).toEqual(
      fake.products.map((p) => ({
        sku: p.buyer_sku_code,
        name: p.product_name,
        category: p.category,
        brand: p.brand,
        price: p.price,
        description: p.desc,
        active: p.buyer_product_status && p.seller_product_status,
      })),
    );
    expect(products.find((p) => p.sku === 'dana25')?.active).toBe(false);
    expect(products.find((p) => p.sku === 'tsel10')?.active).toBe(true);
    // Seller, stock and cut-off details stay at Digiflazz.
    for (const p of products) {
      expect(Object.keys(p).sort()).toEqual(['active', 'brand', 'category', 'description', 'name', 'price', 'sku']);
    }
  });

  it('leaves out entries it cannot read instead of failing the whole list', async () => {
    const odd = async () =>
      new Response(
        JSON.stringify({
          data: [
            { buyer_sku_code: 'ok1', product_name: 'OK', price: 1000, buyer_product_status: true },
            { product_name: 'no sku', price: 1000 },
            { buyer_sku_code: 'bad-price', price: 'abc' },
            'not an object',
          ],
        }),
        { status: 200 },
      );
    expect(await provider({ fetchImpl: odd }).priceList()).toEqual({
      products: [{ sku: 'ok1', name: 'OK', category: '', brand: '', price: 1000, description: '', active: false }],
      unreadable: 3,
    });
  });

  it('throws a clear error on a refusal, a 5xx or no answer', async () => {
    const refused = await rejection(provider({ apiKey: 'dev-wrong-key-1111' }).priceList());
    expect(refused.code).toBe('41');
    expect(refused.message).toMatch(/price list.*rc 41.*Signature Anda salah/);
    fake.failNext(502);
    expect((await rejection(df.priceList())).code).toBe('HTTP_502');
    fake.delayNext(500);
    expect((await rejection(provider({ timeoutMs: 100 }).priceList())).code).toBe('TIMEOUT');
  });
});

describe('balance', () => {
  it('posts cmd deposit signed with "depo" and returns the deposit', async () => {
    expect(await df.balance()).toBe(fake.deposit);
    const req = fake.requests.filter((r) => r.path === '/v1/cek-saldo').at(-1);
    expect(req?.body).toEqual({
      cmd: 'deposit',
      username: fake.username,
      sign: md5(`${fake.username}${fake.apiKey}depo`),
    });
  });

  it('throws on a refusal, a 5xx, a timeout or a dead host (it backs /ready)', async () => {
    expect((await rejection(provider({ apiKey: 'dev-wrong-key-2222' }).balance())).code).toBe('41');
    fake.failNext(500);
    expect((await rejection(df.balance())).code).toBe('HTTP_500');
    fake.failNext(200, '{"data":{}}');
    expect((await rejection(df.balance())).code).toBe('INVALID_RESPONSE');
    fake.delayNext(500);
    expect((await rejection(provider({ timeoutMs: 100 }).balance())).code).toBe('TIMEOUT');
    const down = provider({ baseUrl: `http://127.0.0.1:${await deadPort()}` });
    const err = await rejection(down.balance());
    expect(err.code).toBe('NETWORK');
    expect(err.message).toMatch(/ECONNREFUSED/);
  });
});

describe('readCallback', () => {
  async function webhookFor(outcome: { rc: string; sn?: string; message?: string }) {
    const phone = newPhone();
    const { refId } = await buy(df, 'pln20', phone);
    fake.finish(refId, outcome);
    const sent = await fake.sendCallback(refId, receiver.url);
    expect(sent.status).toBe(200);
    const got = receiver.received.at(-1);
    if (!got) throw new Error('the receiver got no webhook');
    return { refId, got };
  }

  it('accepts a webhook signed sha1=HMAC-SHA1(raw body) and reads it like a transaction answer', async () => {
    const { refId, got } = await webhookFor({ rc: '00', sn: '1234-5678-9012-3456-7890' });
    expect(got.headers['x-hub-signature']).toMatch(/^sha1=[0-9a-f]{40}$/);
    expect(got.headers['x-digiflazz-event']).toBe('update');
    expect(got.headers['x-digiflazz-delivery']).toMatch(/^[0-9a-f-]{36}$/);
    expect(got.headers['user-agent']).toMatch(/^DigiFlazz-Hookshot/);
    const read = df.readCallback(got.raw, got.headers);
    expect(read).toEqual({
      refId,
      result: {
        status: 'sukses',
        message: 'Transaksi Sukses',
        serialNumber: '1234-5678-9012-3456-7890',
        code: '00',
        price: 20_300,
      },
    });
    const failed = await webhookFor({ rc: '02', message: 'Transaksi Gagal' });
    expect(df.readCallback(failed.got.raw, failed.got.headers)?.result).toMatchObject({ status: 'gagal', code: '02' });
  });

  it('refuses a tampered body, a wrong secret, a missing or malformed header, and no configured secret', async () => {
    const { got } = await webhookFor({ rc: '02' });
    const tampered = Buffer.from(got.raw.toString('utf8').replace('"rc":"02"', '"rc":"00"'));
    expect(tampered.equals(got.raw)).toBe(false);
    expect(df.readCallback(tampered, got.headers)).toBeUndefined();
    expect(provider({ webhookSecret: 'another-secret' }).readCallback(got.raw, got.headers)).toBeUndefined();
    const { 'x-hub-signature': signature, ...unsigned } = got.headers;
    expect(signature).toBeDefined();
    expect(df.readCallback(got.raw, unsigned)).toBeUndefined();
    const hex = String(signature).slice('sha1='.length);
    expect(df.readCallback(got.raw, { ...unsigned, 'x-hub-signature': hex })).toBeUndefined();
    expect(df.readCallback(got.raw, { ...unsigned, 'x-hub-signature': `sha256=${hex}` })).toBeUndefined();
    expect(df.readCallback(got.raw, { ...unsigned, 'x-hub-signature': 'sha1=zz' })).toBeUndefined();
    expect(provider({ webhookSecret: undefined }).readCallback(got.raw, got.headers)).toBeUndefined();
    // The untouched webhook still passes, header names in any case.
    expect(df.readCallback(got.raw, { ...unsigned, 'X-Hub-Signature': signature })).toBeDefined();
  });

  it('refuses a validly signed body that is not a Digiflazz transaction', async () => {
    const sign = (body: Buffer) => `sha1=${createHmac('sha1', fake.webhookSecret).update(body).digest('hex')}`;
    for (const text of ['not json', '{"data":{"rc":"00"}}', '{"data":{"ref_id":"R","message":"?"}}']) {
      const body = Buffer.from(text);
      expect(df.readCallback(body, { 'x-hub-signature': sign(body) })).toBeUndefined();
    }
  });
});

describe('secrets', () => {
  it('no message the adapter produced carries the API key or a sign', async () => {
    // A provider that echoes everything it was sent, credentials included, as its message.
    const echo: typeof fetch = async (_url, init) =>
      new Response(JSON.stringify({ data: { rc: '02', message: `rejected ${fake.apiKey}: ${String(init?.body)}` } }), {
        status: 400,
      });
    const echoed = await provider({ fetchImpl: echo }).purchase({ refId: 'ECHO1', sku: 'tsel10', customerNo: '1' });
    messages.push(echoed.message);
    messages.push((await rejection(provider({ fetchImpl: echo }).balance())).message);
    messages.push((await rejection(provider({ fetchImpl: echo }).priceList())).message);
    const thrower: typeof fetch = async () => {
      throw new Error(`socket hang up while sending ${fake.apiKey}`);
    };
    messages.push((await provider({ fetchImpl: thrower }).purchase({ refId: 'X', sku: 'y', customerNo: '1' })).message);
    messages.push((await rejection(provider({ fetchImpl: thrower }).balance())).message);

    const secrets = [
      fake.apiKey,
      md5(`${fake.username}${fake.apiKey}pricelist`),
      md5(`${fake.username}${fake.apiKey}depo`),
      md5(`${fake.username}${fake.apiKey}ECHO1`),
    ];
    expect(messages.length).toBeGreaterThan(20);
    for (const message of messages) {
      for (const secret of secrets) expect(message).not.toContain(secret);
    }
    expect(echoed.message).toContain('[api key]');
    expect(echoed.message).toContain('[sign]');
  });
});
