// The Xendit adapter: QR codes (legacy v1, or v2 selected by `api-version: 2022-07-31`) and hosted invoices over
// Xendit's HTTP API, in the wire formats of Xendit's API reference and its SDKs (xendit-node, xendit-go,
// xendit-python). Every call has a timeout. Only calls that cannot create anything are retried by themselves, so a
// slow or flaky network never leaves two QR codes or two invoices behind one payment.

import { isObject, type Json, networkCause, parseJson } from '../http/outbound.ts';
import type {
  Invoice,
  InvoiceRequest,
  InvoiceStatus,
  PaymentGateway,
  QrPayment,
  QrPaymentRequest,
  QrStatus,
} from './gateway.ts';
import { GatewayError } from './gateway.ts';

export const XENDIT_BASE_URL = 'https://api.xendit.co';
/** The `api-version` header value that selects QR Codes v2 (reference_id, expires_at, SUCCEEDED payments). */
export const XENDIT_QR_V2_API_VERSION = '2022-07-31';

export interface XenditGatewayOptions {
  secretKey: string;
  /** Default https://api.xendit.co; trailing slashes are dropped. */
  baseUrl?: string;
  qrApiVersion: 'v1' | 'v2';
  /** Limit of each attempt, body included. */
  timeoutMs: number;
  fetchImpl?: typeof fetch;
}

// Pauses before the second and third attempt of a safe call: long enough for a blip to pass, short enough that a
// status read is not held up for long.
const RETRY_DELAYS_MS = [100, 300];

const INVOICE_STATUSES: readonly InvoiceStatus[] = ['PENDING', 'PAID', 'SETTLED', 'EXPIRED'];

interface Call {
  method: 'GET' | 'POST';
  path: string;
  body?: Json;
  headers?: Record<string, string>;
  /** Repeating the call cannot create or charge anything twice (reads, expiring an invoice). */
  safe: boolean;
}

export function createXenditGateway(opts: XenditGatewayOptions): PaymentGateway {
  if (!opts.secretKey) throw new Error('createXenditGateway needs a secret key');
  const baseUrl = (opts.baseUrl ?? XENDIT_BASE_URL).replace(/\/+$/, '');
  const doFetch = opts.fetchImpl ?? fetch;
  // Xendit authenticates with HTTP Basic: the secret key is the user name and the password is empty.
  const basic = Buffer.from(`${opts.secretKey}:`).toString('base64');
  const v2 = opts.qrApiVersion === 'v2';
  const qrHeaders: Record<string, string> = v2 ? { 'api-version': XENDIT_QR_V2_API_VERSION } : {};

  // Belt and braces: a provider message or a low-level error could echo the credentials back, and these messages
  // end up in logs and in the payment's failure reason.
  const scrub = (text: string) => text.split(opts.secretKey).join('[secret key]').split(basic).join('[credentials]');

  const fail = (message: string, providerCode: string, safe: boolean, transient: boolean, httpStatus?: number) =>
    new GatewayError(scrub(message), { providerCode, httpStatus, retryable: safe && transient });

  async function attempt(call: Call): Promise<unknown> {
    const what = `${call.method} ${call.path}`;
    let status: number;
    let statusText: string;
    let text: string;
    try {
      const res = await doFetch(`${baseUrl}${call.path}`, {
        method: call.method,
        headers: {
          authorization: `Basic ${basic}`,
          accept: 'application/json',
          ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...call.headers,
        },
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        signal: AbortSignal.timeout(opts.timeoutMs),
      });
      status = res.status;
      statusText = res.statusText;
      text = await res.text();
    } catch (err) {
      if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
        throw fail(`Xendit did not answer ${what} within ${opts.timeoutMs} ms`, 'TIMEOUT', call.safe, true);
      }
      throw fail(`Could not reach Xendit for ${what}: ${networkCause(err)}`, 'NETWORK_ERROR', call.safe, true);
    }
    const json = parseJson(text);
    if (status < 200 || status > 299) {
      const body = isObject(json) ? json : {};
      const code = typeof body.error_code === 'string' && body.error_code ? body.error_code : `HTTP_${status}`;
      const detail = typeof body.message === 'string' && body.message ? body.message : statusText || 'no message';
      // 5xx and 429 say nothing about the request itself, so they are worth repeating when repeating is safe.
      const transient = status >= 500 || status === 429;
      const message = transient
        ? `Xendit failed on ${what} (HTTP ${status}, ${code}): ${detail}`
        : `Xendit refused the request (${code}): ${detail}`;
      throw fail(message, code, call.safe, transient, status);
    }
    if (json === undefined) throw invalid(what, 'not JSON');
    return json;
  }

  async function request(call: Call): Promise<unknown> {
    for (let tries = 0; ; tries++) {
      try {
        return await attempt(call);
      } catch (err) {
        const delay = RETRY_DELAYS_MS[tries];
        if (!(err instanceof GatewayError) || !err.retryable || delay === undefined) throw err;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  const seg = (value: string) => encodeURIComponent(value);

  async function readQrV1(reference: string): Promise<QrPayment> {
    const codePath = `/qr_codes/${seg(reference)}`;
    const paymentsPath = `/qr_codes/payments?external_id=${seg(reference)}`;
    const [code, payments] = await Promise.all([
      request({ method: 'GET', path: codePath, safe: true }),
      request({ method: 'GET', path: paymentsPath, safe: true }),
    ]);
    return qrFromV1(code, listOf(payments, `GET ${paymentsPath}`), `GET ${codePath}`);
  }

  async function readQrV2(providerId: string): Promise<QrPayment> {
    const codePath = `/qr_codes/${seg(providerId)}`;
    const paymentsPath = `/qr_codes/${seg(providerId)}/payments`;
    const [code, payments] = await Promise.all([
      request({ method: 'GET', path: codePath, headers: qrHeaders, safe: true }),
      request({ method: 'GET', path: paymentsPath, headers: qrHeaders, safe: true }),
    ]);
    return qrFromV2(code, listOf(payments, `GET ${paymentsPath}`), `GET ${codePath}`, new Date());
  }

  return {
    name: 'xendit',

    async createQr(req: QrPaymentRequest) {
      if (!v2) {
        const body = await request({
          method: 'POST',
          path: '/qr_codes',
          body: { external_id: req.reference, type: 'DYNAMIC', callback_url: req.callbackUrl, amount: req.amount },
          safe: false,
        });
        return qrFromV1(body, [], 'POST /qr_codes');
      }
      const body = await request({
        method: 'POST',
        path: '/qr_codes',
        // The reference doubles as idempotency key (Xendit's header name, as its SDKs send it): an operator who
        // repeats a create that timed out gets the first code back instead of a second one.
        headers: { ...qrHeaders, 'idempotency-key': req.reference },
        body: {
          reference_id: req.reference,
          type: 'DYNAMIC',
          currency: 'IDR',
          amount: req.amount,
          expires_at: req.expiresAt.toISOString(),
        },
        safe: false,
      });
      return qrFromV2(body, [], 'POST /qr_codes', new Date());
    },

    // v1 addresses a code by our external_id, v2 by Xendit's own id.
    getQr: (ids) => (v2 ? readQrV2(ids.providerId) : readQrV1(ids.reference)),

    // Xendit's QR Codes API (v1 and v2) has no call that deactivates a dynamic code: it stays payable until it
    // lapses. Closing is therefore a fresh read (a code already paid must not be cancelled) and `closed: false`;
    // the payments core turns a payment that still arrives into a late payment to refund.
    async closeQr(ids) {
      return { qr: await (v2 ? readQrV2(ids.providerId) : readQrV1(ids.reference)), closed: false };
    },

    async createInvoice(req: InvoiceRequest) {
      const body = await request({
        method: 'POST',
        path: '/v2/invoices',
        body: {
          external_id: req.reference,
          amount: req.amount,
          description: req.description,
          invoice_duration: req.durationSeconds,
          currency: 'IDR',
          ...(req.payerEmail === undefined ? {} : { payer_email: req.payerEmail }),
          ...(req.successRedirectUrl === undefined ? {} : { success_redirect_url: req.successRedirectUrl }),
          ...(req.failureRedirectUrl === undefined ? {} : { failure_redirect_url: req.failureRedirectUrl }),
        },
        safe: false,
      });
      return invoiceFrom(body, 'POST /v2/invoices');
    },

    async getInvoice(providerId) {
      const path = `/v2/invoices/${seg(providerId)}`;
      return invoiceFrom(await request({ method: 'GET', path, safe: true }), `GET ${path}`);
    },

    async expireInvoice(providerId) {
      // The `!` is part of Xendit's path. Expiring twice leaves the invoice expired, so this may be repeated.
      const path = `/invoices/${seg(providerId)}/expire!`;
      return invoiceFrom(await request({ method: 'POST', path, safe: true }), `POST ${path}`);
    },
  };
}

function qrFromV1(raw: unknown, payments: Json[], what: string): QrPayment {
  const code = asObject(raw, what);
  const reference = reqString(code, 'external_id', what);
  // A v1 payment's qr_code names the code it paid; anything listed for another reference is not ours.
  const paid = payments.find((p) => {
    const qr = isObject(p.qr_code) ? p.qr_code : undefined;
    return p.status === 'COMPLETED' && (qr?.external_id === undefined || qr.external_id === reference);
  });
  return {
    providerId: reqString(code, 'id', what),
    reference,
    amount: reqAmount(code, 'amount', what),
    qrString: reqString(code, 'qr_string', what),
    // v1 codes carry no expiry of their own; Loket's clock lapses them.
    status: qrStatus(reqCodeStatus(code, what), paid !== undefined, null, new Date()),
    expiresAt: optDate(code, 'expires_at', what),
    paidAt: paid ? reqDate(paid, 'created', `${what} payment`) : null,
    paymentId: paid ? reqString(paid, 'id', `${what} payment`) : null,
  };
}

function qrFromV2(raw: unknown, payments: Json[], what: string, now: Date): QrPayment {
  const code = asObject(raw, what);
  const expiresAt = optDate(code, 'expires_at', what);
  const paid = payments.find((p) => p.status === 'SUCCEEDED');
  return {
    providerId: reqString(code, 'id', what),
    reference: reqString(code, 'reference_id', what),
    amount: reqAmount(code, 'amount', what),
    qrString: reqString(code, 'qr_string', what),
    status: qrStatus(reqCodeStatus(code, what), paid !== undefined, expiresAt, now),
    expiresAt,
    paidAt: paid ? reqDate(paid, 'created', `${what} payment`) : null,
    paymentId: paid ? reqString(paid, 'id', `${what} payment`) : null,
  };
}

function qrStatus(codeStatus: 'ACTIVE' | 'INACTIVE', paid: boolean, expiresAt: Date | null, now: Date): QrStatus {
  if (paid) return 'COMPLETED';
  // Xendit deactivates a dynamic code once it is paid, and the payment can be listed a moment later. So an
  // INACTIVE code without a payment counts as expired only after its expiry; until then the next read settles it.
  if (codeStatus === 'INACTIVE' && expiresAt !== null && expiresAt.getTime() <= now.getTime()) return 'EXPIRED';
  return 'PENDING';
}

function invoiceFrom(raw: unknown, what: string): Invoice {
  const inv = asObject(raw, what);
  const status = reqString(inv, 'status', what);
  const known = INVOICE_STATUSES.find((s) => s === status);
  if (!known) throw invalid(what, `unknown invoice status '${status}'`);
  return {
    providerId: reqString(inv, 'id', what),
    reference: reqString(inv, 'external_id', what),
    amount: reqAmount(inv, 'amount', what),
    status: known,
    invoiceUrl: reqString(inv, 'invoice_url', what),
    expiresAt: optDate(inv, 'expiry_date', what),
    paidAt: optDate(inv, 'paid_at', what),
    paidAmount: inv.paid_amount === undefined || inv.paid_amount === null ? null : reqAmount(inv, 'paid_amount', what),
  };
}

// ---- reading Xendit's answers strictly: a surprise becomes a clear error, not a wrong payment status ----

function invalid(what: string, detail: string): GatewayError {
  return new GatewayError(`Xendit answered ${what} with an unexpected body: ${detail}`, {
    providerCode: 'INVALID_RESPONSE',
    retryable: false,
  });
}

function asObject(v: unknown, what: string): Json {
  if (!isObject(v)) throw invalid(what, 'not a JSON object');
  return v;
}

/** v1 lists payments as a bare array, v2 as `{data: [...], has_more}`; either is accepted. */
function listOf(v: unknown, what: string): Json[] {
  const list = Array.isArray(v) ? v : isObject(v) && Array.isArray(v.data) ? v.data : undefined;
  if (!list) throw invalid(what, 'not a list of payments');
  return list.map((item) => asObject(item, what));
}

function reqString(o: Json, key: string, what: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v === '') throw invalid(what, `no string '${key}'`);
  return v;
}

function reqCodeStatus(o: Json, what: string): 'ACTIVE' | 'INACTIVE' {
  const v = o.status;
  if (v !== 'ACTIVE' && v !== 'INACTIVE') throw invalid(what, `unknown QR code status '${String(v)}'`);
  return v;
}

/** Rupiah have no minor unit, so an amount must be a whole number (some Xendit answers send it as a string). */
function reqAmount(o: Json, key: string, what: string): number {
  const v = o[key];
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+(\.0+)?$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 0) throw invalid(what, `'${key}' is not a whole amount of rupiah`);
  return n;
}

function optDate(o: Json, key: string, what: string): Date | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  const d = typeof v === 'string' ? new Date(v) : undefined;
  if (!d || Number.isNaN(d.getTime())) throw invalid(what, `'${key}' is not a date`);
  return d;
}

function reqDate(o: Json, key: string, what: string): Date {
  const d = optDate(o, key, what);
  if (!d) throw invalid(what, `no date '${key}'`);
  return d;
}
