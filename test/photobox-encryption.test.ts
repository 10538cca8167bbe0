import { createCipheriv, createDecipheriv, createHmac, hkdfSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';
import { files, jpeg, multipart, pay } from './helpers/photobox.ts';

// As an operator would make them: `openssl rand -hex 16` and `openssl rand -hex 8`.
const KEY = '3f9c2a7b81d64e05b2c19a8e7d6f4031';
const IV = 'a1b2c3d4e5f60718';

const storageDir = mkdtempSync(join(tmpdir(), 'loket-photos-test-'));
let t: TestApp;
let kiosk: Record<string, string>;
let locationId: number;

beforeAll(async () => {
  t = await startTestApp({
    env: { ENCRYPTION_ENABLED: 'on', ENCRYPTION_KEY: KEY, ENCRYPTION_IV: IV },
    config: { modules: ['photobox'], storageDir },
  });
  const admin = bearer((await tokensFor(t.app, await makeAccount(t.app, { photobox: 50 }))).access_token);
  kiosk = {
    'x-api-key': (
      await t.app.inject({ method: 'POST', url: '/api/v1/kiosks', headers: admin, payload: { name: 'Enc' } })
    ).json().data.api_key,
  };
  locationId = (
    await t.app.inject({ method: 'POST', url: '/api/v1/locations', headers: admin, payload: { ml_name: 'Enc Mall' } })
  ).json().data.ml_id;
});
afterAll(async () => {
  await t?.close();
  rmSync(storageDir, { recursive: true, force: true });
});

/** The document's decryption, with nothing but node:crypto: AES-256-CBC, key and IV as UTF-8 bytes, PKCS#7. */
function decrypt(b64: string): unknown {
  const d = createDecipheriv('aes-256-cbc', Buffer.from(KEY, 'utf8'), Buffer.from(IV, 'utf8'));
  return JSON.parse(Buffer.concat([d.update(Buffer.from(b64, 'base64')), d.final()]).toString('utf8'));
}

/** The signature as docs/PHOTOBOX.md defines it, computed independently. */
function signatureOf(b64: string): string {
  const key = Buffer.from(
    hkdfSync('sha256', Buffer.from(KEY, 'utf8'), Buffer.alloc(0), 'loket:photobox-response-hmac', 32),
  );
  return `v1=${createHmac('sha256', key).update(b64, 'utf8').digest('base64')}`;
}

/** What the documented decryptor resolves to: the plain answer (an envelope, or the gallery itself). */
type Opened = Record<string, unknown> & { data?: Record<string, unknown>; photos?: unknown[] };

/** The browser code block of docs/PHOTOBOX.md, run as it is (Node has the same WebCrypto, atob and TextEncoder). */
function documentedDecryptor(): (
  body: { data: string },
  sig: string | undefined,
  k: string,
  iv: string,
) => Promise<Opened> {
  const doc = readFileSync(join(import.meta.dirname, '..', 'docs', 'PHOTOBOX.md'), 'utf8');
  const m = /```js kiosk-decrypt\n([\s\S]*?)\n```/.exec(doc);
  if (!m) throw new Error('docs/PHOTOBOX.md has no kiosk-decrypt block');
  return new Function(`${m[1]}\nreturn openLoketResponse;`)();
}

async function newTransaction(email?: string) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/transactions',
    headers: kiosk,
    payload: { location_id: locationId, ...(email ? { email } : {}) },
  });
  expect(res.statusCode).toBe(201);
  // Only the two documented reads are encrypted: creating a transaction answers plain JSON.
  expect(res.json()).toMatchObject({ success: true, data: { tr_status: 'PENDING' } });
  return res.json().data as { tr_id: number; tr_external_id: string; tr_amount: number; tr_expired_at: string };
}

const poll = (ext: string) => t.app.inject({ method: 'GET', url: `/api/v1/transactions/external/${ext}` });

describe('response encryption (ENCRYPTION_ENABLED=on)', () => {
  it('polling answers {"data": base64}; node:crypto decrypts it as the document specifies, to the plain answer', async () => {
    const tr = await newTransaction();
    const res = await poll(tr.tr_external_id);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body)).toEqual(['data']);
    expect(body.data).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(decrypt(body.data)).toEqual({
      success: true,
      message: 'Transaction retrieved successfully',
      data: {
        tr_id: tr.tr_id,
        tr_external_id: tr.tr_external_id,
        tr_status: 'PENDING',
        tr_paid_at: null,
        tr_amount: 40_000,
        tr_expired_at: tr.tr_expired_at,
      },
    });
    // Byte-compatible: encrypting the same JSON with the document's parameters gives the same bytes.
    const c = createCipheriv('aes-256-cbc', Buffer.from(KEY, 'utf8'), Buffer.from(IV, 'utf8'));
    const again = Buffer.concat([c.update(JSON.stringify(decrypt(body.data)), 'utf8'), c.final()]).toString('base64');
    expect(again).toBe(body.data);
    expect(res.headers['x-loket-signature']).toBe(signatureOf(body.data));
  });

  it('the gallery is encrypted too, and the documented browser code opens both answers', async () => {
    const open = documentedDecryptor();
    const tr = await newTransaction('enc@example.com');
    await pay(t, tr.tr_external_id, (b) => decrypt(b.data as string));
    const polled = await poll(tr.tr_external_id);
    const status = await open(polled.json(), polled.headers['x-loket-signature'] as string, KEY, IV);
    expect(status.data).toMatchObject({ tr_external_id: tr.tr_external_id, tr_status: 'COMPLETED' });

    const body = multipart(files(jpeg(), jpeg()));
    const up = await t.app.inject({
      method: 'POST',
      url: `/api/v1/transactions/${tr.tr_external_id}/photos`,
      headers: { ...kiosk, ...body.headers },
      payload: body.payload,
    });
    expect(up.statusCode).toBe(201);
    const g = await t.app.inject({ method: 'GET', url: `/api/v1/transactions/${tr.tr_external_id}/photos` });
    expect(Object.keys(g.json())).toEqual(['data']);
    const gallery = await open(g.json(), g.headers['x-loket-signature'] as string, KEY, IV);
    expect(gallery).toMatchObject({ external_id: tr.tr_external_id, photo_count: 2 });
    expect(gallery).toEqual(decrypt(g.json().data));
    expect(gallery.photos).toHaveLength(2);
  });

  it('a tampered body is caught by the signature, in node and by the documented browser code', async () => {
    const open = documentedDecryptor();
    const a = await newTransaction();
    const b = await newTransaction();
    const ra = await poll(a.tr_external_id);
    const rb = await poll(b.tr_external_id);
    const sig = ra.headers['x-loket-signature'] as string;
    const data: string = ra.json().data;
    // One flipped ciphertext byte: still valid base64, and (CBC) even still decryptable in part.
    const raw = Buffer.from(data, 'base64');
    raw[5] = (raw[5] as number) ^ 0x01;
    const flipped = raw.toString('base64');
    expect(signatureOf(flipped)).not.toBe(sig);
    await expect(open({ data: flipped }, sig, KEY, IV)).rejects.toThrow(/signature/);
    // Another transaction's (genuine) ciphertext under this response's signature.
    await expect(open({ data: rb.json().data }, sig, KEY, IV)).rejects.toThrow(/signature/);
    // A missing or foreign signature.
    await expect(open(ra.json(), undefined, KEY, IV)).rejects.toThrow(/signature/);
    await expect(open(ra.json(), rb.headers['x-loket-signature'] as string, KEY, IV)).rejects.toThrow(/signature/);
    // The genuine pair opens.
    expect((await open(ra.json(), sig, KEY, IV)).data?.tr_external_id).toBe(a.tr_external_id);
  });

  it('errors stay plain in the photobox envelope', async () => {
    const res = await poll('TRX-1-20250101000000-00000000');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ success: false, message: 'Transaction not found', data: null });
    expect(res.headers['x-loket-signature']).toBeUndefined();
  });
});

describe('encryption configuration', () => {
  it('when enabled, start-up refuses a key that is not 32 characters or an IV that is not 16', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return [];
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).problems;
      }
    };
    expect(problems({ ENCRYPTION_ENABLED: 'on' })).toEqual([
      expect.stringMatching(/ENCRYPTION_KEY of exactly 32 characters/),
      expect.stringMatching(/ENCRYPTION_IV of exactly 16 characters/),
    ]);
    expect(problems({ ENCRYPTION_ENABLED: 'on', ENCRYPTION_KEY: KEY.slice(1), ENCRYPTION_IV: IV })).toHaveLength(1);
    expect(problems({ ENCRYPTION_ENABLED: 'on', ENCRYPTION_KEY: KEY, ENCRYPTION_IV: `${IV}0` })).toHaveLength(1);
    // 32 characters but 33 bytes: the key is the bytes.
    expect(problems({ ENCRYPTION_ENABLED: 'on', ENCRYPTION_KEY: `é${KEY.slice(1)}`, ENCRYPTION_IV: IV })).toHaveLength(
      1,
    );
    expect(problems({ ENCRYPTION_ENABLED: 'on', ENCRYPTION_KEY: KEY, ENCRYPTION_IV: IV })).toEqual([]);
    expect(problems({ ENCRYPTION_KEY: 'short' })).toEqual([]); // not enabled: not used
    const message = (() => {
      try {
        loadConfig({ ENCRYPTION_ENABLED: 'on', ENCRYPTION_KEY: 'x' });
      } catch (err) {
        return (err as Error).message;
      }
    })();
    expect(message).toMatch(/^Loket cannot start/);
    expect(message).not.toContain('ENCRYPTION_KEY=x');
  });

  it('an S3 store needs its bucket and credentials', () => {
    expect(() => loadConfig({ S3_ENDPOINT: 'https://s3.example.com' })).toThrow(
      /S3_ENDPOINT needs S3_BUCKET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY/,
    );
    expect(() => loadConfig({ S3_ENDPOINT: 'ftp://x', S3_BUCKET: 'b' })).toThrow(/S3_ENDPOINT must start with/);
    const c = loadConfig({
      S3_ENDPOINT: 'https://s3.example.com/',
      S3_BUCKET: 'photos',
      S3_ACCESS_KEY_ID: 'id',
      S3_SECRET_ACCESS_KEY: 'secret',
    });
    expect(c.s3).toMatchObject({ endpoint: 'https://s3.example.com', region: 'us-east-1', forcePathStyle: true });
  });
});
