// A fake IM3 operator API for tests: a real HTTP server on 127.0.0.1 speaking the wire format of the original app's
// operator client (ardzz/im3wrap-backend, `im3/`) that Loket's HTTP adapter (src/modules/im3/providers/http.ts,
// `IM3_PROVIDER=http`) follows — POST of compact JSON to /api/v2/…, answers `{status: "0", message, data}` (any other
// status is a refusal). Every request must carry the configured static headers (Authorization, X-Imi-Servicekey,
// X-Imi-App-Os, X-Imi-Version), X-Imi-Uid (the time in ms, ±5 minutes), X-Imi-Tokenid, and the two signatures, which
// the fake checks with its own code (WebCrypto SHA-512):
//   X-Imi-Oauth = sha512 hex of `REQBODY=<body as sent>&SALT=<odd-position chars of the token id>`
//   X-Imi-Hash  = sha512 hex of `parent$<os>$<version>$<token id>&SALT=<odd-position chars of the uid>`
// The eligibility check's body is RC4-encrypted hex, which the fake decrypts with its own RC4. A wrong header or
// signature is 401, as is an unknown or revoked session (the token id of every call after the OTP).
//
// All keys and header values here are test-only values, not the real app's. The paths and field names are written
// out here rather than imported, so the adapter is checked against them. Controls: the next OTP code, eligibility
// per number (and how many polls stay pending), payment completion or failure, refusals of an order, and for any
// request a failure (`failNext`) or a slow answer (`delayNext`).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenLocal, readBody, sendText } from './http.ts';

/** Test-only operator identity and keys (obviously fake). */
export const FAKE_IM3 = {
  authorization: 'test-only-authorization-not-a-real-key',
  serviceKey: 'test-only-service-key-0000',
  rc4Key: 'test-only-rc4-key',
  appOs: 'TestOS',
  appVersion: '0.0.0-test',
  headers: { 'user-agent': 'loket-test-agent', 'x-imi-channel': 'TESTCHANNEL', 'x-deviceid': 'test-device-0001' },
  paymentStatusPath: '/test-only/payment/status',
} as const;
const MAX_BODY_BYTES = 64 * 1024;
const CLOCK_SKEW_MS = 300_000;
const OTP_TTL_MS = 5 * 60_000;
const OTP_MAX_ATTEMPTS = 3;

const P = {
  sendOtp: '/api/v2/otp/send/v1',
  validateOtp: '/api/v2/otp/validate/v1',
  profile: '/api/v2/profile/get',
  checkEligible: '/api/v2/cvm/checkeligible',
  eligibleStatus: '/api/v2/esb/checkeligiblestatus',
  initiatePayment: '/api/v2/esb/initiatepayment',
} as const;

export type FakeIm3Verdict =
  | 'ok'
  | 'bad-signature'
  | 'bad-hash'
  | 'bad-client'
  | 'stale-uid'
  | 'bad-session'
  | 'bad-encryption'
  | 'malformed';

export interface FakeIm3Request {
  path: string;
  headers: IncomingHttpHeaders;
  /** The body as sent (RC4 hex for the eligibility check). */
  raw: string | null;
  /** Parsed JSON body, decrypted where encrypted (the raw text when not JSON). */
  body: unknown;
  /** What the fake made of the request's credentials (before any `failNext`). */
  verdict: FakeIm3Verdict;
}

export interface FakeIm3Check {
  transid: string;
  msisdn: string;
  body: Record<string, unknown>;
  polls: number;
  result: 'PENDING' | 'ELIGIBLE' | 'NOT_ELIGIBLE';
}

export interface FakeIm3Payment {
  /** The eligibility transid the payment was initiated for. */
  transid: string;
  msisdn: string;
  amount: number;
  body: Record<string, unknown>;
  qrString: string;
  status: 'PENDING' | 'PAID' | 'FAILED' | 'EXPIRED';
  /** Times this transid was asked to be paid (1 however often it is sent again). */
  initiations: number;
}

export interface FakeIm3Operator {
  url: string;
  /** The IM3_* environment that points Loket at this fake with its test-only keys. */
  env(): Record<string, string>;
  close(): Promise<void>;
  requests: FakeIm3Request[];
  /** Every session token issued, in order (for asserting it never leaks). */
  tokens: string[];
  /** Every OTP code issued, by msisdn, last one last. */
  otps: Map<string, string[]>;
  /** By eligibility transid. */
  checks: Map<string, FakeIm3Check>;
  /** By eligibility transid. */
  payments: Map<string, FakeIm3Payment>;
  /** The code the next send-otp issues (random 6 digits otherwise). */
  nextOtp(code: string): void;
  lastOtp(msisdn: string): string | undefined;
  /** The last session token issued for this number. */
  lastToken(msisdn: string): string | undefined;
  /** What eligibility checks of this number end in, after `pendingPolls` pending answers (default ELIGIBLE, 1). */
  setEligibility(msisdn: string, result: 'ELIGIBLE' | 'NOT_ELIGIBLE', pendingPolls?: number): void;
  /** Orders of this offer id are refused at the eligibility check (status E301). */
  refuseOffer(offerid: string): void;
  /** The last payment of this number: its status from now on. */
  settle(msisdn: string, status: 'PAID' | 'FAILED' | 'EXPIRED'): FakeIm3Payment;
  /** The last payment initiated for this number. */
  paymentFor(msisdn: string): FakeIm3Payment | undefined;
  /** The operator forgets this session: every call with it is 401 from now on. */
  revoke(token: string): void;
  /** The next request gets this HTTP status and body (default: an HTML error page), unhandled. */
  failNext(status: number, body?: string, contentType?: string): void;
  /** The next request is answered only after `ms` (it is still handled, as the operator would). */
  delayNext(ms: number): void;
  /** Paths of the requests so far whose headers, signatures and body were right. */
  acceptedPaths(): string[];
}

type Json = Record<string, unknown>;
type Answer = [status: number, body: unknown];

const ok = (data: Json, extra: Json = {}): Answer => [200, { status: '0', message: 'success', ...extra, data }];
const refuse = (code: string, message: string, http = 200): Answer => [http, { status: code, message, data: null }];
const text = (v: unknown): v is string => typeof v === 'string' && v !== '';

/** SHA-512 hex through WebCrypto: deliberately not the adapter's node:crypto code. */
async function sha512(message: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-512', new TextEncoder().encode(message)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Every other character, starting with the first. */
function saltOf(id: string): string {
  let out = '';
  for (let i = 0; i < id.length; i += 2) out += id.charAt(i);
  return out;
}

/** RC4 decryption of lowercase/uppercase hex, written independently of the adapter's. */
function rc4DecryptHex(key: string, hex: string): string | null {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) return null;
  const keyBytes = Array.from(new TextEncoder().encode(key));
  const box: number[] = [];
  for (let n = 0; n < 256; n++) box.push(n);
  let j = 0;
  for (let i = 0; i < 256; i++) {
    j = (j + (box[i] ?? 0) + (keyBytes[i % keyBytes.length] ?? 0)) % 256;
    const tmp = box[i] ?? 0;
    box[i] = box[j] ?? 0;
    box[j] = tmp;
  }
  const plain: number[] = [];
  let a = 0;
  let b = 0;
  for (let p = 0; p < hex.length; p += 2) {
    a = (a + 1) % 256;
    b = (b + (box[a] ?? 0)) % 256;
    const tmp = box[a] ?? 0;
    box[a] = box[b] ?? 0;
    box[b] = tmp;
    plain.push(Number.parseInt(hex.slice(p, p + 2), 16) ^ (box[((box[a] ?? 0) + (box[b] ?? 0)) % 256] ?? 0));
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(Uint8Array.from(plain));
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A QRIS-shaped payload (tag-length-value, CRC left out): only has to be a string the service renders as a QR. */
function qrisLike(amount: number, reference: string): string {
  const tlv = (tag: string, value: string) => `${tag}${String(value.length).padStart(2, '0')}${value}`;
  return [
    tlv('00', '01'),
    tlv('01', '12'),
    tlv('26', tlv('00', 'ID.TEST.FAKE.OPERATOR') + tlv('01', reference)),
    tlv('53', '360'),
    tlv('54', String(amount)),
    tlv('58', 'ID'),
    tlv('59', 'FAKE OPERATOR'),
    tlv('60', 'JAKARTA'),
  ].join('');
}

const CHECK_FIELDS = [
  'billaccount',
  'discountprice',
  'keyword',
  'name',
  'normalprice',
  'offerid',
  'operationtype',
  'packagename',
  'paymentchannel',
  'shortcode',
  'tomsisdn',
  'transid',
  'transtype',
  'validity',
  'walletmsisdn',
];

export async function startFakeIm3Operator(): Promise<FakeIm3Operator> {
  const cfg = FAKE_IM3;
  const challenges = new Map<string, { msisdn: string; code: string; expiresAt: number; attempts: number }>();
  const sessions = new Map<string, string>(); // token → msisdn, while valid
  const tokenMsisdn = new Map<string, string>(); // every token ever issued → msisdn
  const eligibility = new Map<string, { result: 'ELIGIBLE' | 'NOT_ELIGIBLE'; pendingPolls: number }>();
  const ruleOf = new Map<string, { result: 'ELIGIBLE' | 'NOT_ELIGIBLE'; pendingPolls: number }>(); // transid → rule
  const refusedOffers = new Set<string>();
  const failures: { status: number; body: string | undefined; type: string }[] = [];
  const delays: number[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let nextCode: string | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  async function verdictOf(req: IncomingMessage, raw: string): Promise<FakeIm3Verdict> {
    const h = req.headers;
    if (
      h.authorization !== cfg.authorization ||
      h['x-imi-servicekey'] !== cfg.serviceKey ||
      h['x-imi-app-os'] !== cfg.appOs ||
      h['x-imi-version'] !== cfg.appVersion ||
      Object.entries(cfg.headers).some(([name, value]) => h[name] !== value)
    ) {
      return 'bad-client';
    }
    const uid = String(h['x-imi-uid'] ?? '');
    if (!/^\d{13}$/.test(uid) || Math.abs(Date.now() - Number(uid)) > CLOCK_SKEW_MS) return 'stale-uid';
    const tokenId = String(h['x-imi-tokenid'] ?? '');
    if (tokenId === '') return 'malformed';
    const oauth = await sha512(`REQBODY=${raw}&SALT=${saltOf(tokenId)}`);
    if (!sameText(String(h['x-imi-oauth'] ?? ''), oauth)) return 'bad-signature';
    const hash = await sha512(`parent$${cfg.appOs}$${cfg.appVersion}$${tokenId}&SALT=${saltOf(uid)}`);
    if (!sameText(String(h['x-imi-hash'] ?? ''), hash)) return 'bad-hash';
    return 'ok';
  }

  function sendOtp(body: Json): Answer {
    const msisdn = body.msisdn;
    if (!text(msisdn) || !/^628\d{7,12}$/.test(msisdn) || body.action !== 'register') {
      return refuse('E100', 'invalid msisdn or action', 400);
    }
    const code = nextCode ?? String(randomBytes(4).readUInt32BE(0) % 1_000_000).padStart(6, '0');
    nextCode = undefined;
    const transid = `TRX${randomBytes(10).toString('hex').toUpperCase()}`;
    challenges.set(transid, { msisdn, code, expiresAt: Date.now() + OTP_TTL_MS, attempts: 0 });
    fake.otps.set(msisdn, [...(fake.otps.get(msisdn) ?? []), code]);
    return ok({ transid });
  }

  function validateOtp(body: Json): Answer {
    if (!text(body.transid) || !text(body.otp)) return refuse('E100', 'transid and otp are required', 400);
    const c = challenges.get(body.transid);
    if (!c) return refuse('E102', 'transid tidak ditemukan');
    if (Date.now() > c.expiresAt) return refuse('E103', 'OTP kedaluwarsa');
    if (c.attempts >= OTP_MAX_ATTEMPTS) return refuse('E104', 'terlalu banyak percobaan');
    if (!sameText(body.otp, c.code)) {
      c.attempts += 1;
      return refuse('E101', 'OTP salah');
    }
    challenges.delete(body.transid);
    const tokenid = `im3tok_${randomBytes(24).toString('base64url')}`;
    sessions.set(tokenid, c.msisdn);
    tokenMsisdn.set(tokenid, c.msisdn);
    fake.tokens.push(tokenid);
    return ok({ tokenid });
  }

  function withSession(msisdn: string, path: string, body: Json): Answer {
    switch (path) {
      case P.profile:
        // The number without its 62, as the original reads it, beside the operator's other profile fields.
        return ok({
          mob: msisdn.slice(2),
          fname: `Pelanggan ${msisdn.slice(-4)}`,
          email: '',
          membershipid: `M${msisdn.slice(-8)}`,
          userclass: 'PREPAID',
          currenttier: 'GOLD',
          imkas: false,
          alerts: [],
          pushid: `push-${msisdn.slice(-4)}`,
          tokenid_hint: 'never passed on',
        });
      case P.checkEligible: {
        const keys = Object.keys(body);
        if (keys.length !== CHECK_FIELDS.length || CHECK_FIELDS.some((f, i) => keys[i] !== f)) {
          return refuse('E100', 'incomplete order', 400);
        }
        if (typeof body.discountprice !== 'number' || typeof body.normalprice !== 'number') {
          return refuse('E100', 'prices must be numbers', 400);
        }
        if (body.tomsisdn !== msisdn) return refuse('E403', 'msisdn does not match the session', 403);
        const offer = String(body.offerid);
        if (offer.includes('$MSISDN$')) return refuse('E302', 'offerid still has a placeholder');
        if (refusedOffers.has(offer)) return refuse('E301', 'paket tidak tersedia');
        const transid = `CVM${randomBytes(8).toString('hex')}`;
        const rule = eligibility.get(msisdn) ?? { result: 'ELIGIBLE', pendingPolls: 1 };
        fake.checks.set(transid, { transid, msisdn, body, polls: 0, result: 'PENDING' });
        ruleOf.set(transid, rule);
        // The transid at the top of the answer, where the original reads it.
        return ok({}, { transid });
      }
      case P.eligibleStatus: {
        const check = text(body.transid) ? fake.checks.get(body.transid) : undefined;
        if (!check || check.msisdn !== msisdn) return refuse('E304', 'transid not found');
        const rule = ruleOf.get(check.transid) ?? { result: 'ELIGIBLE', pendingPolls: 0 };
        check.polls += 1;
        if (check.polls > rule.pendingPolls) check.result = rule.result;
        if (check.result === 'ELIGIBLE') return ok({ eligibility: { transid: check.transid, eligible: true } });
        if (check.result === 'NOT_ELIGIBLE') return refuse('E306', 'nomor tidak eligible');
        return ok({});
      }
      case P.initiatePayment: {
        const { transid, discountprice } = body;
        if (!text(transid) || typeof discountprice !== 'number' || discountprice <= 0) {
          return refuse('E100', 'invalid transid or price', 400);
        }
        if (body.tomsisdn !== msisdn) return refuse('E403', 'msisdn does not match the session', 403);
        const check = fake.checks.get(transid);
        if (!check || check.msisdn !== msisdn || check.result !== 'ELIGIBLE' || check.body.offerid !== body.offerid) {
          return refuse('E305', 'not checked for eligibility');
        }
        const known = fake.payments.get(transid);
        if (known) {
          known.initiations += 1;
          return ok({ SendPaymentResp: { actionData: known.qrString } });
        }
        const p: FakeIm3Payment = {
          transid,
          msisdn,
          amount: discountprice,
          body,
          qrString: qrisLike(discountprice, transid),
          status: 'PENDING',
          initiations: 1,
        };
        fake.payments.set(transid, p);
        return ok({ SendPaymentResp: { actionData: p.qrString } });
      }
      case cfg.paymentStatusPath: {
        const p = text(body.transid) ? fake.payments.get(body.transid) : undefined;
        if (!p || p.msisdn !== msisdn) return refuse('E404', 'payment not found');
        return ok({ transid: p.transid, status: p.status });
      }
      default:
        return [404, { status: 'E404', message: `no route ${path}` }];
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const raw = await readBody(req, MAX_BODY_BYTES);
    const path = new URL(req.url ?? '/', 'http://fake.invalid').pathname;
    const encrypted = path === P.checkEligible;
    let verdict: FakeIm3Verdict =
      req.method !== 'POST' || raw === null || !String(req.headers['content-type']).startsWith('application/json')
        ? 'malformed'
        : await verdictOf(req, raw);
    let body: unknown = raw ?? undefined;
    let json: Json | undefined;
    if (raw !== null) {
      const plain = encrypted ? rc4DecryptHex(cfg.rc4Key, raw) : raw;
      try {
        body = JSON.parse(plain ?? '');
        if (typeof body === 'object' && body !== null && !Array.isArray(body)) json = body as Json;
      } catch {
        // stays text
      }
    }
    if (verdict === 'ok' && !json) verdict = encrypted ? 'bad-encryption' : 'malformed';
    const entry: FakeIm3Request = { path, headers: req.headers, raw, body, verdict };
    fake.requests.push(entry);
    // Both are claimed on arrival, so a request still sleeping cannot take a failure meant for a later one.
    const delay = delays.shift();
    const failure = failures.shift();
    if (delay !== undefined) await sleep(delay);
    if (failure) {
      sendText(
        res,
        failure.status,
        failure.body ?? `<html><body><h1>${failure.status}</h1>gateway error</body></html>`,
        failure.type,
      );
      return;
    }
    let answer: Answer;
    const tokenId = String(req.headers['x-imi-tokenid'] ?? '');
    if (verdict === 'malformed' || verdict === 'bad-encryption') answer = refuse('E100', 'bad request', 400);
    else if (verdict !== 'ok') answer = refuse('E401', 'invalid signature', 401);
    else if (path === P.sendOtp || path === P.validateOtp) {
      // Before login the token id is a throwaway one: digits only.
      if (!/^\d{5,10}$/.test(tokenId)) answer = refuse('E100', 'bad token id', 400);
      else answer = path === P.sendOtp ? sendOtp(json as Json) : validateOtp(json as Json);
    } else {
      const msisdn = sessions.get(tokenId);
      if (!msisdn) {
        answer = refuse('E401', 'session expired', 401);
        entry.verdict = 'bad-session';
      } else answer = withSession(msisdn, path, json as Json);
    }
    sendText(res, answer[0], JSON.stringify(answer[1]), 'application/json');
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent && !res.destroyed)
        sendText(res, 500, JSON.stringify({ message: String(e) }), 'application/json');
    });
  });

  const lastPaymentOf = (msisdn: string) => [...fake.payments.values()].findLast((p) => p.msisdn === msisdn);

  const fake: FakeIm3Operator = {
    url: '',
    env() {
      return {
        IM3_PROVIDER: 'http',
        IM3_BASE_URL: fake.url,
        IM3_AUTHORIZATION: cfg.authorization,
        IM3_SERVICE_KEY: cfg.serviceKey,
        IM3_RC4_KEY: cfg.rc4Key,
        IM3_APP_OS: cfg.appOs,
        IM3_APP_VERSION: cfg.appVersion,
        IM3_HEADERS: JSON.stringify(cfg.headers),
        IM3_PAYMENT_STATUS_PATH: cfg.paymentStatusPath,
      };
    },
    requests: [],
    tokens: [],
    otps: new Map(),
    checks: new Map(),
    payments: new Map(),
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    nextOtp(code) {
      nextCode = code;
    },
    lastOtp(msisdn) {
      return fake.otps.get(msisdn)?.at(-1);
    },
    lastToken(msisdn) {
      return fake.tokens.findLast((token) => tokenMsisdn.get(token) === msisdn);
    },
    setEligibility(msisdn, result, pendingPolls = 1) {
      eligibility.set(msisdn, { result, pendingPolls });
    },
    refuseOffer(offerid) {
      refusedOffers.add(offerid);
    },
    settle(msisdn, status) {
      const p = lastPaymentOf(msisdn);
      if (!p) throw new Error(`fake IM3: no payment for '${msisdn}'`);
      p.status = status;
      return p;
    },
    paymentFor(msisdn) {
      return lastPaymentOf(msisdn);
    },
    revoke(token) {
      sessions.delete(token);
    },
    failNext(status, body, contentType = 'text/html') {
      failures.push({ status, body, type: contentType });
    },
    delayNext(ms) {
      delays.push(ms);
    },
    acceptedPaths() {
      return fake.requests.filter((r) => r.verdict === 'ok').map((r) => r.path);
    },
  };

  fake.url = await listenLocal(server);
  return fake;
}
