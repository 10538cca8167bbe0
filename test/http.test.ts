import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newProbeState, probeModule, STYLES } from './fixtures/probe-module.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ overrides: { extraModules: [probeModule(newProbeState())] } });
});
afterAll(async () => t?.close());

const json = (_body: unknown) => ({ 'content-type': 'application/json' }) as const;

describe('error envelopes per seed style', () => {
  it.each(STYLES)('%s: validation error names the field and changes nothing', async (style, prefix) => {
    const res = await t.app.inject({ method: 'POST', url: `${prefix}/items`, headers: json({}), payload: { qty: 0 } });
    expect(res.statusCode).toBe(style === 'im3' ? 400 : 422);
    const body = res.json();
    const text = JSON.stringify(body);
    expect(text).toContain('name');
    expect(text).toContain('qty');
    if (style === 'ppob')
      expect(body).toMatchObject({ code: 422, status: 'error', data: { errors: expect.any(Array) } });
    if (style === 'photobox') expect(body).toMatchObject({ success: false, data: null, errors: expect.any(Array) });
    if (style === 'staff')
      expect(body.detail[0]).toMatchObject({ loc: ['body', expect.any(String)], msg: expect.any(String) });
    if (style === 'billing') {
      expect(body).toMatchObject({
        status: 'error',
        error_code: 'VALIDATION_ERROR',
        detail: { errors: expect.any(Array) },
      });
    }
    if (style === 'im3') {
      expect(body).toMatchObject({
        success: false,
        error: { code: 'VALIDATION_ERROR', details: { name: ['is required'] } },
      });
      expect(body.request_id).toBe(res.headers['x-request-id']);
    }
  });

  it.each(STYLES)(
    '%s: malformed JSON, wrong content type and oversized body are 400, 415, 413',
    async (style, prefix) => {
      const bad = await t.app.inject({
        method: 'POST',
        url: `${prefix}/items`,
        headers: json({}),
        payload: '{"name": "ab",',
      });
      expect(bad.statusCode).toBe(400);
      expect(JSON.stringify(bad.json())).toContain('not valid JSON');

      const wrongType = await t.app.inject({
        method: 'POST',
        url: `${prefix}/items`,
        headers: { 'content-type': 'application/xml' },
        payload: '<name>ab</name>',
      });
      expect(wrongType.statusCode).toBe(415);

      const big = await t.app.inject({
        method: 'POST',
        url: `${prefix}/items`,
        headers: json({}),
        payload: JSON.stringify({ name: 'ab', qty: 1, pad: 'x'.repeat(1_100_000) }),
      });
      expect(big.statusCode).toBe(413);
      for (const res of [bad, wrongType, big]) {
        if (style === 'ppob') expect(res.json()).toMatchObject({ code: res.statusCode, status: 'error' });
        if (style === 'photobox') expect(res.json()).toMatchObject({ success: false });
        if (style === 'staff') expect(typeof res.json().detail).toBe('string');
        if (style === 'billing') expect(res.json().status).toBe('error');
        if (style === 'im3') expect(res.json().success).toBe(false);
      }
    },
  );

  it.each(STYLES)('%s: unknown path is 404, wrong method 405 with Allow', async (style, prefix) => {
    const missing = await t.app.inject({ method: 'GET', url: `${prefix}/nothing-here` });
    expect(missing.statusCode).toBe(404);
    const wrong = await t.app.inject({ method: 'DELETE', url: `${prefix}/items` });
    expect(wrong.statusCode).toBe(405);
    expect(wrong.headers.allow).toContain('POST');
    if (style === 'im3') expect(missing.json().error.code).toBe('NOT_FOUND');
    if (style === 'ppob') expect(missing.json()).toMatchObject({ code: 404, status: 'error', data: null });
    if (style === 'staff') expect(missing.json()).toEqual({ detail: expect.stringContaining('/nothing-here') });
  });

  it.each(STYLES)('%s: 429 carries Retry-After', async (style, prefix) => {
    const res = await t.app.inject({ method: 'GET', url: `${prefix}/limited` });
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('42');
    if (style === 'billing') expect(res.json()).toMatchObject({ detail: 'Rate limit exceeded', retry_after: 42 });
  });

  it.each(STYLES)('%s: an unexpected error is a 500 that hides its message', async (_style, prefix) => {
    const res = await t.app.inject({ method: 'GET', url: `${prefix}/boom` });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('secret internal detail');
    expect(res.body).not.toContain('postgres://');
    expect(res.body).toContain('Internal server error');
  });

  it('a module error code maps to its registered status', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/probe-im3/teapot' });
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({ code: 'PROBE_TEAPOT', message: 'Module-specific conflict' });
  });
});

describe('database errors are translated in one place', () => {
  it('a unique violation is a 409 that names no table or constraint', async () => {
    const first = await t.app.inject({ method: 'POST', url: '/api/probe/items', payload: { name: 'dup', qty: 1 } });
    expect(first.statusCode).toBe(201);
    const again = await t.app.inject({ method: 'POST', url: '/api/probe/items', payload: { name: 'dup', qty: 1 } });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ error_code: 'CONFLICT', status: 'error' });
    expect(again.body).not.toMatch(/probe_items|pkey|duplicate key/);
  });
});

describe('request ids', () => {
  it('every response has x-request-id, a sane incoming one is kept, and the log lines carry it', async () => {
    const mine = await t.app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'kiosk-7.abc' } });
    expect(mine.headers['x-request-id']).toBe('kiosk-7.abc');
    const evil = await t.app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'a b\nc' } });
    expect(evil.headers['x-request-id']).toMatch(/^req_[0-9a-f]{32}$/);
    const errored = await t.app.inject({ method: 'GET', url: '/nowhere' });
    expect(errored.headers['x-request-id']).toMatch(/^req_/);
    const lines = t.logs.records().filter((r) => r.request_id === 'kiosk-7.abc');
    expect(lines.length).toBeGreaterThanOrEqual(2); // incoming + completed
    const boomLines = t.logs.records().filter((r) => r.msg === 'request failed');
    expect(boomLines.every((r) => typeof r.request_id === 'string')).toBe(true);
  });

  it('credentials sent in headers never reach the log', async () => {
    await t.app.inject({
      method: 'GET',
      url: '/health',
      headers: { authorization: 'Bearer top-secret-token-123', 'x-api-key': 'lk_live_secretkey456' },
    });
    expect(t.logs.text).not.toContain('top-secret-token-123');
    expect(t.logs.text).not.toContain('lk_live_secretkey456');
  });
});

describe('over a real socket', () => {
  it('serves JSON with security headers and answers a wrong content type in the envelope', async () => {
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const address = t.app.server.address();
    if (!address || typeof address !== 'object') throw new Error('not listening');
    const base = `http://127.0.0.1:${address.port}`;
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(health.headers.get('x-content-type-options')).toBe('nosniff');
    expect(health.headers.get('x-request-id')).toBeTruthy();
    const res = await fetch(`${base}/probe-ppob/items`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: 'name,qty',
    });
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ code: 415, status: 'error' });
    const server = t.app.server;
    expect(server.listening).toBe(true);
  });
});
