// A fake Digiflazz for tests: a real HTTP server on 127.0.0.1 that speaks Digiflazz's buyer API wire format
// (/v1/transaction, /v1/price-list, /v1/cek-saldo), checks `sign` the way Digiflazz does (rc 41 "Signature Anda
// salah"), answers a ref_id it already knows with the stored transaction instead of buying again, and sends the
// signed webhooks Digiflazz sends (X-Hub-Signature: sha1=<HMAC-SHA1 of the body>). Being a server rather than a
// mocked fetch, it exercises the adapter's real HTTP: headers, bodies, timeouts, connection errors.
//
// A new transaction stays Pending (rc 03) unless `setOutcome` said otherwise, so a test decides how it ends, with
// `finish` (what a re-check then sees) and `sendCallback` (the webhook).
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenLocal, readBody, sendText } from './http.ts';

export const FAKE_DIGIFLAZZ_USERNAME = 'loketfake';
export const FAKE_DIGIFLAZZ_API_KEY = 'dev-5f0c1a2e-7d3b-11ef-9c4a-loketfake01';
export const FAKE_DIGIFLAZZ_WEBHOOK_SECRET = 'fake-digiflazz-webhook-secret';
const MAX_BODY_BYTES = 1024 * 1024;

/** A price-list entry exactly as /v1/price-list lists it (cmd prepaid). */
export interface FakeDigiflazzProduct {
  product_name: string;
  category: string;
  brand: string;
  type: string;
  seller_name: string;
  price: number;
  buyer_sku_code: string;
  buyer_product_status: boolean;
  seller_product_status: boolean;
  unlimited_stock: boolean;
  stock: number;
  multi: boolean;
  start_cut_off: string;
  end_cut_off: string;
  desc: string;
}

export interface FakeDigiflazzOutcome {
  rc: string;
  /** Derived from rc when left out: 00 Sukses, 03/99 Pending, anything else Gagal. */
  status?: string;
  message?: string;
  /** A serial number is made up for rc 00 when left out. */
  sn?: string;
}

export interface FakeDigiflazzTransaction {
  trxId: string;
  refId: string;
  sku: string;
  customerNo: string;
  rc: string;
  status: string;
  message: string;
  sn: string;
  price: number;
  testing: boolean;
  /** Times this ref_id was bought (the deposit charged for it): 1 however often the ref_id is sent again. */
  purchases: number;
  /** Times this ref_id reached /v1/transaction: the purchase plus every re-check. */
  submissions: number;
  /** Whether the deposit is currently charged for it (a Gagal is refunded). */
  charged: boolean;
}

export interface FakeDigiflazzRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, the raw text when it is not JSON, undefined when empty. */
  body: unknown;
}

export interface FakeDigiflazzCallback {
  url: string;
  headers: Record<string, string>;
  /** The exact bytes sent (and signed). */
  body: Buffer;
  /** The receiver's HTTP status; undefined when it could not be reached (see `error`). */
  status: number | undefined;
  error?: string;
}

export interface FakeDigiflazz {
  url: string;
  username: string;
  apiKey: string;
  /** Empty when the fake was started with `webhookSecret: ''`: webhooks then go unsigned, as Digiflazz's do. */
  webhookSecret: string;
  close(): Promise<void>;
  requests: FakeDigiflazzRequest[];
  /** The prepaid catalogue; tests may change it. */
  products: FakeDigiflazzProduct[];
  /** Loket's deposit in rupiah: charged by purchases (not with `testing`), refunded when one fails. */
  deposit: number;
  /** By ref_id. */
  transactions: Map<string, FakeDigiflazzTransaction>;
  /** Every webhook sent, in order. */
  callbacks: FakeDigiflazzCallback[];
  /** How new transactions for this customer_no (looked up first) or buyer_sku_code end up at once; lasts. */
  setOutcome(customerNoOrSku: string, outcome: FakeDigiflazzOutcome): void;
  /** Moves a stored transaction to a new state (what a re-check and a later webhook show). */
  finish(refId: string, outcome: FakeDigiflazzOutcome): void;
  /** POSTs the signed webhook for a stored transaction to `url`, awaiting the delivery. */
  sendCallback(refId: string, url: string, opts?: { event?: 'create' | 'update' }): Promise<FakeDigiflazzCallback>;
  /** The next request is answered only after `ms` (and still handled, as Digiflazz would); calls queue up. */
  delayNext(ms: number): void;
  /** The next request gets this HTTP status and body (default: an HTML error page) and is not handled. */
  failNext(status: number, body?: string): void;
}

type Json = Record<string, unknown>;
type Answer = [status: number, body: unknown];

// Digiflazz's wording for the codes the fake can produce by itself.
const RC_MESSAGES: Record<string, string> = {
  '00': 'Transaksi Sukses',
  '02': 'Transaksi Gagal',
  '03': 'Transaksi Pending',
  '40': 'Payload Error',
  '41': 'Signature Anda salah',
  '43': 'SKU Tidak di Temukan atau Non-Aktif',
  '44': 'Saldo tidak cukup',
  '49': 'Ref ID tidak unik',
  '99': 'DF Router Issue',
};

const statusOfRc = (rc: string) => (rc === '00' ? 'Sukses' : rc === '03' || rc === '99' ? 'Pending' : 'Gagal');
const md5 = (text: string) => createHash('md5').update(text).digest('hex');

export function defaultFakeDigiflazzProducts(): FakeDigiflazzProduct[] {
  const base = {
    type: 'Umum',
    seller_name: 'FAKE SELLER',
    buyer_product_status: true,
    seller_product_status: true,
    unlimited_stock: true,
    stock: 0,
    multi: true,
    start_cut_off: '23:45',
    end_cut_off: '00:15',
  };
  return [
    {
      ...base,
      product_name: 'Telkomsel 10.000',
      category: 'Pulsa',
      brand: 'TELKOMSEL',
      price: 10_150,
      buyer_sku_code: 'tsel10',
      desc: 'Pulsa Telkomsel Rp 10.000',
    },
    {
      ...base,
      product_name: 'PLN 20.000',
      category: 'PLN',
      brand: 'PLN',
      price: 20_300,
      buyer_sku_code: 'pln20',
      desc: 'Token listrik PLN Rp 20.000',
    },
    {
      ...base,
      product_name: 'XL 5.000',
      category: 'Pulsa',
      brand: 'XL',
      price: 5_900,
      buyer_sku_code: 'xl5',
      unlimited_stock: false,
      stock: 120,
      desc: 'Pulsa XL Rp 5.000',
    },
    {
      ...base,
      product_name: 'DANA 25.000',
      category: 'E-Money',
      brand: 'DANA',
      price: 25_400,
      buyer_sku_code: 'dana25',
      seller_product_status: false,
      desc: 'Saldo DANA Rp 25.000 (seller sedang gangguan)',
    },
  ];
}

export async function startFakeDigiflazz(
  opts: { username?: string; apiKey?: string; webhookSecret?: string } = {},
): Promise<FakeDigiflazz> {
  const outcomes = new Map<string, FakeDigiflazzOutcome>();
  const failures: { status: number; body: string | undefined }[] = [];
  const delays: number[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const outcomeState = (outcome: FakeDigiflazzOutcome) => {
    const status = outcome.status ?? statusOfRc(outcome.rc);
    return {
      rc: outcome.rc,
      status,
      message: outcome.message ?? RC_MESSAGES[outcome.rc] ?? `Transaksi ${status}`,
      sn: outcome.sn ?? (outcome.rc === '00' ? randomDigits(20) : ''),
    };
  };

  /** Charges or refunds so the deposit matches the transaction's state; testing transactions cost nothing. */
  function settle(tx: FakeDigiflazzTransaction) {
    const shouldCharge = !tx.testing && tx.status !== 'Gagal';
    if (shouldCharge && !tx.charged) fake.deposit -= tx.price;
    if (!shouldCharge && tx.charged) fake.deposit += tx.price;
    tx.charged = shouldCharge;
  }

  function transactionJson(tx: FakeDigiflazzTransaction): Json {
    return {
      ref_id: tx.refId,
      customer_no: tx.customerNo,
      buyer_sku_code: tx.sku,
      message: tx.message,
      status: tx.status,
      rc: tx.rc,
      sn: tx.sn,
      buyer_last_saldo: fake.deposit,
      price: tx.price,
      tele: 'fakeseller',
      wa: '081200000000',
    };
  }

  const refusal = (status: number, rc: string, extra: Json = {}): Answer => [
    status,
    { data: { ...extra, rc, message: RC_MESSAGES[rc] ?? 'Gagal' } },
  ];

  const isText = (v: unknown): v is string => typeof v === 'string' && v !== '';

  function transaction(body: Json): Answer {
    const { username, buyer_sku_code: sku, customer_no: customerNo, ref_id: refId, sign } = body;
    if (!isText(username) || !isText(sku) || !isText(customerNo) || !isText(refId) || !isText(sign)) {
      return refusal(400, '40');
    }
    // A refused transaction is answered in the transaction's shape, with status Gagal and no serial number.
    const failed = (rc: string, price = 0): Answer =>
      refusal(400, rc, {
        ref_id: refId,
        customer_no: customerNo,
        buyer_sku_code: sku,
        status: 'Gagal',
        sn: '',
        buyer_last_saldo: fake.deposit,
        price,
      });
    if (username !== fake.username || sign !== md5(`${fake.username}${fake.apiKey}${refId}`)) return failed('41');
    const known = fake.transactions.get(refId);
    if (known) {
      // The same request again is a status check; the same ref_id for something else is refused.
      if (known.sku !== sku || known.customerNo !== customerNo) return failed('49');
      known.submissions += 1;
      return [200, { data: transactionJson(known) }];
    }
    const product = fake.products.find((p) => p.buyer_sku_code === sku);
    if (!product?.buyer_product_status || !product.seller_product_status) return failed('43');
    const testing = body.testing === true;
    if (!testing && fake.deposit < product.price) return failed('44', product.price);
    const state = outcomeState(outcomes.get(customerNo) ?? outcomes.get(sku) ?? { rc: '03' });
    const tx: FakeDigiflazzTransaction = {
      trxId: randomBytes(12).toString('hex'),
      refId,
      sku,
      customerNo,
      ...state,
      price: product.price,
      testing,
      purchases: 1,
      submissions: 1,
      charged: false,
    };
    settle(tx);
    fake.transactions.set(refId, tx);
    return [200, { data: transactionJson(tx) }];
  }

  function priceList(body: Json): Answer {
    if (body.cmd !== 'prepaid' && body.cmd !== 'pasca') return refusal(400, '40');
    if (body.username !== fake.username || body.sign !== md5(`${fake.username}${fake.apiKey}pricelist`)) {
      return refusal(400, '41');
    }
    if (body.cmd === 'pasca') return [200, { data: [] }];
    // Digiflazz lets a buyer ask for one SKU with `code`.
    const list = isText(body.code) ? fake.products.filter((p) => p.buyer_sku_code === body.code) : fake.products;
    return [200, { data: list }];
  }

  function checkDeposit(body: Json): Answer {
    if (body.cmd !== 'deposit') return refusal(400, '40');
    if (body.username !== fake.username || body.sign !== md5(`${fake.username}${fake.apiKey}depo`)) {
      return refusal(400, '41');
    }
    return [200, { data: { deposit: fake.deposit } }];
  }

  function route(method: string, path: string, body: Json): Answer {
    if (method === 'POST' && path === '/v1/transaction') return transaction(body);
    if (method === 'POST' && path === '/v1/price-list') return priceList(body);
    if (method === 'POST' && path === '/v1/cek-saldo') return checkDeposit(body);
    return [404, { message: `No route ${method} ${path}` }];
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const raw = await readBody(req, MAX_BODY_BYTES);
    let body: unknown;
    let badJson = raw === null;
    if (raw !== null && raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
        badJson = true;
      }
    }
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://fake.invalid').pathname;
    fake.requests.push({ method, path: req.url ?? '/', headers: req.headers, body });
    // Both are claimed on arrival, so a request still sleeping cannot take a failure meant for a later one.
    const delay = delays.shift();
    const failure = failures.shift();
    if (delay !== undefined) await sleep(delay);
    if (failure) {
      const text = failure.body ?? `<html><body><h1>${failure.status}</h1>upstream error</body></html>`;
      sendText(res, failure.status, text, 'text/html');
      return;
    }
    const json = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Json) : undefined;
    const answer = badJson || !json ? refusal(400, '40') : route(method, path, json);
    // The client may have given up (timeout) while the answer was delayed; the work above still happened, as it
    // would at Digiflazz.
    sendText(res, answer[0], JSON.stringify(answer[1]), 'application/json');
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent && !res.destroyed)
        sendText(res, 500, JSON.stringify({ message: String(e) }), 'application/json');
    });
  });

  const fake: FakeDigiflazz = {
    url: '',
    username: opts.username ?? FAKE_DIGIFLAZZ_USERNAME,
    apiKey: opts.apiKey ?? FAKE_DIGIFLAZZ_API_KEY,
    webhookSecret: opts.webhookSecret ?? FAKE_DIGIFLAZZ_WEBHOOK_SECRET,
    requests: [],
    products: defaultFakeDigiflazzProducts(),
    deposit: 1_000_000,
    transactions: new Map(),
    callbacks: [],

    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },

    setOutcome(customerNoOrSku, outcome) {
      outcomes.set(customerNoOrSku, outcome);
    },

    finish(refId, outcome) {
      const tx = fake.transactions.get(refId);
      if (!tx) throw new Error(`fake Digiflazz: no transaction with ref_id '${refId}'`);
      Object.assign(tx, outcomeState(outcome));
      settle(tx);
    },

    async sendCallback(refId, target, cbOpts = {}) {
      const tx = fake.transactions.get(refId);
      if (!tx) throw new Error(`fake Digiflazz: no transaction with ref_id '${refId}'`);
      const bytes = Buffer.from(JSON.stringify({ data: { trx_id: tx.trxId, ...transactionJson(tx) } }));
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': 'DigiFlazz-Hookshot',
        'x-digiflazz-event': cbOpts.event ?? 'update',
        'x-digiflazz-delivery': randomUUID(),
      };
      // Digiflazz signs only when a secret is set in its dashboard.
      if (fake.webhookSecret) {
        headers['x-hub-signature'] = `sha1=${createHmac('sha1', fake.webhookSecret).update(bytes).digest('hex')}`;
      }
      const entry: FakeDigiflazzCallback = { url: target, headers, body: bytes, status: undefined };
      fake.callbacks.push(entry);
      try {
        const res = await fetch(target, { method: 'POST', headers, body: bytes, signal: AbortSignal.timeout(5000) });
        entry.status = res.status;
        await res.arrayBuffer();
      } catch (e) {
        entry.error = e instanceof Error ? e.message : String(e);
      }
      return entry;
    },

    delayNext(ms) {
      delays.push(ms);
    },

    failNext(status, body) {
      failures.push({ status, body });
    },
  };

  fake.url = await listenLocal(server);
  return fake;
}

function randomDigits(length: number): string {
  return Array.from(randomBytes(length), (b) => String(b % 10)).join('');
}
