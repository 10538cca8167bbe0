// The operator over HTTP: follows the call sequence and wire format of the original app's operator client
// (ardzz/im3wrap-backend, `im3/`): send OTP → validate OTP → profile → eligibility check (RC4-encrypted body) → its
// status → payment initiation, every request signed with X-Imi-Oauth / X-Imi-Hash, against IM3_BASE_URL; every key,
// header value and app identity comes from configuration. Nothing here logs a session token, an OTP or a key.
import { createHash } from 'node:crypto';
import type { Config } from '../../../config.ts';
import { type Im3Operator, OperatorError, type PackageOrder, passedThrough, pvrFor } from './operator.ts';

// The wire format of the original app's operator client (ardzz/im3wrap-backend, `im3/`), written anew: every call
// is a POST of compact JSON to IM3_BASE_URL + path and answers `{status: "0", message, data}` ("0" is success).
// Each request carries the configured static headers (Authorization, X-Imi-Servicekey, X-Imi-App-Os,
// X-Imi-Version, IM3_HEADERS) and four computed ones:
//   X-Imi-Tokenid  the session token (before login, a throwaway id: the odd-position digits of the time in ms)
//   X-Imi-Uid      the time in ms
//   X-Imi-Oauth    sha512 hex of `REQBODY=<body as sent>&SALT=<odd-position chars of the token id>`
//   X-Imi-Hash     sha512 hex of `parent$<app os>$<app version>$<token id>&SALT=<odd-position chars of the uid>`
// The eligibility check sends its JSON RC4-encrypted (IM3_RC4_KEY) as lowercase hex, and X-Imi-Oauth covers that hex.

/** The paths of the operator API (relative to IM3_BASE_URL), in the order a purchase calls them. */
export const IM3_PATHS = {
  sendOtp: '/api/v2/otp/send/v1',
  validateOtp: '/api/v2/otp/validate/v1',
  profile: '/api/v2/profile/get',
  checkEligible: '/api/v2/cvm/checkeligible',
  eligibleStatus: '/api/v2/esb/checkeligiblestatus',
  initiatePayment: '/api/v2/esb/initiatepayment',
} as const;

/** The characters at the odd positions (1st, 3rd, …) of `s`: the salt of both signatures. */
export const oddPositions = (s: string) => [...s].filter((_, i) => i % 2 === 0).join('');

const sha512Hex = (text: string) => createHash('sha512').update(text, 'utf8').digest('hex');

/** X-Imi-Oauth: binds the body as sent to the token id. */
export const imiOauth = (bodyAsSent: string, tokenId: string) =>
  sha512Hex(`REQBODY=${bodyAsSent}&SALT=${oddPositions(tokenId)}`);

/** X-Imi-Hash: binds the app identity and the token id to the request time (X-Imi-Uid). */
export const imiHash = (appOs: string, appVersion: string, tokenId: string, uid: string) =>
  sha512Hex(`parent$${appOs}$${appVersion}$${tokenId}&SALT=${oddPositions(uid)}`);

/** RC4 (key scheduling + keystream XOR) of the text's bytes, as lowercase hex. */
export function rc4Hex(key: string, text: string): string {
  const k = Buffer.from(key, 'utf8');
  if (k.length === 0) throw new Error('RC4 needs a key');
  const s = Uint8Array.from({ length: 256 }, (_, n) => n);
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + (s[i] as number) + (k[i % k.length] as number)) & 255;
    [s[i], s[j]] = [s[j] as number, s[i] as number];
  }
  const input = Buffer.from(text, 'utf8');
  const out = Buffer.alloc(input.length);
  for (let n = 0, i = 0, j = 0; n < input.length; n++) {
    i = (i + 1) & 255;
    j = (j + (s[i] as number)) & 255;
    [s[i], s[j]] = [s[j] as number, s[i] as number];
    out[n] = (input[n] as number) ^ (s[((s[i] as number) + (s[j] as number)) & 255] as number);
  }
  return out.toString('hex');
}

/** A number the original sends as a float (`0.0`, not `0`). */
class Float {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
}
type WireValue = string | number | Float;

/** Compact JSON as the original sends it: no spaces, non-ASCII as \uXXXX, floats with a decimal point. */
export function wireJson(body: Record<string, WireValue>): string {
  const value = (v: WireValue) =>
    v instanceof Float ? (Number.isInteger(v.value) ? `${v.value}.0` : String(v.value)) : JSON.stringify(v);
  const json = `{${Object.entries(body)
    .map(([k, v]) => `${JSON.stringify(k)}:${value(v)}`)
    .join(',')}}`;
  return json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** An Indonesian number as the operator wants it: 08… → 628…, 8… → 628…. */
export const operatorMsisdn = (n: string) => (n.startsWith('0') ? `62${n.slice(1)}` : n.startsWith('8') ? `62${n}` : n);

interface Envelope {
  status?: unknown;
  message?: unknown;
  transid?: unknown;
  data?: unknown;
}

type Im3HttpConfig = Pick<
  Config,
  | 'im3BaseUrl'
  | 'im3Authorization'
  | 'im3ServiceKey'
  | 'im3Rc4Key'
  | 'im3AppOs'
  | 'im3AppVersion'
  | 'im3Headers'
  | 'im3PaymentStatusPath'
  | 'im3TimeoutMs'
>;

export function createHttpOperator(deps: { config: Im3HttpConfig; fetch?: typeof fetch }): Im3Operator {
  const { config } = deps;
  const doFetch = deps.fetch ?? fetch;
  const {
    im3BaseUrl: base,
    im3Authorization: authorization,
    im3ServiceKey: serviceKey,
    im3Rc4Key: rc4Key,
    im3AppOs: appOs,
    im3AppVersion: appVersion,
    im3PaymentStatusPath: paymentStatusPath,
  } = config;
  if (!base || !authorization || !serviceKey || !rc4Key || !appOs || !appVersion || !paymentStatusPath) {
    throw new Error(
      'IM3_PROVIDER=http needs IM3_BASE_URL, IM3_AUTHORIZATION, IM3_SERVICE_KEY, IM3_RC4_KEY, IM3_APP_OS, ' +
        'IM3_APP_VERSION, IM3_PAYMENT_STATUS_PATH',
    );
  }
  const root = base.replace(/\/+$/, '');

  /** Before login the original signs with a throwaway token id: the odd-position digits of the time in ms. */
  const preLoginTokenId = () => oddPositions(String(Date.now()));

  async function call(
    path: string,
    body: Record<string, WireValue>,
    tokenId: string,
    encrypt = false,
  ): Promise<Envelope> {
    const json = wireJson(body);
    const sent = encrypt ? rc4Hex(rc4Key as string, json) : json;
    const uid = String(Date.now());
    const headers: Record<string, string> = {
      ...config.im3Headers,
      authorization: authorization as string,
      'x-imi-servicekey': serviceKey as string,
      'x-imi-app-os': appOs as string,
      'x-imi-version': appVersion as string,
      'x-imi-uid': uid,
      'x-imi-oauth': imiOauth(sent, tokenId),
      'x-imi-hash': imiHash(appOs as string, appVersion as string, tokenId, uid),
      'x-imi-tokenid': tokenId,
      'content-type': 'application/json',
    };
    let res: Response;
    try {
      res = await doFetch(`${root}${path}`, {
        method: 'POST',
        headers,
        body: sent,
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
    // `null`, a number or an array is JSON too, but not an envelope.
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new OperatorError('unavailable', 'The operator answered something that is not an envelope');
    }
    const env = parsed as Envelope;
    if (!res.ok) throw refusal(env);
    return env;
  }

  const succeeded = (env: Envelope) => String(env.status) === '0';
  const refusal = (env: Envelope) =>
    new OperatorError(
      'rejected',
      `The operator refused: ${typeof env.message === 'string' ? env.message.slice(0, 200) : 'request refused'}`,
    );
  /** The envelope's `data` of a successful answer; a refusal otherwise. */
  const dataOf = (env: Envelope): Record<string, unknown> => {
    if (!succeeded(env)) throw refusal(env);
    return typeof env.data === 'object' && env.data !== null && !Array.isArray(env.data)
      ? (env.data as Record<string, unknown>)
      : {};
  };
  const str = (v: unknown, what: string) => {
    if (typeof v !== 'string' || v === '') throw new OperatorError('unavailable', `The operator answered no ${what}`);
    return v;
  };
  const asAuth = (err: unknown) =>
    err instanceof OperatorError && err.kind === 'rejected' ? new OperatorError('auth', err.message) : err;

  /** The profile of a session and the number of its line (`data.mob`, without its 62). */
  async function profileData(session: string) {
    const d = dataOf(await call(IM3_PATHS.profile, {}, session));
    const mob = str(typeof d.mob === 'number' ? String(d.mob) : d.mob, 'number');
    return { msisdn: `62${mob}`, d };
  }
  const profileOf = async (session: string) => (await profileData(session)).msisdn;

  /** The order's fields as both the eligibility check and the payment send them. */
  const orderFields = (order: PackageOrder) => ({
    discountprice: order.discountPrice,
    keyword: order.keyword,
    normalprice: order.normalPrice,
    offerid: pvrFor(order),
    packagename: order.packageName,
  });

  return {
    name: 'http',
    stepMs: 0,
    async sendOtp(_db, msisdn) {
      const env = await call(
        IM3_PATHS.sendOtp,
        { msisdn: operatorMsisdn(msisdn), action: 'register' },
        preLoginTokenId(),
      );
      return { challenge: str(dataOf(env).transid, 'transid') };
    },
    async verifyOtp(_msisdn, challenge, code) {
      try {
        const env = await call(IM3_PATHS.validateOtp, { transid: challenge, otp: code }, preLoginTokenId());
        return { session: str(dataOf(env).tokenid, 'session token') };
      } catch (err) {
        throw asAuth(err);
      }
    },
    async profile(session) {
      // The original reads `mob` and passes the rest through; balance and validity are not in this answer.
      const { msisdn, d } = await profileData(session);
      const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
      const name = [text(d.fname), text(d.lname)].filter(Boolean).join(' ') || text(d.name);
      return { msisdn, name, balance: 0, status: 'UNKNOWN', active_until: null, fields: passedThrough(d) };
    },
    async checkEligibility(session, order) {
      // As the original: the number comes from the profile of the session, then the check (RC4-encrypted body).
      const msisdn = await profileOf(session);
      if (msisdn !== order.msisdn) throw new OperatorError('auth', 'The operator session belongs to another number');
      const f = orderFields({ ...order, msisdn });
      const env = await call(
        IM3_PATHS.checkEligible,
        {
          billaccount: '',
          discountprice: f.discountprice,
          keyword: f.keyword,
          name: '',
          normalprice: f.normalprice,
          offerid: f.offerid,
          operationtype: 'buy',
          packagename: f.packagename,
          paymentchannel: 'QRIS',
          shortcode: '',
          tomsisdn: msisdn,
          transid: '',
          transtype: 'cvm',
          validity: '',
          walletmsisdn: '',
        },
        session,
        true,
      );
      if (!succeeded(env)) throw refusal(env);
      // The original reads the transid at the top of this answer (not under `data`).
      const data = typeof env.data === 'object' && env.data !== null ? (env.data as Envelope) : {};
      return { ref: str(env.transid ?? data.transid, 'eligibility transid') };
    },
    async eligibilityStatus(session, ref) {
      // As the original: eligible once an answer with status "0" has `data.eligibility`; anything else means ask
      // again (the original never reads a "not eligible"; the purchase fails after IM3_ELIGIBILITY_ATTEMPTS).
      const env = await call(IM3_PATHS.eligibleStatus, { transid: ref }, session);
      const data = env.data;
      const confirmed =
        succeeded(env) && typeof data === 'object' && data !== null && Object.hasOwn(data, 'eligibility');
      return confirmed ? 'ELIGIBLE' : 'PENDING';
    },
    async initiatePayment(session, order, eligibilityRef) {
      const f = orderFields(order);
      const d = dataOf(
        await call(
          IM3_PATHS.initiatePayment,
          {
            balancereceive: new Float(0),
            validity: '',
            discountprice: f.discountprice,
            due: new Float(0),
            duedate: '',
            keyword: f.keyword,
            name: '',
            normalprice: f.normalprice,
            offerid: f.offerid,
            operationtype: 'buy',
            packagename: f.packagename,
            paymentchannel: 'QRIS',
            shortcode: '',
            tomsisdn: order.msisdn,
            transid: eligibilityRef,
            transtype: 'cvm',
            walletmsisdn: '',
          },
          session,
        ),
      );
      const resp = d.SendPaymentResp;
      const qr = typeof resp === 'object' && resp !== null ? (resp as Record<string, unknown>).actionData : undefined;
      // The original knows the purchase only by the eligibility transid; it is the payment's reference too.
      return { ref: eligibilityRef, qrPayload: str(qr, 'QR payload') };
    },
    async paymentStatus(session, ref) {
      // Not in the original (its purchase ends at the QR code): a configured path, same signing, `{transid}` in,
      // `data.status` out.
      const d = dataOf(await call(paymentStatusPath as string, { transid: ref }, session));
      const s = String(d.status ?? '').toUpperCase();
      return s === 'PAID' || s === 'SUCCESS' ? 'PAID' : s === 'FAILED' || s === 'EXPIRED' ? 'FAILED' : 'PENDING';
    },
  };
}
