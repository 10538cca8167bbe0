// An S3-compatible object store over plain fetch, signed with AWS Signature Version 4 (header form). Only what
// Loket needs: PUT, GET and DELETE of one object. Works with AWS S3, MinIO, Cloudflare R2, Wasabi, DigitalOcean
// Spaces and the like, path-style (`ENDPOINT/BUCKET/key`, the default) or virtual-hosted (`BUCKET.ENDPOINT/key`).
import { createHash, createHmac } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { S3Config } from '../../config.ts';
import { assertKey, type ObjectStore, StorageError } from './store.ts';

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 encoding as SigV4 wants it: everything but A-Z a-z 0-9 - . _ ~ is %XX (upper case). */
export function uriEncode(value: string, keepSlash: boolean): string {
  const encoded = encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return keepSlash ? encoded.replaceAll('%2F', '/') : encoded;
}

/** `20130524T000000Z` */
export const amzDate = (d: Date): string => `${d.toISOString().slice(0, 19).replace(/[-:]/g, '')}Z`;

export interface SignRequest {
  method: string;
  /** Host as sent in the Host header (with the port when it is not the scheme's default). */
  host: string;
  /** The request path, already URI-encoded (each segment, slashes kept). */
  path: string;
  query?: Record<string, string>;
  /** Extra headers to sign (content-type, range, …); host, x-amz-date and x-amz-content-sha256 are added. */
  headers?: Record<string, string>;
  /** Hex SHA-256 of the body (EMPTY_SHA256 for none). */
  payloadHash: string;
  region: string;
  service?: string;
  accessKeyId: string;
  secretAccessKey: string;
  date: Date;
}

/**
 * Signs a request (AWS Signature Version 4). Returns the headers to send: every header given, plus x-amz-date,
 * x-amz-content-sha256 and authorization (host is signed but left for the HTTP client to send).
 */
export function signV4(req: SignRequest): Record<string, string> {
  const service = req.service ?? 's3';
  const stamp = amzDate(req.date);
  const day = stamp.slice(0, 8);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
  headers['x-amz-date'] = stamp;
  headers['x-amz-content-sha256'] = req.payloadHash;
  const toSign: Record<string, string> = { ...headers, host: req.host };
  const names = Object.keys(toSign).sort();
  const canonicalHeaders = names.map((n) => `${n}:${String(toSign[n]).trim().replace(/\s+/g, ' ')}\n`).join('');
  const signedHeaders = names.join(';');
  const canonicalQuery = Object.entries(req.query ?? {})
    .map(([k, v]) => [uriEncode(k, false), uriEncode(v, false)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalRequest = [
    req.method.toUpperCase(),
    req.path,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders,
    req.payloadHash,
  ].join('\n');
  const scope = `${day}/${req.region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', stamp, scope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${req.secretAccessKey}`, day), req.region), service), 'aws4_request');
  const signature = createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex');
  headers.authorization =
    `AWS4-HMAC-SHA256 Credential=${req.accessKeyId}/${scope}, ` +
    `SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}

async function errorOf(res: Response, op: string): Promise<StorageError> {
  const text = await res.text().catch(() => '');
  const code = /<Code>([^<]{1,100})<\/Code>/.exec(text)?.[1];
  return new StorageError(`object store ${op} failed: HTTP ${res.status}${code ? ` ${code}` : ''}`);
}

export function createS3Store(cfg: S3Config, now: () => Date = () => new Date()): ObjectStore {
  const endpoint = new URL(cfg.endpoint);
  const basePath = endpoint.pathname.replace(/\/+$/, '');

  function target(key: string): { url: string; host: string; path: string } {
    assertKey(key);
    const encodedKey = uriEncode(key, true);
    if (cfg.forcePathStyle) {
      const path = `${basePath}/${uriEncode(cfg.bucket, false)}/${encodedKey}`;
      return { url: `${endpoint.protocol}//${endpoint.host}${path}`, host: endpoint.host, path };
    }
    const host = `${cfg.bucket}.${endpoint.host}`;
    const path = `${basePath}/${encodedKey}`;
    return { url: `${endpoint.protocol}//${host}${path}`, host, path };
  }

  async function call(
    op: string,
    method: 'PUT' | 'GET' | 'DELETE',
    key: string,
    opts: { body?: Buffer; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const t = target(key);
    const headers = signV4({
      method,
      host: t.host,
      path: t.path,
      headers: opts.headers,
      payloadHash: opts.body ? sha256Hex(opts.body) : EMPTY_SHA256,
      region: cfg.region,
      accessKeyId: cfg.accessKeyId,
      secretAccessKey: cfg.secretAccessKey,
      date: now(),
    });
    // The timeout covers the answer's headers; a download may then stream for as long as the reader needs.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), cfg.timeoutMs);
    try {
      return await fetch(t.url, {
        method,
        headers,
        body: opts.body ? new Uint8Array(opts.body.buffer, opts.body.byteOffset, opts.body.byteLength) : undefined,
        signal: controller.signal,
        redirect: 'error',
      });
    } catch (err) {
      const reason = controller.signal.aborted ? 'timed out' : (err as Error).message;
      throw new StorageError(`object store ${op} failed: ${reason}`);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    kind: 's3',
    async put(key, body, contentType) {
      const res = await call('put', 'PUT', key, { body, headers: { 'content-type': contentType } });
      if (!res.ok) throw await errorOf(res, 'put');
      await res.body?.cancel();
    },
    async get(key) {
      const res = await call('get', 'GET', key);
      if (res.status === 404) {
        await res.body?.cancel();
        return null;
      }
      if (!res.ok || !res.body) throw await errorOf(res, 'get');
      const length = res.headers.get('content-length');
      return {
        body: Readable.fromWeb(res.body as WebReadableStream<Uint8Array>),
        size: length === null ? undefined : Number(length),
        contentType: res.headers.get('content-type') ?? undefined,
      };
    },
    async delete(key) {
      const res = await call('delete', 'DELETE', key);
      if (!res.ok && res.status !== 404) throw await errorOf(res, 'delete');
      await res.body?.cancel();
    },
  };
}
