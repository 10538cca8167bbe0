// The operator (IM3) port: what a purchase needs from Indosat's API, behind one interface with two adapters.
// `simulator` answers from this database (OTP by SMS through the outbox, eligibility after one step, QRIS payments
// paid through /_dev); `http` follows the original app's call sequence (send OTP → validate OTP → profile →
// eligibility check → its status → payment → its status) against IM3_BASE_URL, every request signed with
// IM3_SIGNING_KEY. Nothing here logs a session token, an OTP or a key.
import { createHmac, randomBytes } from 'node:crypto';
import type { Config } from '../../config.ts';
import type { Executor } from '../../core/db/tables.ts';
import { withTransaction } from '../../core/db/transaction.ts';
import { AppError } from '../../core/http/errors.ts';
import type { Otp } from '../../core/identity/otp.ts';
import { buildQris } from '../../core/payments/qris.ts';

export interface OperatorProfile {
  msisdn: string;
  name: string;
  balance: number;
  status: string;
  active_until: string | null;
}

export interface PackageOrder {
  pvrCode: string;
  keyword: string;
  discountPrice: number;
  normalPrice: number;
  packageName: string;
  msisdn: string;
  /** Our reference for this purchase (1-25 of A-Z, a-z, 0-9, -). */
  reference: string;
}

export type EligibilityState = 'PENDING' | 'ELIGIBLE' | 'NOT_ELIGIBLE';
export type PaymentState = 'PENDING' | 'PAID' | 'FAILED';

export type OperatorFailure = 'auth' | 'rejected' | 'unavailable';

/** A failure of the operator: its session or OTP was refused (auth), it said no (rejected), or it did not answer. */
export class OperatorError extends Error {
  readonly kind: OperatorFailure;
  constructor(kind: OperatorFailure, message: string) {
    super(message);
    this.name = 'OperatorError';
    this.kind = kind;
  }
}

export interface Im3Operator {
  readonly name: 'simulator' | 'http';
  /** Pause between two steps of a purchase (the simulator's IM3_SIMULATOR_STEP_MS; 0 for the real operator). */
  readonly stepMs: number;
  /** Asks for an OTP to `msisdn`; returns the operator's challenge (its transid) to send back with the code. */
  sendOtp(db: Executor, msisdn: string): Promise<{ challenge: string }>;
  verifyOtp(msisdn: string, challenge: string, code: string): Promise<{ session: string }>;
  profile(session: string): Promise<OperatorProfile>;
  checkEligibility(session: string, order: PackageOrder): Promise<{ ref: string }>;
  eligibilityStatus(session: string, ref: string): Promise<EligibilityState>;
  initiatePayment(session: string, order: PackageOrder): Promise<{ ref: string; qrPayload: string }>;
  paymentStatus(session: string, ref: string): Promise<PaymentState>;
}

/** The package's provider code with the number filled in (the operator's `$MSISDN$` placeholder). */
export const pvrFor = (order: PackageOrder) => order.pvrCode.replaceAll('$MSISDN$', order.msisdn);

// ---- simulator -----------------------------------------------------------------------------------------------

export const OTP_PURPOSE = 'im3.operator';

export function createSimulatorOperator(deps: {
  config: Pick<Config, 'im3SimulatorStepMs' | 'merchantName' | 'merchantCity'>;
  otp: Otp;
  db: Executor;
  now: () => Date;
}): Im3Operator {
  const { config, now } = deps;
  const msisdnOf = (session: string) => {
    const m = /^sim\.(62\d{6,15})\.[A-Za-z0-9_-]+$/.exec(session);
    if (!m?.[1]) throw new OperatorError('auth', 'The operator session is not valid');
    return m[1];
  };
  return {
    name: 'simulator',
    stepMs: config.im3SimulatorStepMs,
    async sendOtp(db, msisdn) {
      // The challenge and its SMS in the outbox together, or neither.
      await withTransaction(db, (trx) =>
        deps.otp.issue(trx, OTP_PURPOSE, msisdn, {
          channel: 'sms',
          to: msisdn,
          body: (code) => `Kode OTP IM3 kamu: ${code}. Berlaku 5 menit. Jangan berikan kode ini kepada siapa pun.`,
        }),
      );
      return { challenge: `sim-${randomBytes(8).toString('hex')}` };
    },
    async verifyOtp(msisdn, _challenge, code) {
      const r = await deps.otp.verify(OTP_PURPOSE, msisdn, code);
      if (r.ok) return { session: `sim.${msisdn}.${randomBytes(18).toString('base64url')}` };
      if (r.reason === 'locked') {
        throw new AppError('RATE_LIMITED', 'Too many wrong codes: ask for a new OTP', {
          headers: { 'retry-after': '60' },
        });
      }
      throw new OperatorError(
        'auth',
        r.reason === 'wrong' ? 'The OTP code is not correct' : 'The OTP code has expired; ask for a new one',
      );
    },
    async profile(session) {
      const msisdn = msisdnOf(session);
      return { msisdn, name: 'Pelanggan IM3', balance: 25_000, status: 'ACTIVE', active_until: null };
    },
    async checkEligibility(session, order) {
      const msisdn = msisdnOf(session);
      if (msisdn !== order.msisdn) throw new OperatorError('auth', 'The operator session belongs to another number');
      return { ref: `${msisdn}:${now().getTime()}` };
    },
    async eligibilityStatus(session, ref) {
      const msisdn = msisdnOf(session);
      const [refMsisdn, started] = ref.split(':');
      if (refMsisdn !== msisdn || !started) throw new OperatorError('rejected', 'Unknown eligibility check');
      if (now().getTime() - Number(started) < config.im3SimulatorStepMs) return 'PENDING';
      return msisdn.endsWith('0000') ? 'NOT_ELIGIBLE' : 'ELIGIBLE';
    },
    async initiatePayment(session, order) {
      msisdnOf(session);
      const qrPayload = buildQris({
        merchantName: config.merchantName,
        merchantCity: config.merchantCity,
        amount: order.discountPrice,
        reference: order.reference,
      });
      await deps.db
        .insertInto('im3_sim_payments')
        .values({ ref: order.reference, msisdn: order.msisdn, amount: order.discountPrice, created_at: now() })
        .onConflict((oc) => oc.column('ref').doNothing())
        .execute();
      return { ref: order.reference, qrPayload };
    },
    async paymentStatus(session, ref) {
      msisdnOf(session);
      const row = await deps.db
        .selectFrom('im3_sim_payments')
        .select('paid_at')
        .where('ref', '=', ref)
        .executeTakeFirst();
      if (!row) throw new OperatorError('rejected', 'Unknown payment');
      return row.paid_at ? 'PAID' : 'PENDING';
    },
  };
}

// ---- HTTP ----------------------------------------------------------------------------------------------------

/** The paths of the operator API, in the order a purchase calls them. */
export const IM3_PATHS = {
  sendOtp: '/api/v2/otp/send/v1',
  validateOtp: '/api/v2/otp/validate/v1',
  profile: '/api/v2/profile/get/v1',
  eligibility: '/api/v2/package/eligible/v1',
  eligibilityStatus: '/api/v2/package/eligible/status/v1',
  payment: '/api/v2/payment/qris/v1',
  paymentStatus: '/api/v2/payment/status/v1',
} as const;

/** The signature of one request: HMAC-SHA256 (hex) over `timestamp.path.body` with the signing key. */
export const signIm3 = (key: string, timestamp: string, path: string, body: string) =>
  createHmac('sha256', key).update(`${timestamp}.${path}.${body}`).digest('hex');

interface Envelope {
  status?: unknown;
  message?: unknown;
  data?: Record<string, unknown> | null;
}

export function createHttpOperator(deps: {
  config: Pick<Config, 'im3BaseUrl' | 'im3ClientId' | 'im3SigningKey' | 'im3TimeoutMs'>;
  fetch?: typeof fetch;
}): Im3Operator {
  const { config } = deps;
  const doFetch = deps.fetch ?? fetch;
  const base = config.im3BaseUrl;
  const clientId = config.im3ClientId;
  const key = config.im3SigningKey;
  if (!base || !clientId || !key)
    throw new Error('IM3_PROVIDER=http needs IM3_BASE_URL, IM3_CLIENT_ID, IM3_SIGNING_KEY');

  async function call(path: string, body: Record<string, unknown>, session?: string): Promise<Record<string, unknown>> {
    const text = JSON.stringify(body);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      'x-client-id': clientId as string,
      'x-timestamp': timestamp,
      'x-signature': signIm3(key as string, timestamp, path, text),
    };
    if (session) headers.authorization = `Bearer ${session}`;
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, {
        method: 'POST',
        headers,
        body: text,
        signal: AbortSignal.timeout(config.im3TimeoutMs),
      });
    } catch (err) {
      throw new OperatorError('unavailable', `The operator did not answer (${(err as Error).name})`);
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw new OperatorError('auth', 'The operator refused the session or the request signature');
    }
    if (res.status >= 500 || res.status === 429) {
      await res.body?.cancel();
      throw new OperatorError('unavailable', `The operator answered HTTP ${res.status}`);
    }
    let parsed: unknown;
    try {
      parsed = await res.json();
    } catch {
      throw new OperatorError('unavailable', 'The operator answered something that is not JSON');
    }
    // `null`, a number or an array is JSON too, but not an envelope (reading `.status` of null would throw a
    // TypeError that no caller maps to an operator failure).
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new OperatorError('unavailable', 'The operator answered something that is not an envelope');
    }
    const json = parsed as Envelope;
    if (String(json.status) !== '0' || !res.ok) {
      const message = typeof json.message === 'string' ? json.message.slice(0, 200) : 'request refused';
      throw new OperatorError('rejected', `The operator refused: ${message}`);
    }
    return json.data ?? {};
  }

  const str = (v: unknown, what: string) => {
    if (typeof v !== 'string' || v === '') throw new OperatorError('unavailable', `The operator answered no ${what}`);
    return v;
  };

  return {
    name: 'http',
    stepMs: 0,
    async sendOtp(_db, msisdn) {
      const data = await call(IM3_PATHS.sendOtp, { msisdn, action: 'register' });
      return { challenge: str(data.transid, 'transid') };
    },
    async verifyOtp(_msisdn, challenge, code) {
      try {
        const data = await call(IM3_PATHS.validateOtp, { transid: challenge, otp: code });
        return { session: str(data.tokenid, 'session token') };
      } catch (err) {
        if (err instanceof OperatorError && err.kind === 'rejected') throw new OperatorError('auth', err.message);
        throw err;
      }
    },
    async profile(session) {
      const d = await call(IM3_PATHS.profile, {}, session);
      return {
        msisdn: str(d.msisdn, 'number'),
        name: typeof d.name === 'string' ? d.name : '',
        balance: Number(d.balance ?? 0) || 0,
        status: typeof d.status === 'string' ? d.status : 'UNKNOWN',
        active_until: typeof d.active_until === 'string' ? d.active_until : null,
      };
    },
    async checkEligibility(session, order) {
      const d = await call(
        IM3_PATHS.eligibility,
        {
          msisdn: order.msisdn,
          pvrcode: pvrFor(order),
          keyword: order.keyword,
          discountprice: order.discountPrice,
          normalprice: order.normalPrice,
          packagename: order.packageName,
          billaccount: '',
        },
        session,
      );
      return { ref: str(d.checkid, 'eligibility check id') };
    },
    async eligibilityStatus(session, ref) {
      const d = await call(IM3_PATHS.eligibilityStatus, { checkid: ref }, session);
      const r = String(d.result ?? '').toUpperCase();
      return r === 'ELIGIBLE' ? 'ELIGIBLE' : r === 'NOT_ELIGIBLE' ? 'NOT_ELIGIBLE' : 'PENDING';
    },
    async initiatePayment(session, order) {
      const d = await call(
        IM3_PATHS.payment,
        {
          msisdn: order.msisdn,
          pvrcode: pvrFor(order),
          keyword: order.keyword,
          amount: order.discountPrice,
          reference: order.reference,
        },
        session,
      );
      return { ref: str(d.paymentid, 'payment id'), qrPayload: str(d.qrstring, 'QR payload') };
    },
    async paymentStatus(session, ref) {
      const d = await call(IM3_PATHS.paymentStatus, { paymentid: ref }, session);
      const s = String(d.status ?? '').toUpperCase();
      return s === 'PAID' ? 'PAID' : s === 'FAILED' || s === 'EXPIRED' ? 'FAILED' : 'PENDING';
    },
  };
}
