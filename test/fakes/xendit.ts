// A fake Xendit for tests: a real HTTP server on 127.0.0.1 that speaks Xendit's wire format for QR codes (v1, and
// v2 selected by `api-version: 2022-07-31`) and invoices, checks Basic auth and required fields the way Xendit
// answers them ({error_code, message}), and sends the callbacks Xendit sends. Being a server rather than a mocked
// fetch, it exercises the adapter's real HTTP: headers, paths, timeouts, connection errors.
//
// Several businesses (Xendit accounts: one secret key and callback token each) share one fake, as several brands'
// accounts share Xendit: a request is served as the business whose key it carries, sees only that business's codes
// and invoices, and their callbacks carry that business's token.
//
// Callback targets follow Xendit: a v1 code calls back the callback_url it was created with; v2 codes and invoices
// call back the URL set in Xendit's dashboard, here `callbackUrl` / `setCallbackUrl`.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { buildQris, QRIS_MAX_AMOUNT } from '../../src/core/payments/qris.ts';
import { qrisReference } from '../../src/core/payments/simulator.ts';
import { listenLocal, readBody } from './http.ts';

export const FAKE_XENDIT_SECRET_KEY = 'xnd_development_fakeLoketKey0123456789abcdef==';
export const FAKE_XENDIT_CALLBACK_TOKEN = 'fake-xendit-callback-token';
const V2_API_VERSION = '2022-07-31';
// A v2 code created without expires_at still lapses; two days is long enough never to matter in a test.
const DEFAULT_QR_TTL_MS = 48 * 3600 * 1000;
const DEFAULT_INVOICE_DURATION_S = 24 * 3600;
const MAX_BODY_BYTES = 1024 * 1024;

/** One Xendit account: its secret key, the token its callbacks carry, and its id in bodies. */
export interface FakeBusiness {
  secretKey: string;
  callbackToken: string;
  id: string;
}

export interface FakeQrPayment {
  id: string;
  amount: number;
  /** v1 payments are COMPLETED, v2 payments SUCCEEDED. */
  status: 'COMPLETED' | 'SUCCEEDED';
  created: Date;
}

export interface FakeQrCode {
  business: FakeBusiness;
  version: 'v1' | 'v2';
  id: string;
  /** external_id (v1) or reference_id (v2). */
  reference: string;
  amount: number;
  qrString: string;
  status: 'ACTIVE' | 'INACTIVE';
  /** v1 only: where this code's payment is called back. */
  callbackUrl: string | null;
  created: Date;
  updated: Date;
  /** v2 only. */
  expiresAt: Date | null;
  payments: FakeQrPayment[];
}

export interface FakeInvoice {
  business: FakeBusiness;
  id: string;
  externalId: string;
  amount: number;
  description: string | null;
  payerEmail: string | null;
  currency: 'IDR';
  status: 'PENDING' | 'PAID' | 'SETTLED' | 'EXPIRED';
  invoiceUrl: string;
  expiryDate: Date;
  successRedirectUrl: string | null;
  failureRedirectUrl: string | null;
  created: Date;
  updated: Date;
  paidAt: Date | null;
  paidAmount: number | null;
}

export interface FakeXenditRequest {
  method: string;
  /** Path and query exactly as received, e.g. `/invoices/abc/expire!`. */
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, the raw text when it is not JSON, undefined when empty. */
  body: unknown;
}

export interface FakeXenditCallback {
  url: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
  /** The receiver's HTTP status; undefined when it could not be reached (see `error`). */
  status: number | undefined;
  error?: string;
}

export interface FakeXendit {
  url: string;
  /** The first business's key and token. */
  secretKey: string;
  callbackToken: string;
  /** Every business, the first one included. */
  businesses: FakeBusiness[];
  close(): Promise<void>;
  /** By Xendit id (`qr_…`). */
  qrCodes: Map<string, FakeQrCode>;
  /** By Xendit id. */
  invoices: Map<string, FakeInvoice>;
  requests: FakeXenditRequest[];
  /** Every callback sent, in order. */
  callbacks: FakeXenditCallback[];
  /** Pays a QR code or invoice (by Xendit id or by our reference) and sends its callback, awaiting the delivery. */
  pay(idOrReference: string, opts?: { amount?: number }): Promise<void>;
  /** Lapses a QR code (no callback, as with Xendit) or expires an invoice (EXPIRED callback). */
  expire(idOrReference: string): Promise<void>;
  /** The dashboard callback URL: where v2 QR and invoice callbacks go. */
  setCallbackUrl(url: string): void;
  /** The next request (any route) gets this answer instead; calls queue up. */
  failNext(status: number, body: { error_code: string; message: string }): void;
  /** The next request is answered only after `ms`; calls queue up. */
  delayNext(ms: number): void;
}

type Json = Record<string, unknown>;
type Answer = [status: number, body: unknown];

const err = (status: number, error_code: string, message: string, extra: Json = {}): Answer => [
  status,
  { error_code, message, ...extra },
];
const validation = (problems: string[]): Answer =>
  err(400, 'API_VALIDATION_ERROR', problems[0] ?? 'Invalid request', { errors: problems });

export async function startFakeXendit(
  opts: {
    secretKey?: string;
    callbackToken?: string;
    callbackUrl?: string;
    /** More businesses beside the first one. */
    businesses?: { secretKey: string; callbackToken: string }[];
  } = {},
): Promise<FakeXendit> {
  const secretKey = opts.secretKey ?? FAKE_XENDIT_SECRET_KEY;
  const callbackToken = opts.callbackToken ?? FAKE_XENDIT_CALLBACK_TOKEN;
  let dashboardCallbackUrl = opts.callbackUrl ?? null;
  const businesses: FakeBusiness[] = [{ secretKey, callbackToken }, ...(opts.businesses ?? [])].map((b) => ({
    ...b,
    id: randomBytes(12).toString('hex'),
  }));
  const byAuth = new Map(businesses.map((b) => [`Basic ${Buffer.from(`${b.secretKey}:`).toString('base64')}`, b]));
  const qrCodes = new Map<string, FakeQrCode>();
  const invoices = new Map<string, FakeInvoice>();
  const requests: FakeXenditRequest[] = [];
  const callbacks: FakeXenditCallback[] = [];
  const failures: { status: number; body: unknown }[] = [];
  const delays: number[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  let url = '';

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  // ---- state as Xendit shows it ----

  /** A v2 code lapses by itself at expires_at. */
  function live(qr: FakeQrCode): FakeQrCode {
    if (qr.status === 'ACTIVE' && qr.expiresAt && qr.expiresAt.getTime() <= Date.now()) {
      qr.status = 'INACTIVE';
      qr.updated = qr.expiresAt;
    }
    return qr;
  }

  function qrJson(qr: FakeQrCode): Json {
    live(qr);
    if (qr.version === 'v1') {
      return {
        id: qr.id,
        external_id: qr.reference,
        amount: qr.amount,
        qr_string: qr.qrString,
        callback_url: qr.callbackUrl,
        type: 'DYNAMIC',
        status: qr.status,
        created: qr.created.toISOString(),
        updated: qr.updated.toISOString(),
      };
    }
    return {
      id: qr.id,
      reference_id: qr.reference,
      business_id: qr.business.id,
      type: 'DYNAMIC',
      currency: 'IDR',
      amount: qr.amount,
      channel_code: 'QRIS',
      status: qr.status,
      qr_string: qr.qrString,
      expires_at: qr.expiresAt?.toISOString() ?? null,
      created: qr.created.toISOString(),
      updated: qr.updated.toISOString(),
      metadata: null,
    };
  }

  function v1PaymentJson(qr: FakeQrCode, p: FakeQrPayment): Json {
    return {
      id: p.id,
      amount: p.amount,
      created: p.created.toISOString(),
      qr_code: { id: qr.id, external_id: qr.reference, qr_string: qr.qrString, type: 'DYNAMIC' },
      status: p.status,
    };
  }

  function v2PaymentJson(qr: FakeQrCode, p: FakeQrPayment): Json {
    return {
      id: p.id,
      business_id: qr.business.id,
      currency: 'IDR',
      amount: p.amount,
      status: p.status,
      created: p.created.toISOString(),
      qr_id: qr.id,
      qr_string: qr.qrString,
      reference_id: qr.reference,
      type: 'DYNAMIC',
      channel_code: 'QRIS',
      expires_at: qr.expiresAt?.toISOString() ?? null,
      metadata: null,
      payment_detail: { receipt_id: randomBytes(6).toString('hex'), source: 'FAKE_XENDIT' },
    };
  }

  function invoiceJson(inv: FakeInvoice): Json {
    return {
      id: inv.id,
      external_id: inv.externalId,
      user_id: inv.business.id,
      status: inv.status,
      merchant_name: 'Loket Fake Merchant',
      amount: inv.amount,
      ...(inv.payerEmail === null ? {} : { payer_email: inv.payerEmail }),
      ...(inv.description === null ? {} : { description: inv.description }),
      expiry_date: inv.expiryDate.toISOString(),
      invoice_url: inv.invoiceUrl,
      currency: inv.currency,
      ...(inv.successRedirectUrl === null ? {} : { success_redirect_url: inv.successRedirectUrl }),
      ...(inv.failureRedirectUrl === null ? {} : { failure_redirect_url: inv.failureRedirectUrl }),
      ...(inv.paidAt === null
        ? {}
        : {
            paid_at: inv.paidAt.toISOString(),
            paid_amount: inv.paidAmount,
            payment_method: 'QR_CODE',
            payment_channel: 'QRIS',
          }),
      created: inv.created.toISOString(),
      updated: inv.updated.toISOString(),
    };
  }

  /** The invoice callback is the invoice itself, flat, as Xendit posts it. */
  const invoiceCallback = (inv: FakeInvoice): Json => ({ ...invoiceJson(inv), is_high: false });

  // ---- callbacks ----

  async function deliver(
    business: FakeBusiness,
    target: string | null,
    body: Json,
    extraHeaders: Record<string, string> = {},
  ) {
    if (!target) return;
    const headers = {
      'content-type': 'application/json',
      'x-callback-token': business.callbackToken,
      ...extraHeaders,
    };
    const entry: FakeXenditCallback = { url: target, headers, body, status: undefined };
    callbacks.push(entry);
    try {
      const res = await fetch(target, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(5000),
      });
      entry.status = res.status;
      await res.arrayBuffer();
    } catch (e) {
      entry.error = e instanceof Error ? e.message : String(e);
    }
  }

  /** Deliveries started by a request handler run on their own, as Xendit's do; close() waits for them. */
  function deliverLater(business: FakeBusiness, target: string | null, body: Json) {
    const p = deliver(business, target, body).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }

  function findQr(idOrReference: string): FakeQrCode | undefined {
    return qrCodes.get(idOrReference) ?? [...qrCodes.values()].find((q) => q.reference === idOrReference);
  }

  function findInvoice(idOrReference: string): FakeInvoice | undefined {
    return invoices.get(idOrReference) ?? [...invoices.values()].find((i) => i.externalId === idOrReference);
  }

  function expireInvoice(inv: FakeInvoice): boolean {
    if (inv.status !== 'PENDING') return false;
    inv.status = 'EXPIRED';
    inv.updated = new Date();
    return true;
  }

  // ---- routes ----

  function createQr(business: FakeBusiness, version: 'v1' | 'v2', body: Json): Answer {
    const problems: string[] = [];
    const refKey = version === 'v1' ? 'external_id' : 'reference_id';
    const reference = body[refKey];
    if (typeof reference !== 'string' || reference.trim() === '') problems.push(`${refKey} is required`);
    if (body.type !== 'DYNAMIC') problems.push('type must be DYNAMIC (this fake makes dynamic codes only)');
    const amount = body.amount;
    if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount < 1 || amount > QRIS_MAX_AMOUNT) {
      problems.push(`amount must be a whole number from 1 to ${QRIS_MAX_AMOUNT}`);
    }
    let callbackUrl: string | null = null;
    let expiresAt: Date | null = null;
    if (version === 'v1') {
      if (!isHttpUrl(body.callback_url)) problems.push('callback_url must be an http(s) URL');
      else callbackUrl = body.callback_url;
    } else {
      if (body.currency !== 'IDR') problems.push('currency must be IDR');
      if (body.expires_at !== undefined) {
        const at = typeof body.expires_at === 'string' ? new Date(body.expires_at) : new Date(Number.NaN);
        if (Number.isNaN(at.getTime())) problems.push('expires_at must be an ISO 8601 date');
        else if (at.getTime() <= Date.now()) problems.push('expires_at must be in the future');
        else expiresAt = at;
      }
    }
    if (problems.length > 0 || typeof reference !== 'string' || typeof amount !== 'number') {
      return validation(problems);
    }
    const duplicate = [...qrCodes.values()].some(
      (q) => q.business === business && q.version === version && q.reference === reference,
    );
    if (duplicate) return err(409, 'DUPLICATE_ERROR', `A QR code with this ${refKey} already exists`);
    const now = new Date();
    const qr: FakeQrCode = {
      business,
      version,
      id: `qr_${randomUUID()}`,
      reference,
      amount,
      qrString: buildQris({
        merchantName: 'Loket Fake Merchant',
        merchantCity: 'Jakarta',
        amount,
        reference: qrisReference(reference),
      }),
      status: 'ACTIVE',
      callbackUrl,
      created: now,
      updated: now,
      expiresAt: version === 'v2' ? (expiresAt ?? new Date(now.getTime() + DEFAULT_QR_TTL_MS)) : null,
      payments: [],
    };
    qrCodes.set(qr.id, qr);
    return [201, qrJson(qr)];
  }

  function createInvoice(business: FakeBusiness, body: Json): Answer {
    const problems: string[] = [];
    const { external_id, amount, description, payer_email, invoice_duration, currency } = body;
    if (typeof external_id !== 'string' || external_id.trim() === '') problems.push('external_id is required');
    if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount < 1) {
      problems.push('amount must be a positive whole number of rupiah');
    }
    if (description !== undefined && typeof description !== 'string') problems.push('description must be a string');
    if (
      payer_email !== undefined &&
      (typeof payer_email !== 'string' || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(payer_email))
    ) {
      problems.push('payer_email must be a valid email');
    }
    if (invoice_duration !== undefined && (!Number.isSafeInteger(invoice_duration) || Number(invoice_duration) < 1)) {
      problems.push('invoice_duration must be a positive whole number of seconds');
    }
    if (currency !== undefined && currency !== 'IDR') problems.push('currency must be IDR');
    for (const key of ['success_redirect_url', 'failure_redirect_url']) {
      if (body[key] !== undefined && !isHttpUrl(body[key])) problems.push(`${key} must be an http(s) URL`);
    }
    if (problems.length > 0 || typeof external_id !== 'string' || typeof amount !== 'number') {
      return validation(problems);
    }
    // Xendit does not require invoice external_ids to be unique, so neither does the fake.
    const now = new Date();
    const id = randomBytes(12).toString('hex');
    const duration = typeof invoice_duration === 'number' ? invoice_duration : DEFAULT_INVOICE_DURATION_S;
    const inv: FakeInvoice = {
      business,
      id,
      externalId: external_id,
      amount,
      description: typeof description === 'string' ? description : null,
      payerEmail: typeof payer_email === 'string' ? payer_email : null,
      currency: 'IDR',
      status: 'PENDING',
      invoiceUrl: `${url}/web/${id}`,
      expiryDate: new Date(now.getTime() + duration * 1000),
      successRedirectUrl: typeof body.success_redirect_url === 'string' ? body.success_redirect_url : null,
      failureRedirectUrl: typeof body.failure_redirect_url === 'string' ? body.failure_redirect_url : null,
      created: now,
      updated: now,
      paidAt: null,
      paidAmount: null,
    };
    invoices.set(id, inv);
    return [200, invoiceJson(inv)];
  }

  function route(
    business: FakeBusiness,
    method: string,
    target: URL,
    headers: IncomingHttpHeaders,
    body: unknown,
  ): Answer {
    // A business sees only its own codes and invoices.
    const ownQr = (q: FakeQrCode | undefined) => (q?.business === business ? q : undefined);
    const ownInvoice = (i: FakeInvoice | undefined) => (i?.business === business ? i : undefined);
    const parts = target.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const json: Json = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Json) : {};
    if (parts[0] === 'qr_codes') {
      const apiVersion = headers['api-version'];
      if (apiVersion !== undefined && apiVersion !== V2_API_VERSION) {
        return err(400, 'API_VALIDATION_ERROR', `Unsupported api-version '${String(apiVersion)}'`);
      }
      const version = apiVersion === V2_API_VERSION ? 'v2' : 'v1';
      if (method === 'POST' && parts.length === 1) return createQr(business, version, json);
      if (method === 'GET' && version === 'v1' && parts.length === 2 && parts[1] === 'payments') {
        const externalId = target.searchParams.get('external_id');
        if (!externalId) return validation(['external_id is required']);
        const qr = [...qrCodes.values()].find(
          (q) => q.business === business && q.version === 'v1' && q.reference === externalId,
        );
        return [200, qr ? qr.payments.map((p) => v1PaymentJson(qr, p)) : []];
      }
      if (method === 'GET' && version === 'v2' && parts.length === 3 && parts[2] === 'payments') {
        const qr = ownQr(qrCodes.get(parts[1] ?? ''));
        if (qr?.version !== 'v2') return err(404, 'DATA_NOT_FOUND', 'QR code not found');
        return [200, { data: qr.payments.map((p) => v2PaymentJson(qr, p)), has_more: false, links: [] }];
      }
      if (method === 'GET' && parts.length === 2) {
        // v1 reads a code by our external_id, v2 by Xendit's id.
        const key = parts[1] ?? '';
        const qr =
          version === 'v1'
            ? [...qrCodes.values()].find((q) => q.business === business && q.version === 'v1' && q.reference === key)
            : [ownQr(qrCodes.get(key))].find((q) => q?.version === 'v2');
        return qr ? [200, qrJson(qr)] : err(404, 'DATA_NOT_FOUND', 'QR code not found');
      }
    }
    if (parts[0] === 'v2' && parts[1] === 'invoices') {
      if (method === 'POST' && parts.length === 2) return createInvoice(business, json);
      if (method === 'GET' && parts.length === 3) {
        const inv = ownInvoice(invoices.get(parts[2] ?? ''));
        return inv ? [200, invoiceJson(inv)] : err(404, 'INVOICE_NOT_FOUND_ERROR', 'Invoice not found');
      }
    }
    if (method === 'POST' && parts[0] === 'invoices' && parts.length === 3 && parts[2] === 'expire!') {
      const inv = ownInvoice(invoices.get(parts[1] ?? ''));
      if (!inv) return err(404, 'INVOICE_NOT_FOUND_ERROR', 'Invoice not found');
      if (expireInvoice(inv)) deliverLater(inv.business, dashboardCallbackUrl, invoiceCallback(inv));
      return [200, invoiceJson(inv)];
    }
    return err(404, 'NOT_FOUND', `No route ${method} ${target.pathname}`);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const raw = await readBody(req, MAX_BODY_BYTES);
    let body: unknown;
    let badJson = false;
    if (raw === null) {
      badJson = true;
    } else if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
        badJson = true;
      }
    }
    const method = req.method ?? 'GET';
    requests.push({ method, path: req.url ?? '/', headers: req.headers, body });
    // Both are claimed on arrival, so a request still sleeping cannot take a failure meant for a later one.
    const delay = delays.shift();
    const failure = failures.shift();
    if (delay !== undefined) await sleep(delay);
    let answer: Answer;
    const business = byAuth.get(req.headers.authorization ?? '');
    if (failure) answer = [failure.status, failure.body];
    else if (!business) {
      answer = err(401, 'INVALID_API_KEY', 'API key is invalid or missing; send it as the Basic auth user name');
    } else if (badJson) answer = validation(['Request body is not valid JSON']);
    else answer = route(business, method, new URL(req.url ?? '/', 'http://fake.invalid'), req.headers, body);
    // The client may have given up (timeout) while the answer was delayed; the work above still happened, as it
    // would at Xendit.
    if (res.destroyed || res.socket === null || res.socket.destroyed) return;
    const text = JSON.stringify(answer[1]);
    res.writeHead(answer[0], { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error_code: 'SERVER_ERROR', message: String(e) }));
      }
    });
  });
  url = await listenLocal(server);

  return {
    url,
    secretKey,
    callbackToken,
    businesses,
    qrCodes,
    invoices,
    requests,
    callbacks,

    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled([...inFlight]);
    },

    async pay(idOrReference, payOpts = {}) {
      const qr = findQr(idOrReference);
      if (qr) {
        if (live(qr).status !== 'ACTIVE') throw new Error(`fake Xendit: QR code ${qr.id} is INACTIVE (paid or lapsed)`);
        const now = new Date();
        const payment: FakeQrPayment = {
          id: `qrpy_${randomUUID()}`,
          amount: payOpts.amount ?? qr.amount,
          status: qr.version === 'v1' ? 'COMPLETED' : 'SUCCEEDED',
          created: now,
        };
        qr.payments.push(payment);
        // A dynamic code takes one payment.
        qr.status = 'INACTIVE';
        qr.updated = now;
        if (qr.version === 'v1') {
          await deliver(qr.business, qr.callbackUrl, { event: 'qr.payment', ...v1PaymentJson(qr, payment) });
        } else {
          await deliver(
            qr.business,
            dashboardCallbackUrl,
            {
              event: 'qr.payment',
              api_version: V2_API_VERSION,
              business_id: qr.business.id,
              created: now.toISOString(),
              data: v2PaymentJson(qr, payment),
            },
            { 'webhook-id': randomUUID() },
          );
        }
        return;
      }
      const inv = findInvoice(idOrReference);
      if (inv) {
        if (inv.status !== 'PENDING') throw new Error(`fake Xendit: invoice ${inv.id} is ${inv.status}`);
        const now = new Date();
        inv.status = 'PAID';
        inv.paidAt = now;
        inv.paidAmount = payOpts.amount ?? inv.amount;
        inv.updated = now;
        await deliver(inv.business, dashboardCallbackUrl, invoiceCallback(inv));
        return;
      }
      throw new Error(`fake Xendit: no QR code or invoice with id or reference '${idOrReference}'`);
    },

    async expire(idOrReference) {
      const qr = findQr(idOrReference);
      if (qr) {
        if (qr.status === 'ACTIVE') {
          const now = new Date();
          qr.status = 'INACTIVE';
          qr.expiresAt = now;
          qr.updated = now;
        }
        return;
      }
      const inv = findInvoice(idOrReference);
      if (!inv) throw new Error(`fake Xendit: no QR code or invoice with id or reference '${idOrReference}'`);
      if (expireInvoice(inv)) await deliver(inv.business, dashboardCallbackUrl, invoiceCallback(inv));
    },

    setCallbackUrl(next) {
      dashboardCallbackUrl = next;
    },
    failNext(status, body) {
      failures.push({ status, body });
    },
    delayNext(ms) {
      delays.push(ms);
    },
  };
}

function isHttpUrl(v: unknown): v is string {
  if (typeof v !== 'string') return false;
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}
