// A fake S3 for tests: a real HTTP server on 127.0.0.1 that keeps objects in memory and checks every request's
// AWS Signature Version 4 the way S3 does (its own implementation, not Loket's): credential scope, a fresh
// x-amz-date, the signed headers, the canonical request, the signature, and that x-amz-content-sha256 is the
// body's hash. A wrong signature is 403 SignatureDoesNotMatch, as S3 answers it. Path-style addressing only.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeS3Options {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  bucket: string;
}

export interface FakeS3Request {
  method: string;
  path: string;
  status: number;
  code?: string;
}

const sha256 = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
const mac = (k: string | Buffer, s: string) => createHmac('sha256', k).update(s).digest();

function xmlError(res: ServerResponse, status: number, code: string, message: string) {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}

/** The canonical query string of S3: each name and value encoded, sorted by name then value. */
function canonicalQuery(raw: string): string {
  if (raw === '') return '';
  const enc = (s: string) =>
    encodeURIComponent(decodeURIComponent(s.replace(/\+/g, '%20'))).replace(
      /[!'()*]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
    );
  return raw
    .split('&')
    .map((p): [string, string] => {
      const i = p.indexOf('=');
      return i < 0 ? [enc(p), ''] : [enc(p.slice(0, i)), enc(p.slice(i + 1))];
    })
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

export async function startFakeS3(opts: FakeS3Options) {
  const objects = new Map<string, { body: Buffer; contentType: string }>();
  const requests: FakeS3Request[] = [];
  /** When set, every request answers this status (to test an unavailable store). */
  let failWith: number | undefined;

  function verify(req: IncomingMessage, body: Buffer, rawPath: string, rawQuery: string): [number, string] | null {
    const auth = req.headers.authorization ?? '';
    const m =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(
        auth,
      );
    if (!m) return [403, 'AccessDenied'];
    const [, akid, day, region, signedHeaders, signature] = m as unknown as string[];
    if (akid !== opts.accessKeyId) return [403, 'InvalidAccessKeyId'];
    if (region !== opts.region) return [400, 'AuthorizationHeaderMalformed'];
    const amzDate = String(req.headers['x-amz-date'] ?? '');
    if (!/^\d{8}T\d{6}Z$/.test(amzDate) || amzDate.slice(0, 8) !== day) return [403, 'AccessDenied'];
    const when = Date.UTC(
      Number(amzDate.slice(0, 4)),
      Number(amzDate.slice(4, 6)) - 1,
      Number(amzDate.slice(6, 8)),
      Number(amzDate.slice(9, 11)),
      Number(amzDate.slice(11, 13)),
      Number(amzDate.slice(13, 15)),
    );
    if (Math.abs(Date.now() - when) > 15 * 60_000) return [403, 'RequestTimeTooSkewed'];
    const names = (signedHeaders as string).split(';');
    for (const required of ['host', 'x-amz-date', 'x-amz-content-sha256']) {
      if (!names.includes(required)) return [403, 'AccessDenied'];
    }
    const payloadHash = String(req.headers['x-amz-content-sha256'] ?? '');
    if (payloadHash !== 'UNSIGNED-PAYLOAD' && payloadHash !== sha256(body)) return [400, 'XAmzContentSHA256Mismatch'];
    const headerLines = names.map((n) => {
      const v = req.headers[n];
      return `${n}:${(Array.isArray(v) ? v.join(',') : (v ?? '')).trim().replace(/\s+/g, ' ')}\n`;
    });
    const canonical = [
      req.method,
      rawPath,
      canonicalQuery(rawQuery),
      headerLines.join(''),
      signedHeaders,
      payloadHash,
    ].join('\n');
    const scope = `${day}/${region}/s3/aws4_request`;
    const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256(canonical)}`;
    const key = mac(
      mac(mac(mac(`AWS4${opts.secretAccessKey}`, day as string), region as string), 's3'),
      'aws4_request',
    );
    const expected = createHmac('sha256', key).update(toSign).digest('hex');
    if (!timingSafeEqual(Buffer.from(expected), Buffer.from(signature as string))) {
      return [403, 'SignatureDoesNotMatch'];
    }
    return null;
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const [rawPath = '/', rawQuery = ''] = (req.url ?? '/').split('?');
      const log = (status: number, code?: string) =>
        requests.push({ method: req.method ?? '', path: rawPath, status, code });
      if (failWith !== undefined) {
        log(failWith, 'InternalError');
        return xmlError(res, failWith, 'InternalError', 'We encountered an internal error. Please try again.');
      }
      const problem = verify(req, body, rawPath, rawQuery);
      if (problem) {
        log(problem[0], problem[1]);
        return xmlError(res, problem[0], problem[1], 'The request signature we calculated does not match');
      }
      const segments = rawPath.split('/').slice(1);
      const bucket = decodeURIComponent(segments[0] ?? '');
      const key = segments.slice(1).map(decodeURIComponent).join('/');
      if (bucket !== opts.bucket) {
        log(404, 'NoSuchBucket');
        return xmlError(res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
      }
      switch (req.method) {
        case 'PUT':
          objects.set(key, { body, contentType: String(req.headers['content-type'] ?? 'binary/octet-stream') });
          log(200);
          res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"` });
          return res.end();
        case 'GET': {
          const o = objects.get(key);
          if (!o) {
            log(404, 'NoSuchKey');
            return xmlError(res, 404, 'NoSuchKey', 'The specified key does not exist.');
          }
          log(200);
          res.writeHead(200, { 'content-type': o.contentType, 'content-length': o.body.length });
          return res.end(o.body);
        }
        case 'DELETE':
          objects.delete(key);
          log(204);
          res.writeHead(204);
          return res.end();
        default:
          log(405, 'MethodNotAllowed');
          return xmlError(res, 405, 'MethodNotAllowed', 'The specified method is not allowed');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    objects,
    requests,
    failAll(status: number | undefined) {
      failWith = status;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type FakeS3 = Awaited<ReturnType<typeof startFakeS3>>;
