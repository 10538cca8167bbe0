// A fake IM3 operator API for tests: a real HTTP server on 127.0.0.1 speaking the wire format Loket's HTTP adapter
// (src/modules/im3/operator.ts, `IM3_PROVIDER=http`) uses — POST with a JSON body to /api/v2/…, answers in the
// envelope `{status: "0", message, data}` (any other status is a refusal), `Authorization: Bearer <tokenid>` on every
// call after the OTP. Every request must carry `x-client-id`, `x-timestamp` (Unix seconds, ±5 minutes) and
// `x-signature`, which the fake checks with its own implementation (WebCrypto HMAC-SHA256, hex, over
// `timestamp.path.body`): a wrong one is 401, as is an unknown or revoked session.
//
// The paths and field names are written out here rather than imported, so the adapter is checked against them.
// Controls: the next OTP code, eligibility per number (and how many polls stay PENDING), payment completion or
// failure, refusals of an order, and for any request a failure (`failNext`) or a slow answer (`delayNext`).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const FAKE_IM3_CLIENT_ID = 'loket-fake-client';
export const FAKE_IM3_SIGNING_KEY = 'fake-im3-signing-key-7a1c9e4b2d';
const MAX_BODY_BYTES = 64 * 1024;
const CLOCK_SKEW_S = 300;
const OTP_TTL_MS = 5 * 60_000;
const OTP_MAX_ATTEMPTS = 3;

const P = {
  sendOtp: '/api/v2/otp/send/v1',
  validateOtp: '/api/v2/otp/validate/v1',
  profile: '/api/v2/profile/get/v1',
  eligible: '/api/v2/package/eligible/v1',
  eligibleStatus: '/api/v2/package/eligible/status/v1',
  payment: '/api/v2/payment/qris/v1',
  paymentStatus: '/api/v2/payment/status/v1',
} as const;

export type FakeIm3Verdict = 'ok' | 'bad-signature' | 'bad-client' | 'stale-timestamp' | 'bad-session' | 'malformed';

export interface FakeIm3Request {
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (the raw text when not JSON). */
  body: unknown;
  /** What the fake made of the request's credentials (before any `failNext`). */
  verdict: FakeIm3Verdict;
}

export interface FakeIm3Check {
  checkId: string;
  msisdn: string;
  body: Record<string, unknown>;
  polls: number;
  result: 'PENDING' | 'ELIGIBLE' | 'NOT_ELIGIBLE';
}

export interface FakeIm3Payment {
  paymentId: string;
  reference: string;
  msisdn: string;
  amount: number;
  body: Record<string, unknown>;
  qrString: string;
  status: 'PENDING' | 'PAID' | 'FAILED' | 'EXPIRED';
  /** Times this reference was asked to be paid (1 however often it is sent again). */
  initiations: number;
}

export interface FakeIm3Operator {
  url: string;
  clientId: string;
  signingKey: string;
  close(): Promise<void>;
  requests: FakeIm3Request[];
  /** Every session token issued, in order (for asserting it never leaks). */
  tokens: string[];
  /** Every OTP code issued, by msisdn, last one last. */
  otps: Map<string, string[]>;
  checks: Map<string, FakeIm3Check>;
  /** By payment id. */
  payments: Map<string, FakeIm3Payment>;
  /** The code the next send-otp issues (random 6 digits otherwise). */
  nextOtp(code: string): void;
  lastOtp(msisdn: string): string | undefined;
  /** The last session token issued for this number. */
  lastToken(msisdn: string): string | undefined;
  /** What eligibility checks of this number end in, after `pendingPolls` PENDING answers (default ELIGIBLE, 1). */
  setEligibility(msisdn: string, result: 'ELIGIBLE' | 'NOT_ELIGIBLE', pendingPolls?: number): void;
  /** Orders of this pvrcode are refused at the eligibility request (status E301). */
  refusePvr(pvrcode: string): void;
  /** The payment for this reference (our task id): its status from now on. */
  settle(reference: string, status: 'PAID' | 'FAILED' | 'EXPIRED'): FakeIm3Payment;
  paymentFor(reference: string): FakeIm3Payment | undefined;
  /** The operator forgets this session: every call with it is 401 from now on. */
  revoke(token: string): void;
  /** The next request gets this HTTP status and body (default: an HTML error page), unhandled. */
  failNext(status: number, body?: string, contentType?: string): void;
  /** The next request is answered only after `ms` (it is still handled, as the operator would). */
  delayNext(ms: number): void;
  /** Paths of the requests so far whose client id, timestamp and signature were right. */
  acceptedPaths(): string[];
}

type Json = Record<string, unknown>;
type Answer = [status: number, body: unknown];

const ok = (data: Json): Answer => [200, { status: '0', message: 'success', data }];
const refuse = (code: string, message: string, http = 200): Answer => [http, { status: code, message, data: null }];
const text = (v: unknown): v is string => typeof v === 'string' && v !== '';

/** HMAC-SHA256 (hex) through WebCrypto: deliberately not the adapter's node:crypto code. */
async function hmacHex(key: string, message: string): Promise<string> {
  const enc = new TextEncoder();
  const k = await crypto.subtle.importKey('raw', enc.encode(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', k, enc.encode(message)));
  let out = '';
  for (const b of mac) out += b.toString(16).padStart(2, '0');
  return out;
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
    tlv('26', tlv('00', 'ID.CO.INDOSAT.WWW') + tlv('01', reference)),
    tlv('53', '360'),
    tlv('54', String(amount)),
    tlv('58', 'ID'),
    tlv('59', 'INDOSAT OOREDOO'),
    tlv('60', 'JAKARTA'),
  ].join('');
}

export async function startFakeIm3Operator(
  opts: { clientId?: string; signingKey?: string } = {},
): Promise<FakeIm3Operator> {
  const challenges = new Map<string, { msisdn: string; code: string; expiresAt: number; attempts: number }>();
  const sessions = new Map<string, string>(); // token → msisdn, while valid
  const tokenMsisdn = new Map<string, string>(); // every token ever issued → msisdn
  const eligibility = new Map<string, { result: 'ELIGIBLE' | 'NOT_ELIGIBLE'; pendingPolls: number }>();
  const ruleOf = new Map<string, { result: 'ELIGIBLE' | 'NOT_ELIGIBLE'; pendingPolls: number }>(); // check id → rule
  const refusedPvr = new Set<string>();
  const byReference = new Map<string, string>(); // reference → payment id
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

  async function verdictOf(req: IncomingMessage, path: string, raw: string): Promise<FakeIm3Verdict> {
    const h = req.headers;
    if (h['x-client-id'] !== fake.clientId) return 'bad-client';
    const ts = String(h['x-timestamp'] ?? '');
    if (!/^\d{9,11}$/.test(ts) || Math.abs(Date.now() / 1000 - Number(ts)) > CLOCK_SKEW_S) return 'stale-timestamp';
    const expected = await hmacHex(fake.signingKey, `${ts}.${path}.${raw}`);
    if (!sameText(String(h['x-signature'] ?? ''), expected)) return 'bad-signature';
    return 'ok';
  }

  const bearerOf = (req: IncomingMessage) => /^Bearer (\S+)$/.exec(String(req.headers.authorization ?? ''))?.[1];

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
    return ok({ transid, msisdn, expires_in: OTP_TTL_MS / 1000 });
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
    return ok({ tokenid, msisdn: c.msisdn });
  }

  function withSession(req: IncomingMessage, path: string, body: Json): Answer {
    const token = bearerOf(req);
    const msisdn = token ? sessions.get(token) : undefined;
    if (!msisdn) return refuse('E401', 'session expired', 401);
    switch (path) {
      case P.profile:
        return ok({
          msisdn,
          name: `Pelanggan ${msisdn.slice(-4)}`,
          balance: '12500',
          status: 'ACTIVE',
          active_until: '2027-01-31',
        });
      case P.eligible: {
        const fields = ['msisdn', 'pvrcode', 'keyword', 'packagename'] as const;
        if (fields.some((f) => !text(body[f])) || typeof body.discountprice !== 'number') {
          return refuse('E100', 'incomplete order', 400);
        }
        if (body.msisdn !== msisdn) return refuse('E403', 'msisdn does not match the session', 403);
        const pvr = body.pvrcode as string;
        if (pvr.includes('$MSISDN$')) return refuse('E302', 'pvrcode still has a placeholder');
        if (refusedPvr.has(pvr)) return refuse('E301', 'paket tidak tersedia');
        const checkId = `CHK${randomBytes(8).toString('hex')}`;
        const rule = eligibility.get(msisdn) ?? { result: 'ELIGIBLE', pendingPolls: 1 };
        fake.checks.set(checkId, { checkId, msisdn, body, polls: 0, result: 'PENDING' });
        ruleOf.set(checkId, rule);
        return ok({ checkid: checkId });
      }
      case P.eligibleStatus: {
        const check = text(body.checkid) ? fake.checks.get(body.checkid) : undefined;
        if (!check || check.msisdn !== msisdn) return refuse('E304', 'check not found');
        const rule = ruleOf.get(check.checkId) ?? { result: 'ELIGIBLE', pendingPolls: 0 };
        check.polls += 1;
        if (check.polls > rule.pendingPolls) check.result = rule.result;
        return ok({ checkid: check.checkId, result: check.result });
      }
      case P.payment: {
        const { reference, amount } = body;
        if (!text(reference) || !/^[A-Za-z0-9-]{1,25}$/.test(reference) || typeof amount !== 'number' || amount <= 0) {
          return refuse('E100', 'invalid reference or amount', 400);
        }
        if (body.msisdn !== msisdn) return refuse('E403', 'msisdn does not match the session', 403);
        const eligible = [...fake.checks.values()].some(
          (c) => c.msisdn === msisdn && c.body.pvrcode === body.pvrcode && c.result === 'ELIGIBLE',
        );
        if (!eligible) return refuse('E305', 'not checked for eligibility');
        const known = byReference.get(reference);
        if (known) {
          const p = fake.payments.get(known) as FakeIm3Payment;
          p.initiations += 1;
          return ok({ paymentid: p.paymentId, qrstring: p.qrString, amount: p.amount });
        }
        const paymentId = `PAY${randomBytes(8).toString('hex')}`;
        const p: FakeIm3Payment = {
          paymentId,
          reference,
          msisdn,
          amount,
          body,
          qrString: qrisLike(amount, reference),
          status: 'PENDING',
          initiations: 1,
        };
        fake.payments.set(paymentId, p);
        byReference.set(reference, paymentId);
        return ok({ paymentid: paymentId, qrstring: p.qrString, amount });
      }
      case P.paymentStatus: {
        const p = text(body.paymentid) ? fake.payments.get(body.paymentid) : undefined;
        if (!p || p.msisdn !== msisdn) return refuse('E404', 'payment not found');
        return ok({ paymentid: p.paymentId, status: p.status });
      }
      default:
        return [404, { status: 'E404', message: `no route ${path}` }];
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const raw = await readBody(req);
    const path = new URL(req.url ?? '/', 'http://fake.invalid').pathname;
    let body: unknown = raw ?? undefined;
    let json: Json | undefined;
    if (raw !== null) {
      try {
        body = JSON.parse(raw);
        if (typeof body === 'object' && body !== null && !Array.isArray(body)) json = body as Json;
      } catch {
        // stays text
      }
    }
    const verdict: FakeIm3Verdict =
      req.method !== 'POST' ||
      raw === null ||
      !json ||
      !String(req.headers['content-type']).startsWith('application/json')
        ? 'malformed'
        : await verdictOf(req, path, raw);
    const entry: FakeIm3Request = { path, headers: req.headers, body, verdict };
    fake.requests.push(entry);
    // Both are claimed on arrival, so a request still sleeping cannot take a failure meant for a later one.
    const delay = delays.shift();
    const failure = failures.shift();
    if (delay !== undefined) await sleep(delay);
    if (failure) {
      send(
        res,
        failure.status,
        failure.body ?? `<html><body><h1>${failure.status}</h1>gateway error</body></html>`,
        failure.type,
      );
      return;
    }
    let answer: Answer;
    if (verdict === 'malformed') answer = refuse('E100', 'bad request', 400);
    else if (verdict !== 'ok') answer = refuse('E401', 'invalid signature', 401);
    else if (path === P.sendOtp) answer = sendOtp(json as Json);
    else if (path === P.validateOtp) answer = validateOtp(json as Json);
    else answer = withSession(req, path, json as Json);
    if (answer[0] === 401 && verdict === 'ok') entry.verdict = 'bad-session';
    send(res, answer[0], JSON.stringify(answer[1]), 'application/json');
  }

  function send(res: ServerResponse, status: number, body: string, type: string) {
    if (res.destroyed || res.socket === null || res.socket.destroyed) return;
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent && !res.destroyed)
        send(res, 500, JSON.stringify({ message: String(e) }), 'application/json');
    });
  });

  const fake: FakeIm3Operator = {
    url: '',
    clientId: opts.clientId ?? FAKE_IM3_CLIENT_ID,
    signingKey: opts.signingKey ?? FAKE_IM3_SIGNING_KEY,
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
    refusePvr(pvrcode) {
      refusedPvr.add(pvrcode);
    },
    settle(reference, status) {
      const p = fake.paymentFor(reference);
      if (!p) throw new Error(`fake IM3: no payment for reference '${reference}'`);
      p.status = status;
      return p;
    },
    paymentFor(reference) {
      const id = byReference.get(reference);
      return id ? fake.payments.get(id) : undefined;
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

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

/** The body as text, or null when it is larger than any real request. */
async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}
