// The Xendit adapter against a fake Xendit that is a real HTTP server: no mocked fetch, so headers, paths, Basic
// auth, timeouts and connection failures are the real thing. Callbacks are captured by a small HTTP receiver.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readCallback } from '../src/core/payments/callbacks.ts';
import { GatewayError, type PaymentGateway } from '../src/core/payments/gateway.ts';
import { parseQris } from '../src/core/payments/qris.ts';
import { createXenditGateway } from '../src/core/payments/xendit.ts';
import { type FakeXendit, startFakeXendit } from './fakes/xendit.ts';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** Listens on 127.0.0.1 and keeps every callback it gets. */
async function startReceiver() {
  const received: Received[] = [];
  const server: Server = createServer(async (req, res) => {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    received.push({ path: req.url ?? '/', headers: req.headers, body: JSON.parse(text) as Record<string, unknown> });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
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

async function gatewayError(promise: Promise<unknown>): Promise<GatewayError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  return err as GatewayError;
}

const ref = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex').toUpperCase()}`;
const inMinutes = (m: number) => new Date(Date.now() + m * 60_000);

let fake: FakeXendit;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let v1: PaymentGateway;
let v2: PaymentGateway;
const errors: GatewayError[] = [];

const gateway = (qrApiVersion: 'v1' | 'v2', over: { secretKey?: string; timeoutMs?: number; baseUrl?: string } = {}) =>
  createXenditGateway({
    secretKey: over.secretKey ?? fake.secretKey,
    baseUrl: over.baseUrl ?? `${fake.url}/`,
    qrApiVersion,
    timeoutMs: over.timeoutMs ?? 2000,
  });

const sent = (method: string, pathStart: string) =>
  fake.requests.filter((r) => r.method === method && r.path.startsWith(pathStart));

beforeAll(async () => {
  receiver = await startReceiver();
  fake = await startFakeXendit({ callbackToken: 'tok-for-tests' });
  fake.setCallbackUrl(`${receiver.url}/dashboard-callback`);
  v1 = gateway('v1');
  v2 = gateway('v2');
});

afterAll(async () => {
  await fake.close();
  await receiver.close();
  // Whatever went wrong in this file, no error message gave the key away.
  for (const e of errors) expect(e.message).not.toContain(fake.secretKey);
});

beforeEach(() => {
  fake.requests.length = 0;
  receiver.received.length = 0;
});

describe('QR codes v1 (legacy)', () => {
  it('creates a dynamic code with callback_url and reads it PENDING, then COMPLETED once paid', async () => {
    const reference = ref('V1');
    const qr = await v1.createQr({
      reference,
      amount: 25_000,
      expiresAt: inMinutes(15),
      callbackUrl: `${receiver.url}/v1-callback`,
    });
    expect(qr).toMatchObject({ reference, amount: 25_000, status: 'PENDING', paidAt: null, paymentId: null });
    expect(qr.providerId).toMatch(/^qr_/);
    expect(parseQris(qr.qrString)).toMatchObject({ valid: true, amount: 25_000, pointOfInitiation: 'dynamic' });

    const [create] = sent('POST', '/qr_codes');
    expect(create?.path).toBe('/qr_codes');
    expect(create?.body).toEqual({
      external_id: reference,
      type: 'DYNAMIC',
      callback_url: `${receiver.url}/v1-callback`,
      amount: 25_000,
    });
    expect(create?.headers['api-version']).toBeUndefined();

    expect(await v1.getQr({ providerId: qr.providerId, reference })).toMatchObject({ status: 'PENDING' });
    await fake.pay(reference);
    const paid = await v1.getQr({ providerId: qr.providerId, reference });
    expect(paid.status).toBe('COMPLETED');
    expect(paid.paidAt).toBeInstanceOf(Date);
    expect(paid.paymentId).toMatch(/^qrpy_/);
    // v1 reads the code by our external_id and its payments by query.
    expect(sent('GET', '/qr_codes').map((r) => r.path)).toEqual(
      expect.arrayContaining([`/qr_codes/${reference}`, `/qr_codes/payments?external_id=${reference}`]),
    );

    // The callback went to the code's own callback_url, in the v1 shape.
    expect(receiver.received).toHaveLength(1);
    const cb = receiver.received[0] as Received;
    expect(cb.path).toBe('/v1-callback');
    expect(cb.headers['x-callback-token']).toBe('tok-for-tests');
    expect(cb.body).toEqual({
      event: 'qr.payment',
      id: paid.paymentId,
      amount: 25_000,
      created: (paid.paidAt as Date).toISOString(),
      qr_code: { id: qr.providerId, external_id: reference, qr_string: qr.qrString, type: 'DYNAMIC' },
      status: 'COMPLETED',
    });
    expect(readCallback(cb.body)).toMatchObject({ shape: 'qr.v1', reference, status: 'COMPLETED', amount: 25_000 });
  });
});

describe('QR codes v2 (api-version 2022-07-31)', () => {
  it('sends api-version, IDR, reference_id, expires_at and Basic auth with the key as user and no password', async () => {
    const reference = ref('V2');
    const expiresAt = inMinutes(10);
    const qr = await v2.createQr({ reference, amount: 15_000, expiresAt, callbackUrl: 'https://ignored.example' });
    expect(qr).toMatchObject({ reference, amount: 15_000, status: 'PENDING', expiresAt, paymentId: null });
    expect(qr.providerId).toMatch(/^qr_/);
    expect(parseQris(qr.qrString).valid).toBe(true);

    const [create] = sent('POST', '/qr_codes');
    expect(create?.headers['api-version']).toBe('2022-07-31');
    expect(create?.headers['idempotency-key']).toBe(reference);
    expect(create?.headers['content-type']).toBe('application/json');
    expect(create?.body).toEqual({
      reference_id: reference,
      type: 'DYNAMIC',
      currency: 'IDR',
      amount: 15_000,
      expires_at: expiresAt.toISOString(),
    });
    const auth = create?.headers.authorization ?? '';
    expect(auth).toMatch(/^Basic /);
    expect(Buffer.from(auth.slice('Basic '.length), 'base64').toString('utf8')).toBe(`${fake.secretKey}:`);
  });

  it('reads PENDING, then COMPLETED after a payment, and the callback has the v2 shape and headers', async () => {
    const reference = ref('V2');
    const qr = await v2.createQr({ reference, amount: 42_000, expiresAt: inMinutes(10), callbackUrl: 'x' });
    expect(await v2.getQr({ providerId: qr.providerId, reference })).toMatchObject({ status: 'PENDING' });

    await fake.pay(qr.providerId);
    const paid = await v2.getQr({ providerId: qr.providerId, reference });
    expect(paid).toMatchObject({ status: 'COMPLETED', reference, amount: 42_000 });
    expect(paid.paidAt).toBeInstanceOf(Date);
    const gets = sent('GET', '/qr_codes');
    expect(gets.map((r) => r.path)).toEqual(
      expect.arrayContaining([`/qr_codes/${qr.providerId}`, `/qr_codes/${qr.providerId}/payments`]),
    );
    for (const g of gets) expect(g.headers['api-version']).toBe('2022-07-31');

    expect(receiver.received).toHaveLength(1);
    const cb = receiver.received[0] as Received;
    expect(cb.path).toBe('/dashboard-callback');
    expect(cb.headers['x-callback-token']).toBe('tok-for-tests');
    expect(cb.headers['webhook-id']).toEqual(expect.any(String));
    expect(cb.body).toMatchObject({
      event: 'qr.payment',
      business_id: expect.any(String),
      created: expect.any(String),
      data: {
        id: paid.paymentId,
        business_id: cb.body.business_id,
        currency: 'IDR',
        amount: 42_000,
        status: 'SUCCEEDED',
        created: (paid.paidAt as Date).toISOString(),
        qr_id: qr.providerId,
        reference_id: reference,
        type: 'DYNAMIC',
        channel_code: 'QRIS',
        expires_at: (qr.expiresAt as Date).toISOString(),
      },
    });
    expect(readCallback(cb.body)).toMatchObject({ shape: 'qr.v2', reference, status: 'COMPLETED', amount: 42_000 });
  });

  it('reads an unpaid code past its expiry as EXPIRED', async () => {
    const reference = ref('V2');
    const qr = await v2.createQr({ reference, amount: 5_000, expiresAt: inMinutes(10), callbackUrl: 'x' });
    await fake.expire(qr.providerId);
    expect(await v2.getQr({ providerId: qr.providerId, reference })).toMatchObject({
      status: 'EXPIRED',
      paidAt: null,
      paymentId: null,
    });
    // Lapsing sends nothing, as with Xendit; Loket's own clock expires the payment.
    expect(receiver.received).toHaveLength(0);
  });
});

describe('invoices', () => {
  it('creates, reads, and reads PAID after payment with the flat invoice callback', async () => {
    const reference = ref('INV');
    const before = Date.now();
    const inv = await v1.createInvoice({
      reference,
      amount: 150_000,
      description: 'Paket internet Januari',
      payerEmail: 'pelanggan@example.com',
      durationSeconds: 3600,
      successRedirectUrl: 'https://loket.example/ok',
    });
    expect(inv).toMatchObject({ reference, amount: 150_000, status: 'PENDING', paidAt: null, paidAmount: null });
    expect(inv.invoiceUrl).toMatch(/^http/);
    const expiry = (inv.expiresAt as Date).getTime();
    expect(expiry).toBeGreaterThanOrEqual(before + 3600_000 - 1000);
    expect(expiry).toBeLessThanOrEqual(Date.now() + 3600_000 + 1000);

    const [create] = sent('POST', '/v2/invoices');
    expect(create?.body).toEqual({
      external_id: reference,
      amount: 150_000,
      description: 'Paket internet Januari',
      payer_email: 'pelanggan@example.com',
      invoice_duration: 3600,
      currency: 'IDR',
      success_redirect_url: 'https://loket.example/ok',
    });

    expect(await v1.getInvoice(inv.providerId)).toMatchObject({ status: 'PENDING' });
    await fake.pay(reference);
    const paid = await v1.getInvoice(inv.providerId);
    expect(paid).toMatchObject({ status: 'PAID', paidAmount: 150_000 });
    expect(paid.paidAt).toBeInstanceOf(Date);
    expect(sent('GET', `/v2/invoices/${inv.providerId}`)).toHaveLength(2);

    expect(receiver.received).toHaveLength(1);
    const cb = receiver.received[0] as Received;
    expect(cb.headers['x-callback-token']).toBe('tok-for-tests');
    expect(cb.body).toMatchObject({
      id: inv.providerId,
      external_id: reference,
      user_id: expect.any(String),
      status: 'PAID',
      amount: 150_000,
      paid_amount: 150_000,
      paid_at: (paid.paidAt as Date).toISOString(),
      payer_email: 'pelanggan@example.com',
      description: 'Paket internet Januari',
      currency: 'IDR',
      payment_method: 'QR_CODE',
    });
    expect(readCallback(cb.body)).toMatchObject({ shape: 'invoice', reference, status: 'COMPLETED', amount: 150_000 });
  });

  it('expires through POST /invoices/{id}/expire! and Xendit calls back EXPIRED', async () => {
    const reference = ref('INV');
    const inv = await v1.createInvoice({
      reference,
      amount: 20_000,
      description: 'Token listrik',
      durationSeconds: 600,
    });
    const expired = await v1.expireInvoice(inv.providerId);
    expect(expired).toMatchObject({ providerId: inv.providerId, status: 'EXPIRED', paidAt: null });
    expect(sent('POST', '/invoices/').map((r) => r.path)).toEqual([`/invoices/${inv.providerId}/expire!`]);
    // Expiring again is harmless, which is why the adapter may repeat it.
    expect(await v1.expireInvoice(inv.providerId)).toMatchObject({ status: 'EXPIRED' });

    await expect.poll(() => receiver.received.length).toBe(1);
    const cb = receiver.received[0] as Received;
    expect(cb.headers['x-callback-token']).toBe('tok-for-tests');
    expect(cb.body).toMatchObject({ id: inv.providerId, external_id: reference, status: 'EXPIRED', amount: 20_000 });
    expect(readCallback(cb.body)).toMatchObject({ shape: 'invoice', reference, status: 'EXPIRED' });
  });
});

describe('errors', () => {
  it('turns a 400 validation error into GatewayError with the provider code and status', async () => {
    const e = await gatewayError(
      v2.createQr({ reference: ref('BAD'), amount: 0, expiresAt: inMinutes(5), callbackUrl: 'x' }),
    );
    errors.push(e);
    expect(e).toMatchObject({ providerCode: 'API_VALIDATION_ERROR', httpStatus: 400, retryable: false });
    expect(e.message).toMatch(/^Xendit refused the request \(API_VALIDATION_ERROR\): .*amount/);
  });

  it('turns a wrong key into 401 INVALID_API_KEY without repeating the key', async () => {
    const wrongKey = 'xnd_development_WRONG_key_that_must_not_leak';
    const e = await gatewayError(gateway('v1', { secretKey: wrongKey }).getInvoice('abc'));
    errors.push(e);
    expect(e).toMatchObject({ providerCode: 'INVALID_API_KEY', httpStatus: 401, retryable: false });
    expect(e.message).not.toContain(wrongKey);
    // A client error is not retried, even on a read.
    expect(sent('GET', '/v2/invoices/abc')).toHaveLength(1);
  });

  it('turns a duplicate reference into 409 DUPLICATE_ERROR', async () => {
    const reference = ref('DUP');
    const req = { reference, amount: 10_000, expiresAt: inMinutes(5), callbackUrl: 'x' };
    await v2.createQr(req);
    const e = await gatewayError(v2.createQr(req));
    errors.push(e);
    expect(e).toMatchObject({ providerCode: 'DUPLICATE_ERROR', httpStatus: 409, retryable: false });
    expect(e.message).toContain('Xendit refused the request (DUPLICATE_ERROR)');
  });

  it('turns an unknown invoice into 404 INVOICE_NOT_FOUND_ERROR', async () => {
    const e = await gatewayError(v1.getInvoice('000000000000000000000000'));
    errors.push(e);
    expect(e).toMatchObject({ providerCode: 'INVOICE_NOT_FOUND_ERROR', httpStatus: 404, retryable: false });
  });

  it('removes the secret key even when Xendit echoes it back', async () => {
    fake.failNext(400, { error_code: 'API_VALIDATION_ERROR', message: `bad key ${fake.secretKey} in request` });
    const e = await gatewayError(v1.getInvoice('x'));
    errors.push(e);
    expect(e.message).not.toContain(fake.secretKey);
    expect(e.message).toContain('[secret key]');
  });

  it('turns a slow create into TIMEOUT and does not send it again', async () => {
    const slow = gateway('v2', { timeoutMs: 150 });
    fake.delayNext(600);
    const e = await gatewayError(
      slow.createQr({ reference: ref('SLOW'), amount: 9_000, expiresAt: inMinutes(5), callbackUrl: 'x' }),
    );
    errors.push(e);
    expect(e).toMatchObject({ providerCode: 'TIMEOUT', httpStatus: undefined, retryable: false });
    expect(e.message).toContain('150 ms');
    expect(sent('POST', '/qr_codes')).toHaveLength(1);
  });

  it('repeats a read that timed out', async () => {
    const inv = await v1.createInvoice({ reference: ref('INV'), amount: 1_000, description: 'x', durationSeconds: 60 });
    const slow = gateway('v1', { timeoutMs: 150 });
    fake.delayNext(600);
    expect(await slow.getInvoice(inv.providerId)).toMatchObject({ providerId: inv.providerId, status: 'PENDING' });
    expect(sent('GET', `/v2/invoices/${inv.providerId}`)).toHaveLength(2);
  });

  it('does not repeat a create after a 5xx', async () => {
    fake.failNext(503, { error_code: 'SERVER_ERROR', message: 'Service temporarily unavailable' });
    const e = await gatewayError(
      v1.createInvoice({ reference: ref('INV'), amount: 5_000, description: 'x', durationSeconds: 60 }),
    );
    errors.push(e);
    expect(e).toMatchObject({ providerCode: 'SERVER_ERROR', httpStatus: 503, retryable: false });
    expect(sent('POST', '/v2/invoices')).toHaveLength(1);
  });

  it('repeats a read after one 503 and succeeds', async () => {
    const inv = await v1.createInvoice({ reference: ref('INV'), amount: 5_000, description: 'x', durationSeconds: 60 });
    fake.failNext(503, { error_code: 'SERVER_ERROR', message: 'Service temporarily unavailable' });
    expect(await v1.getInvoice(inv.providerId)).toMatchObject({ status: 'PENDING' });
    expect(sent('GET', `/v2/invoices/${inv.providerId}`)).toHaveLength(2);
  });

  it('gives up on a read after two retries and says it may be retried', async () => {
    for (let i = 0; i < 3; i++) fake.failNext(502, { error_code: 'SERVER_ERROR', message: 'Bad gateway' });
    const e = await gatewayError(v1.getInvoice('abc'));
    errors.push(e);
    expect(e).toMatchObject({ providerCode: 'SERVER_ERROR', httpStatus: 502, retryable: true });
    expect(sent('GET', '/v2/invoices/abc')).toHaveLength(3);
  });

  it('turns an unreachable Xendit into NETWORK_ERROR', async () => {
    const down = gateway('v2', { baseUrl: `http://127.0.0.1:${await deadPort()}` });
    const create = await gatewayError(
      down.createQr({ reference: ref('DOWN'), amount: 1_000, expiresAt: inMinutes(5), callbackUrl: 'x' }),
    );
    const read = await gatewayError(down.getInvoice('abc'));
    errors.push(create, read);
    expect(create).toMatchObject({ providerCode: 'NETWORK_ERROR', httpStatus: undefined, retryable: false });
    expect(read).toMatchObject({ providerCode: 'NETWORK_ERROR', retryable: true });
    expect(read.message).toContain('ECONNREFUSED');
  });
});
