// Every example of the IM3Wrap seed document (004_1af1f5a3bfdbec52.txt: authentication flow, IM3 integration flow,
// package purchase flow, response formats, error codes, status values, the SDK examples) run against a fresh Loket,
// compared by shape and by the values the example fixes (issue 21 item 3).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from './helpers/app.ts';
import { bearer } from './helpers/identity.ts';
import {
  expectExample,
  otpFromOutbox,
  type Res,
  startSeedApp,
  timestampsWithoutOffset,
} from './helpers/seed-examples.ts';
import { until } from './helpers/until.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startSeedApp(['im3'], {
    env: { IM3_SIMULATOR_STEP_MS: '50', IM3_ELIGIBILITY_INTERVAL_MS: '200', IM3_PAYMENT_POLL_MS: '200' },
  });
});
afterAll(async () => t?.close());

const call = (method: 'GET' | 'POST' | 'PUT', url: string, headers: Record<string, string> = {}, payload?: object) =>
  t.app.inject({
    method,
    url,
    headers: { ...(payload && { 'content-type': 'application/json' }), ...headers },
    ...(payload && { payload }),
  }) as Promise<Res>;

// "Response Format": every answer has this envelope.
const SUCCESS = {
  success: true,
  request_id: 'req_123456789',
  timestamp: '2025-05-31T09:44:01Z',
  data: {},
  message: 'Operation successful',
  meta: {},
};
const ERROR = {
  success: false,
  request_id: 'req_123456789',
  timestamp: '2025-05-31T09:44:01Z',
  error: { code: 'VALIDATION_ERROR', message: 'Validation failed', details: {} },
};
const ok = (data: unknown) => ({ ...SUCCESS, data });
const err = (code: string) => ({ success: false, error: { code } });

// "### 1. User Registration" and "### 2. User Login"
const REGISTER = ok({ user_id: 1, username: 'john_doe', message: 'User registered successfully' });
const LOGIN = ok({
  access_token: 'eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9...',
  user: { id: 1, username: 'john_doe', email: null },
  message: 'Login successful',
});
// "### 1. List Available Packages"
const PACKAGES = ok([
  {
    id: 1,
    pvr_code: 'IM3001',
    keyword: 'DATA5GB',
    discount_price: 45000,
    normal_price: 50000,
    package_name: '5GB Internet Package',
    created_at: '2025-05-31T09:00:00Z',
    updated_at: '2025-05-31T09:00:00Z',
  },
]);
// "### 2. Purchase Package"
const PURCHASE = ok({
  transaction_id: 1,
  task_id: 'task_abc123',
  package_detail: { id: 1, package_name: '5GB Internet Package', discount_price: 45000 },
  message: 'Transaction is being processed',
  status: 'PENDING',
});
// "### 3. Check Transaction Status"
const TRANSACTION = ok({
  id: 1,
  user_id: 1,
  package_id: 1,
  status: 'PAYMENT_INITIATED',
  qr_code: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAA...',
  created_at: '2025-05-31T09:00:00Z',
  updated_at: '2025-05-31T09:30:00Z',
});
// "## Transaction Status Values"
const STATUSES = [
  'PENDING',
  'PROCESSING',
  'CHECKING_ELIGIBILITY',
  'WAITING_FOR_ELIGIBILITY',
  'INITIATING_PAYMENT',
  'PAYMENT_INITIATED',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
];

let h: Record<string, string>;
let userId: number;
let pkg: { id: number; package_name: string; discount_price: number };
let txId: number;

describe('IM3 seed examples', () => {
  describe('Authentication Flow', () => {
    it('1. POST /api/auth/register {"username","password"} answers the documented envelope and data', async () => {
      const body = { username: 'john_doe', password: 'securepassword123' };
      const res = await call('POST', '/api/auth/register', {}, body);
      // The document shows no status for registration; Loket answers 201 Created.
      const b = expectExample(res, 201, REGISTER, {
        success: true,
        data: { username: 'john_doe', message: 'User registered successfully' },
        message: 'User registered successfully',
      });
      userId = b.data.user_id;
    });

    it('2. POST /api/auth/login answers the token and the user (email null)', async () => {
      const res = await call('POST', '/api/auth/login', {}, { username: 'john_doe', password: 'securepassword123' });
      const b = expectExample(res, 200, LOGIN, {
        success: true,
        data: { user: { id: userId, username: 'john_doe', email: null }, message: 'Login successful' },
        message: 'Login successful',
      });
      h = bearer(b.data.access_token);
    });

    it('a second registration of john_doe is USERNAME_EXISTS (409); a wrong password INVALID_CREDENTIALS (401)', async () => {
      const again = await call('POST', '/api/auth/register', {}, { username: 'john_doe', password: 'anotherpass123' });
      expectExample(again, 409, ERROR, err('USERNAME_EXISTS'));
      const wrong = await call('POST', '/api/auth/login', {}, { username: 'john_doe', password: 'wrongpassword1' });
      expectExample(wrong, 401, ERROR, err('INVALID_CREDENTIALS'));
    });

    it('Error Response: a registration without username is VALIDATION_ERROR (400) with details.username', async () => {
      const res = await call('POST', '/api/auth/register', {}, { password: 'securepassword123' });
      const b = expectExample(res, 400, ERROR, err('VALIDATION_ERROR'));
      expect(b.error.details.username).toEqual([expect.any(String)]);
    });

    it('a call without a token is AUTHENTICATION_ERROR (401)', async () => {
      expectExample(await call('GET', '/api/user/me'), 401, ERROR, err('AUTHENTICATION_ERROR'));
    });
  });

  describe('IM3 Integration Flow', () => {
    it('1. PUT /api/user/me {"phone_number": "628123456789"} sets the phone', async () => {
      const res = await call('PUT', '/api/user/me', h, { phone_number: '628123456789' });
      expectExample(res, 200, ok({ phone_number: '' }), { success: true, data: { phone_number: '628123456789' } });
      const me = await call('GET', '/api/user/me', h);
      expectExample(me, 200, ok({ id: 1, username: '' }), { data: { id: userId, username: 'john_doe' } });
    });

    it('2. GET /api/im3/send-otp and 3. POST /api/im3/verify-otp {"code"} link the IM3 number', async () => {
      expectExample(await call('GET', '/api/im3/send-otp', h), 200, SUCCESS, { success: true });
      const code = await otpFromOutbox(t, '628123456789', 'sms');
      expectExample(await call('POST', '/api/im3/verify-otp', h, { code }), 200, SUCCESS, { success: true });
    });

    it('4. GET /api/im3/profile answers the linked profile', async () => {
      expectExample(await call('GET', '/api/im3/profile', h), 200, SUCCESS, { success: true });
    });
  });

  describe('Package Purchase Flow', () => {
    it('1. GET /api/packages/packages lists packages with the documented fields', async () => {
      const b = expectExample(await call('GET', '/api/packages/packages', h), 200, PACKAGES, { success: true });
      expect(b.data.length).toBeGreaterThan(0);
      pkg = b.data[0];
    });

    it('2. POST /api/packages/packages/purchase {"package_id"} answers PENDING with the package detail', async () => {
      const res = await call('POST', '/api/packages/packages/purchase', h, { package_id: pkg.id });
      // The document shows no status here; Loket answers 202 Accepted (the purchase goes on in the background).
      const b = expectExample(res, 202, PURCHASE, {
        success: true,
        data: {
          package_detail: { id: pkg.id, package_name: pkg.package_name, discount_price: pkg.discount_price },
          status: 'PENDING',
        },
      });
      txId = b.data.transaction_id;
    });

    it('3. GET /api/packages/transactions/{id} reaches PAYMENT_INITIATED with a real PNG QR code', async () => {
      const seen = new Set<string>();
      const res = await until(
        async () => {
          const r = await call('GET', `/api/packages/transactions/${txId}`, h);
          seen.add(r.json().data?.status);
          return r.json().data?.status === 'PAYMENT_INITIATED' && r;
        },
        { what: 'PAYMENT_INITIATED' },
      );
      const b = expectExample(res, 200, TRANSACTION, {
        success: true,
        data: { id: txId, user_id: userId, package_id: pkg.id, status: 'PAYMENT_INITIATED' },
      });
      expect(b.data.qr_code).toMatch(/^data:image\/png;base64,iVBORw0KGgo/);
      // Every status seen on the way is one of the document's table.
      for (const s of seen) expect(STATUSES).toContain(s);
    });

    it('GET /api/packages/transactions lists the transaction in the same shape', async () => {
      const res = await call('GET', '/api/packages/transactions', h);
      const b = expectExample(res, 200, ok([TRANSACTION.data]), { success: true });
      expect(b.data.map((x: { id: number }) => x.id)).toContain(txId);
    });

    it('an unknown package is PACKAGE_NOT_FOUND (404)', async () => {
      const res = await call('POST', '/api/packages/packages/purchase', h, { package_id: 999_999 });
      expectExample(res, 404, ERROR, err('PACKAGE_NOT_FOUND'));
    });
  });

  describe('SDK Examples (Python, JavaScript, cURL)', () => {
    it('POST /user/me/change-password, then the SDKs’ login with password123 and GET /api/packages/packages', async () => {
      // The SDK examples log john_doe in with "password123": the documented change-password gets there.
      const change = await call('POST', '/api/user/me/change-password', h, {
        current_password: 'securepassword123',
        new_password: 'password123',
      });
      expectExample(change, 200, SUCCESS, { success: true });
      const login = await call('POST', '/api/auth/login', {}, { username: 'john_doe', password: 'password123' });
      const token = expectExample(login, 200, LOGIN, { success: true }).data.access_token;
      const packages = await call('GET', '/api/packages/packages', { authorization: `Bearer ${token}` });
      expectExample(packages, 200, PACKAGES, { success: true });
    });
  });

  it('GET /api/health answers without a token', async () => {
    const res = await call('GET', '/api/health');
    expect(res.statusCode, res.body).toBe(200);
  });

  it('Rate Limiting: the sixth sign-in in a minute from one IP answers 429 in the error envelope', async () => {
    const limited = await startSeedApp(['im3'], { config: { rateLimits: true } });
    try {
      const attempt = () =>
        limited.app.inject({
          method: 'POST',
          url: '/api/auth/login',
          payload: { username: 'john_doe', password: 'wrongpassword1' },
        }) as Promise<Res>;
      for (let i = 0; i < 5; i++) expect((await attempt()).statusCode).toBe(401);
      const res = await attempt();
      // The error-code table has no code for this; the envelope is the document's.
      expectExample(res, 429, ERROR, { success: false });
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  }, 90_000);

  it('CONTRACTS §6: every timestamp in the answers above carries its offset (issue 21 finding 13)', () => {
    expect(timestampsWithoutOffset()).toEqual([]);
  });
});
