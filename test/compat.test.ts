// CONTRACTS §6 in the core: CORS from the photobox document's variables, /redoc, the documents' configuration names
// with production refusing a silent simulator, and a 422's `loc` naming where the value was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';

const ADMIN_PAGE = 'https://admin.example.com';
const SECRET = 's'.repeat(40);

let t: TestApp;
let writer: Record<string, string>;

beforeAll(async () => {
  // As the photobox document's .env says it, with the methods and headers left to their defaults.
  t = await startTestApp({
    env: { CORS_ORIGINS: `http://localhost:3000,${ADMIN_PAGE}` },
    config: { modules: ['staff'] },
  });
  writer = bearer((await tokensFor(t.app, await makeAccount(t.app, { staff: 50 }))).access_token);
});
afterAll(async () => t?.close());

const preflight = (app: TestApp, method: string, origin = ADMIN_PAGE) =>
  app.app.inject({
    method: 'OPTIONS',
    url: '/jabatan/1',
    headers: {
      origin,
      'access-control-request-method': method,
      'access-control-request-headers': 'authorization, content-type',
    },
  });

describe('CORS (CORS_ORIGINS, CORS_ALLOW_METHODS, CORS_ALLOW_HEADERS, CORS_ALLOW_CREDENTIALS)', () => {
  it.each(['PUT', 'PATCH', 'DELETE'])('a preflight for %s from an allowed origin succeeds', async (method) => {
    const res = await preflight(t, method);
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(ADMIN_PAGE);
    const methods = String(res.headers['access-control-allow-methods']).split(', ');
    expect(methods).toEqual(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
    // CORS_ALLOW_HEADERS defaults to `*`: the headers the browser asks for are allowed.
    expect(res.headers['access-control-allow-headers']).toBe('authorization, content-type');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('an origin not in CORS_ORIGINS gets no permission', async () => {
    const res = await preflight(t, 'PUT', 'https://evil.example.net');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('the admin page then edits and deletes across origins', async () => {
    const headers = { ...writer, origin: ADMIN_PAGE };
    const made = await t.app.inject({
      method: 'POST',
      url: '/jabatan/',
      headers,
      payload: { nama_jabatan: 'Kasir', deskripsi: 'Depan' },
    });
    expect(made.statusCode).toBe(200);
    const id = made.json().id_jabatan as number;
    const put = await t.app.inject({
      method: 'PUT',
      url: `/jabatan/${id}`,
      headers,
      payload: { deskripsi: 'Belakang' },
    });
    expect(put.statusCode).toBe(200);
    expect(put.headers['access-control-allow-origin']).toBe(ADMIN_PAGE);
    expect(put.json().deskripsi).toBe('Belakang');
    const del = await t.app.inject({ method: 'DELETE', url: `/jabatan/${id}`, headers });
    expect(del.statusCode).toBe(200);
    expect(del.headers['access-control-allow-origin']).toBe(ADMIN_PAGE);
  });

  it('methods, headers and credentials as configured', async () => {
    const narrow = await startTestApp({
      env: {
        CORS_ORIGINS: ADMIN_PAGE,
        CORS_ALLOW_METHODS: 'get, post',
        CORS_ALLOW_HEADERS: 'Authorization',
        CORS_ALLOW_CREDENTIALS: 'true',
      },
      config: { modules: ['staff'] },
    });
    try {
      const res = await preflight(narrow, 'PUT');
      expect(res.headers['access-control-allow-methods']).toBe('GET, POST');
      expect(res.headers['access-control-allow-headers']).toBe('Authorization');
      expect(res.headers['access-control-allow-credentials']).toBe('true');
      expect(res.headers['access-control-allow-origin']).toBe(ADMIN_PAGE);
    } finally {
      await narrow.close();
    }
  });

  it('`*` means every method; an unknown method is a configuration problem', () => {
    expect(loadConfig({ CORS_ALLOW_METHODS: '*' }).corsAllowMethods).toEqual([
      'GET',
      'HEAD',
      'POST',
      'PUT',
      'PATCH',
      'DELETE',
      'OPTIONS',
    ]);
    expect(() => loadConfig({ CORS_ALLOW_METHODS: 'GET,FETCH' })).toThrow(
      /CORS_ALLOW_METHODS has unknown method\(s\) FETCH/,
    );
    expect(() => loadConfig({ CORS_ALLOW_HEADERS: 'x auth' })).toThrow(/CORS_ALLOW_HEADERS has invalid header name/);
  });
});

describe('/redoc', () => {
  it('serves a page leading to the OpenAPI document, loading nothing from the internet', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/redoc' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toContain('href="/openapi.json"');
    expect(res.body).toContain('href="/docs"');
    expect(res.body).not.toMatch(/<script|https?:\/\//);
    const doc = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(doc.json().paths['/jabatan/']).toBeDefined();
  });
});

describe("a 422's loc names where the value was (staff, FastAPI's shape)", () => {
  it('path, query and body', async () => {
    const path = await t.app.inject({ method: 'GET', url: '/jabatan/abc', headers: writer });
    expect(path.statusCode).toBe(422);
    expect(path.json().detail[0].loc).toEqual(['path', 'jabatan_id']);
    const query = await t.app.inject({ method: 'GET', url: '/jabatan/?limit=banyak', headers: writer });
    expect(query.statusCode).toBe(422);
    expect(query.json().detail[0].loc).toEqual(['query', 'limit']);
    const body = await t.app.inject({ method: 'POST', url: '/jabatan/', headers: writer, payload: { deskripsi: 'x' } });
    expect(body.statusCode).toBe(422);
    expect(body.json().detail[0].loc).toEqual(['body', 'nama_jabatan']);
  });
});

describe("the documents' configuration names; production never runs on a simulator in silence", () => {
  it('XENDIT_API_KEY is XENDIT_SECRET_KEY, beside the per-account XENDIT_API_KEY_<NAME>', () => {
    const c = loadConfig({
      XENDIT_API_KEY: 'xnd_platform',
      XENDIT_API_KEY_JAKINET: 'xnd_jakinet',
      XENDIT_CALLBACK_TOKEN_JAKINET: 'tok_jakinet',
    });
    expect(c.xenditSecretKey).toBe('xnd_platform');
    expect(c.xenditAccountKeys).toEqual({ JAKINET: 'xnd_jakinet' });
  });

  it('a production start configured as the photobox document says runs on Xendit', () => {
    const c = loadConfig({
      LOKET_ENV: 'production',
      LOKET_SECRET: SECRET,
      LOKET_MODULES: 'photobox,billing,staff',
      XENDIT_API_KEY: 'xnd_production_abc',
      XENDIT_CALLBACK_TOKEN: 'callback-token',
    });
    expect(c.xenditSecretKey).toBe('xnd_production_abc');
  });

  it('refuses production without a Xendit key, naming the variable', () => {
    expect(() =>
      loadConfig({ LOKET_ENV: 'production', LOKET_SECRET: SECRET, LOKET_MODULES: 'photobox,staff' }),
    ).toThrow(/LOKET_ENV=production with photobox needs XENDIT_SECRET_KEY \(or XENDIT_API_KEY\)/);
    // Staff alone takes no money: nothing to refuse.
    expect(loadConfig({ LOKET_ENV: 'production', LOKET_SECRET: SECRET, LOKET_MODULES: 'staff' }).env).toBe(
      'production',
    );
  });

  it('refuses production on the PPOB and IM3 simulators, naming the variable', () => {
    const problems = (() => {
      try {
        loadConfig({
          LOKET_ENV: 'production',
          LOKET_SECRET: SECRET,
          LOKET_MODULES: 'ppob,im3',
          XENDIT_SECRET_KEY: 'xnd_production_abc',
        });
        return '';
      } catch (err) {
        return (err as Error).message;
      }
    })();
    expect(problems).toContain('LOKET_ENV=production with ppob needs PPOB_PROVIDER=digiflazz');
    expect(problems).toContain('LOKET_ENV=production with im3 needs IM3_PROVIDER=http');
    expect(problems).not.toContain('XENDIT_SECRET_KEY');
  });
});
