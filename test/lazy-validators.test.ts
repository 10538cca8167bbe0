// Route validators compile on their first use, and a started server compiles the rest between requests
// (core/http/validation.ts): the start does not wait for Ajv, and no route's schema is left unchecked, because
// here every route's validator of every module is compiled and a schema Ajv refused would fail this test.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePendingValidators } from '../src/core/http/validation.ts';
import { MODULE_LOADERS } from '../src/modules/index.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { bearer, makeAccount, tokensFor } from './helpers/identity.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ config: { modules: Object.keys(MODULE_LOADERS) as never } });
});
afterAll(async () => t?.close());

describe('request validators compiled on first use', () => {
  it('a route answers by its schema before anything was compiled, then every other validator compiles', async () => {
    const staff = bearer((await tokensFor(t.app, await makeAccount(t.app, { staff: 50 }))).access_token);
    // A body the schema refuses (a number where text is wanted) is refused on the very first call.
    const bad = await t.app.inject({
      method: 'POST',
      url: '/jabatan/',
      headers: staff,
      payload: { nama_jabatan: 12345 },
    });
    expect(bad.statusCode, bad.body).toBe(422);
    const compiled = await compilePendingValidators();
    // Hundreds of route schemas across the five modules and the core; all of them compiled without an error.
    expect(compiled).toBeGreaterThan(200);
    expect(await compilePendingValidators()).toBe(0);
    const good = await t.app.inject({
      method: 'POST',
      url: '/jabatan/',
      headers: staff,
      payload: { nama_jabatan: 'Kasir' },
    });
    expect(good.statusCode, good.body).toBeLessThan(300);
  });
});
