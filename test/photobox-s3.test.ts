import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3Config } from '../src/config.ts';
import { createS3Store, EMPTY_SHA256, signV4 } from '../src/core/storage/s3.ts';
import { StorageError } from '../src/core/storage/store.ts';
import { type FakeS3, startFakeS3 } from './fakes/s3.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { fakeClock } from './helpers/clock.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';
import { files, jpeg, multipart, pay, png, waitFor } from './helpers/photobox.ts';

const creds = {
  accessKeyId: 'LOKETTESTACCESSKEY01',
  secretAccessKey: 'loket/test+secret/0123456789abcdefghijklmnopqr',
  region: 'ap-southeast-3',
  bucket: 'loket-photos',
};
let s3: FakeS3;
let cfg: S3Config;

beforeAll(async () => {
  s3 = await startFakeS3(creds);
  cfg = { ...creds, endpoint: s3.url, forcePathStyle: true, timeoutMs: 5000 };
});
afterAll(async () => s3?.close());

const readAll = async (body: AsyncIterable<Buffer | string>) => {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
};

describe('AWS Signature V4', () => {
  it("matches AWS's documented example (GET /test.txt with a Range header)", () => {
    const headers = signV4({
      method: 'GET',
      host: 'examplebucket.s3.amazonaws.com',
      path: '/test.txt',
      headers: { range: 'bytes=0-9' },
      payloadHash: EMPTY_SHA256,
      region: 'us-east-1',
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      date: new Date('2013-05-24T00:00:00Z'),
    });
    expect(headers['x-amz-date']).toBe('20130524T000000Z');
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, ' +
        'SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, ' +
        'Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
  });
});

describe('S3 store against a fake S3 that checks every signature', () => {
  it('put, get and delete an object', async () => {
    const store = createS3Store(cfg);
    const key = `photobox/TRX-1-20250101000000-${randomBytes(4).toString('hex').toUpperCase()}/a1b2.jpg`;
    const data = jpeg(70_000);
    await store.put(key, data, 'image/jpeg');
    expect(s3.objects.get(key)?.body.equals(data)).toBe(true);
    expect(s3.objects.get(key)?.contentType).toBe('image/jpeg');
    const got = await store.get(key);
    expect(got?.contentType).toBe('image/jpeg');
    expect(got?.size).toBe(data.length);
    if (!got) throw new Error(`${key} was not stored`);
    expect((await readAll(got.body)).equals(data)).toBe(true);
    await store.delete(key);
    expect(s3.objects.has(key)).toBe(false);
    expect(await store.get(key)).toBeNull();
    await store.delete(key); // deleting what is not there is fine
    expect(s3.requests.every((r) => r.status < 400 || r.code === 'NoSuchKey')).toBe(true);
  });

  it('a wrong secret, a wrong key id or a wrong region is refused by the store', async () => {
    const key = 'photobox/x/y.jpg';
    for (const wrong of [
      { secretAccessKey: 'not-the-secret' },
      { accessKeyId: 'SOMEONEELSE' },
      { region: 'us-east-1' },
    ]) {
      const store = createS3Store({ ...cfg, ...wrong });
      const err = await store.put(key, jpeg(), 'image/jpeg').catch((e) => e);
      expect(err).toBeInstanceOf(StorageError);
      expect(String(err.message)).not.toContain(cfg.secretAccessKey);
    }
    expect(s3.requests.slice(-3).map((r) => r.code)).toEqual([
      'SignatureDoesNotMatch',
      'InvalidAccessKeyId',
      'AuthorizationHeaderMalformed',
    ]);
    expect(s3.objects.has(key)).toBe(false);
  });

  it('keys that could escape their place are refused before any request', async () => {
    const store = createS3Store(cfg);
    const before = s3.requests.length;
    for (const key of ['../secret', 'a/../../b', '/abs', 'a b', '']) {
      await expect(store.put(key, jpeg(), 'image/jpeg')).rejects.toBeInstanceOf(StorageError);
    }
    expect(s3.requests.length).toBe(before);
  });
});

describe('photobox photos on S3', () => {
  const clock = fakeClock();
  let t: TestApp;
  let kiosk: Record<string, string>;
  let locationId: number;

  beforeAll(async () => {
    t = await startTestApp({ config: { modules: ['photobox'], s3: cfg }, overrides: { now: clock.now } });
    const admin = bearer((await tokensFor(t.app, await makeAccount(t.app, { photobox: 50 }))).access_token);
    kiosk = {
      'x-api-key': (
        await t.app.inject({ method: 'POST', url: '/api/v1/kiosks', headers: admin, payload: { name: 'S3' } })
      ).json().data.api_key,
    };
    locationId = (
      await t.app.inject({ method: 'POST', url: '/api/v1/locations', headers: admin, payload: { ml_name: 'S3 Mall' } })
    ).json().data.ml_id;
  });
  afterAll(async () => t?.close());

  async function paid() {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/transactions',
      headers: kiosk,
      payload: { location_id: locationId, email: 's3@example.com' },
    });
    const ext = res.json().data.tr_external_id as string;
    await pay(t, ext);
    return ext;
  }
  const upload = (ext: string, images: Buffer[]) => {
    const body = multipart(files(...images));
    return t.app.inject({
      method: 'POST',
      url: `/api/v1/transactions/${ext}/photos`,
      headers: { ...kiosk, ...body.headers },
      payload: body.payload,
    });
  };
  const keysOf = (ext: string) => [...s3.objects.keys()].filter((k) => k.startsWith(`photobox/${ext}/`));

  it('uploads land in the bucket, photo URLs stream them back, and the cleanup deletes them', async () => {
    const ext = await paid();
    const a = jpeg(40_000);
    const b = png(20_000);
    const res = await upload(ext, [a, b]);
    expect(res.statusCode, res.body).toBe(201);
    expect(keysOf(ext)).toHaveLength(2);
    const urls = res.json().data.photos.map((p: { url: string }) => new URL(p.url).pathname);
    const first = await t.app.inject({ method: 'GET', url: urls[0] });
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toBe('image/jpeg');
    expect(first.rawPayload.equals(a)).toBe(true);
    expect((await t.app.inject({ method: 'GET', url: urls[1] })).rawPayload.equals(b)).toBe(true);

    clock.advance(14 * 24 * 3600_000 + 1000);
    await t.app.loket.jobs.enqueue(t.app.loket.database.db, 'photobox.cleanup', {});
    await waitFor('objects deleted', async () => keysOf(ext).length === 0);
    expect((await t.app.inject({ method: 'GET', url: urls[0] })).statusCode).toBe(404);
  });

  it('when the store is down an upload is 503 and records nothing', async () => {
    const ext = await paid();
    s3.failAll(500);
    try {
      const res = await upload(ext, [jpeg()]);
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ success: false, data: null });
    } finally {
      s3.failAll(undefined);
    }
    expect((await t.app.inject({ method: 'GET', url: `/api/v1/transactions/${ext}/photos` })).statusCode).toBe(404);
    const rows = await t.app.loket.database.db
      .selectFrom('photobox_photos as p')
      .innerJoin('photobox_transactions as t', 't.tr_id', 'p.ph_transaction_id')
      .select('p.ph_id')
      .where('t.tr_external_id', '=', ext)
      .execute();
    expect(rows).toEqual([]);
    expect((await upload(ext, [jpeg()])).statusCode).toBe(201);
  });
});
