// The Digiflazz adapter: prepaid purchases, status re-checks, the price list, the deposit and signed webhooks, in the
// wire format of Digiflazz's buyer API (developer.digiflazz.com/api/buyer: /v1/transaction, /v1/price-list,
// /v1/cek-saldo, webhooks). Every call has a timeout. Nothing is retried here: a purchase whose outcome is unknown
// (timeout, network error, 5xx, unreadable answer) comes back `pending`, never `gagal`, so no money is refunded for
// something Digiflazz may still deliver; the PPOB job asks again later with `check`, which Digiflazz answers from the
// transaction it already has.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { isObject, type Json, networkCause, parseJson } from '../../../core/http/outbound.ts';
import type {
  PpobProvider,
  ProviderCallback,
  ProviderProduct,
  ProviderResult,
  ProviderStatus,
  PurchaseRequest,
} from './provider.ts';

export const DIGIFLAZZ_BASE_URL = 'https://api.digiflazz.com';

export interface DigiflazzProviderOptions {
  username: string;
  apiKey: string;
  /** The webhook secret set in Digiflazz's dashboard; without it every callback is refused. */
  webhookSecret?: string;
  /** Default https://api.digiflazz.com; trailing slashes are dropped. */
  baseUrl?: string;
  /** Limit of each call, body included. */
  timeoutMs: number;
  /** Sends `testing: true`, which a Digiflazz development key needs on every transaction call. */
  testing?: boolean;
  fetchImpl?: typeof fetch;
}

/** What priceList() and balance() throw; `code` is the rc, TIMEOUT, NETWORK, HTTP_<status> or INVALID_RESPONSE. */
export class DigiflazzError extends Error {
  readonly code: string;
  readonly httpStatus: number | undefined;

  constructor(message: string, code: string, httpStatus?: number) {
    super(message);
    this.name = 'DigiflazzError';
    this.code = code;
    this.httpStatus = httpStatus;
  }
}

// Shown to the client when Digiflazz's answer carries no message of its own.
const DEFAULT_MESSAGES: Record<ProviderStatus, string> = {
  sukses: 'Transaksi sukses',
  pending: 'Transaksi sedang diproses',
  gagal: 'Transaksi gagal',
};

/**
 * Digiflazz's response codes: 00 is a success, 03 (pending) and 99 (DF router issue) are still undecided, and every
 * other code (01 timeout at the seller, 02 failed, 4x/5x/6x/7x/8x refusals) is a definite failure.
 */
export function statusFromRc(rc: string): ProviderStatus {
  if (rc === '00') return 'sukses';
  if (rc === '03' || rc === '99') return 'pending';
  return 'gagal';
}

/** The `status` word, for an answer without rc: Indonesian (Sukses/Pending/Gagal) or the English API's words. */
function statusFromWord(word: unknown): ProviderStatus | undefined {
  if (typeof word !== 'string') return undefined;
  const w = word.trim().toLowerCase();
  if (w === 'sukses' || w === 'success') return 'sukses';
  if (w === 'pending' || w === 'processing') return 'pending';
  if (w === 'gagal' || w === 'failed') return 'gagal';
  return undefined;
}

export function createDigiflazzProvider(opts: DigiflazzProviderOptions): PpobProvider {
  if (!opts.username || !opts.apiKey) throw new Error('createDigiflazzProvider needs a username and an API key');
  const baseUrl = (opts.baseUrl ?? DIGIFLAZZ_BASE_URL).replace(/\/+$/, '');
  const doFetch = opts.fetchImpl ?? fetch;
  const { username, apiKey } = opts;
  const webhookSecret = opts.webhookSecret || undefined;
  const md5 = (text: string) => createHash('md5').update(text).digest('hex');
  // These two signs never change for a key, so they are as secret as the key itself.
  const priceListSign = md5(`${username}${apiKey}pricelist`);
  const depositSign = md5(`${username}${apiKey}depo`);

  // Belt and braces: a provider message or a low-level error could echo credentials back, and these texts end up in
  // logs, in error messages and in the client's `hasil_eksekusi`.
  const scrub = (text: string, ...signs: string[]) => {
    let out = text.split(apiKey).join('[api key]');
    for (const s of [priceListSign, depositSign, ...signs]) out = out.split(s).join('[sign]');
    return out;
  };

  /** One POST; throws DigiflazzError TIMEOUT / NETWORK when no HTTP answer arrived in time. */
  async function post(path: string, body: Json, sign: string): Promise<{ status: number; json: unknown }> {
    try {
      const res = await doFetch(`${baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(opts.timeoutMs),
      });
      return { status: res.status, json: parseJson(await res.text()) };
    } catch (err) {
      if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
        throw new DigiflazzError(`Digiflazz did not answer POST ${path} within ${opts.timeoutMs} ms`, 'TIMEOUT');
      }
      throw new DigiflazzError(
        scrub(`Could not reach Digiflazz for POST ${path}: ${networkCause(err)}`, sign),
        'NETWORK',
      );
    }
  }

  const unknownOutcome = (code: string, message: string): ProviderResult => ({ status: 'pending', message, code });

  // A purchase and its re-check are the same request: Digiflazz treats a ref_id it already knows as a status query
  // and answers with that transaction instead of buying again.
  async function transaction(req: PurchaseRequest): Promise<ProviderResult> {
    const sign = md5(`${username}${apiKey}${req.refId}`);
    const body: Json = {
      username,
      buyer_sku_code: req.sku,
      customer_no: req.customerNo,
      ref_id: req.refId,
      sign,
      ...(opts.testing ? { testing: true } : {}),
    };
    let reply: { status: number; json: unknown };
    try {
      reply = await post('/v1/transaction', body, sign);
    } catch (err) {
      if (err instanceof DigiflazzError && err.code === 'TIMEOUT') {
        return unknownOutcome('TIMEOUT', `Provider tidak menjawab dalam ${opts.timeoutMs} ms; status akan dicek ulang`);
      }
      return unknownOutcome('NETWORK', 'Provider tidak dapat dihubungi; status akan dicek ulang');
    }
    // A 5xx says nothing about the purchase, whatever its body claims.
    if (reply.status >= 500) {
      return unknownOutcome(`HTTP_${reply.status}`, 'Provider sedang gangguan; status akan dicek ulang');
    }
    // Digiflazz answers refusals (bad sign, unknown SKU, low deposit…) with a 4xx and the usual {data: {rc, …}}
    // body, so a readable rc is trusted whatever the HTTP status below 500.
    const data = isObject(reply.json) && isObject(reply.json.data) ? reply.json.data : undefined;
    const result = data ? resultFrom(data, (text) => scrub(text, sign)) : undefined;
    const otherRef = data && typeof data.ref_id === 'string' && data.ref_id !== '' && data.ref_id !== req.refId;
    if (!result || otherRef) {
      const code = reply.status >= 200 && reply.status <= 299 ? 'INVALID_RESPONSE' : `HTTP_${reply.status}`;
      return unknownOutcome(code, 'Jawaban provider tidak terbaca; status akan dicek ulang');
    }
    return result;
  }

  /** For the read-only calls: Digiflazz's `data`, or a DigiflazzError saying why not (never with a secret in it). */
  async function read(path: string, body: Json, sign: string, what: string): Promise<unknown> {
    const { status, json } = await post(path, body, sign);
    const data = isObject(json) ? json.data : undefined;
    if (status >= 500)
      throw new DigiflazzError(`Digiflazz failed on ${what} (HTTP ${status})`, `HTTP_${status}`, status);
    // Refusals carry {data: {rc, message}} instead of the expected data, with a 4xx or, for some codes, a 200.
    if (isObject(data) && typeof data.rc === 'string' && data.rc !== '' && data.rc !== '00') {
      const detail = typeof data.message === 'string' && data.message ? data.message : 'no message';
      throw new DigiflazzError(scrub(`Digiflazz refused ${what} (rc ${data.rc}): ${detail}`, sign), data.rc, status);
    }
    if (status < 200 || status > 299) {
      throw new DigiflazzError(`Digiflazz refused ${what} (HTTP ${status})`, `HTTP_${status}`, status);
    }
    if (data === undefined) throw new DigiflazzError(`Digiflazz answered ${what} without data`, 'INVALID_RESPONSE');
    return data;
  }

  return {
    name: 'digiflazz',

    purchase: transaction,
    check: transaction,

    async priceList() {
      const body = { cmd: 'prepaid', username, sign: priceListSign };
      const data = await read('/v1/price-list', body, priceListSign, 'the price list');
      if (!Array.isArray(data)) {
        throw new DigiflazzError(
          'Digiflazz answered the price list with something else than a list',
          'INVALID_RESPONSE',
        );
      }
      // One odd entry must not stop a sync of the whole catalogue, so it is left out rather than thrown on, and
      // counted: the sync retires nothing from a listing it could not read whole.
      const products = data.flatMap((entry): ProviderProduct[] => {
        const product = isObject(entry) ? productFrom(entry) : undefined;
        return product ? [product] : [];
      });
      return { products, unreadable: data.length - products.length };
    },

    async balance() {
      const body = { cmd: 'deposit', username, sign: depositSign };
      const data = await read('/v1/cek-saldo', body, depositSign, 'the deposit check');
      const deposit = isObject(data) ? data.deposit : undefined;
      if (typeof deposit !== 'number' || !Number.isFinite(deposit)) {
        throw new DigiflazzError('Digiflazz answered the deposit check without a deposit', 'INVALID_RESPONSE');
      }
      return deposit;
    },

    readCallback(
      rawBody: Buffer,
      headers: Record<string, string | string[] | undefined>,
    ): ProviderCallback | undefined {
      if (!webhookSecret) return undefined;
      const header = headerValue(headers, 'x-hub-signature');
      const hex = header === undefined ? undefined : /^sha1=([0-9a-f]{40})$/i.exec(header.trim())?.[1];
      if (hex === undefined) return undefined;
      // Over the raw bytes: re-serialising the parsed JSON would not give back the bytes Digiflazz signed.
      const expected = createHmac('sha1', webhookSecret).update(rawBody).digest();
      if (!timingSafeEqual(expected, Buffer.from(hex, 'hex'))) return undefined;
      const json = parseJson(rawBody.toString('utf8'));
      const data = isObject(json) && isObject(json.data) ? json.data : undefined;
      if (!data || typeof data.ref_id !== 'string' || data.ref_id === '') return undefined;
      const result = resultFrom(data, (text) => scrub(text));
      return result ? { refId: data.ref_id, result } : undefined;
    },
  };
}

// ---- reading Digiflazz's answers ----

/** A transaction answer or webhook `data`; undefined when neither rc nor status says how it stands. */
function resultFrom(data: Json, clean: (text: string) => string): ProviderResult | undefined {
  const rc = typeof data.rc === 'string' && data.rc.trim() !== '' ? data.rc.trim() : undefined;
  const status = rc === undefined ? statusFromWord(data.status) : statusFromRc(rc);
  if (status === undefined) return undefined;
  const message = typeof data.message === 'string' && data.message.trim() !== '' ? data.message.trim() : undefined;
  const sn = typeof data.sn === 'string' && data.sn.trim() !== '' ? data.sn.trim() : undefined;
  const price = rupiah(data.price);
  return {
    status,
    message: message === undefined ? DEFAULT_MESSAGES[status] : clean(message),
    ...(sn === undefined ? {} : { serialNumber: sn }),
    ...(rc === undefined ? {} : { code: rc }),
    ...(price === undefined ? {} : { price }),
  };
}

function productFrom(entry: Json): ProviderProduct | undefined {
  const sku = entry.buyer_sku_code;
  const price = rupiah(entry.price);
  if (typeof sku !== 'string' || sku === '' || price === undefined) return undefined;
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  return {
    sku,
    name: text(entry.product_name) || sku,
    category: text(entry.category),
    brand: text(entry.brand),
    price,
    description: text(entry.desc),
    active: entry.buyer_product_status === true && entry.seller_product_status === true,
  };
}

/** Rupiah have no minor unit: a whole, non-negative amount (a number, or digits in a string), else undefined. */
function rupiah(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : Number.NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    // A repeated signature header is ambiguous, so it counts as none.
    if (Array.isArray(value)) return value.length === 1 ? value[0] : undefined;
    return value;
  }
  return undefined;
}
