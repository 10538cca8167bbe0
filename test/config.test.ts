import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEV_SECRET, loadConfig, renderEnvExample, renderReadme, VARIABLES } from '../src/config.ts';
import { group, readGroups, v } from '../src/core/config-schema.ts';

const FIX = 'run `npm run loket -- config write` and commit the result';

describe('configuration', () => {
  it('starts with nothing set: embedded database, every module, port 8000', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      env: 'development',
      host: '127.0.0.1',
      port: 8000,
      databaseUrl: undefined,
      dataDir: './data',
      redisUrl: undefined,
      modules: ['ppob', 'photobox', 'staff', 'billing', 'im3'],
      rateLimits: true,
      bodyLimit: 1_048_576,
      demo: undefined,
    });
  });

  it('lists every problem at once', () => {
    try {
      loadConfig({ PORT: '99999', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud', LOKET_RATE_LIMITS: 'maybe' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const { problems } = err as ConfigError;
      expect(problems).toHaveLength(4);
      expect(problems.join('\n')).toMatch(/PORT=99999 must be between 0 and 65535/);
      expect(problems.join('\n')).toMatch(/DATABASE_URL must start with postgres: or postgresql:/);
      expect(problems.join('\n')).toMatch(/LOG_LEVEL="loud" must be one of/);
      expect(problems.join('\n')).toMatch(/LOKET_RATE_LIMITS="maybe" must be on\/off/);
    }
  });

  it('production refuses the default secret and a short admin password', () => {
    expect(() => loadConfig({ LOKET_ENV: 'production' })).toThrow(/LOKET_SECRET set to your own random value/);
    expect(() =>
      loadConfig({
        LOKET_ENV: 'production',
        LOKET_SECRET: 'x'.repeat(40),
        LOKET_ADMIN_EMAIL: 'ops@example.com',
        LOKET_ADMIN_PASSWORD: 'short',
      }),
    ).toThrow(/LOKET_ADMIN_PASSWORD of at least 12/);
    const ok = loadConfig({ LOKET_ENV: 'production', LOKET_SECRET: 'y'.repeat(40), LOKET_MODULES: 'staff' });
    expect(ok.secret).not.toBe(DEV_SECRET);
  });

  it('selects modules and turns rate limits off', () => {
    const c = loadConfig({ LOKET_MODULES: 'im3, ppob', LOKET_RATE_LIMITS: 'off', LOKET_DEMO: '1' });
    expect(c.modules).toEqual(['ppob', 'im3']);
    expect(c.rateLimits).toBe(false);
    expect(c.demo).toBe(true);
  });

  it('.env.example in the repository documents every variable (regenerate with npm run loket -- config write)', () => {
    const committed = readFileSync(join(import.meta.dirname, '..', '.env.example'), 'utf8');
    expect(committed, `.env.example differs from the configuration declarations: ${FIX}`).toBe(renderEnvExample());
    for (const v of VARIABLES) expect(committed).toContain(`# ${v.name}=`);
  });

  it('the README configuration table lists every variable, as the declarations generate it', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
    expect(readme, `README.md's configuration tables differ from the declarations: ${FIX}`).toBe(renderReadme(readme));
    for (const v of VARIABLES) expect(readme).toContain(`| \`${v.name}\` |`);
  });

  it('every variable is declared once, with a meaning, and secrets never show their default', () => {
    const names = VARIABLES.flatMap((x) => [x.name, ...x.aliases]);
    expect(new Set(names).size).toBe(names.length);
    for (const x of VARIABLES) {
      expect(x.doc, x.name).toMatch(/\.\)?$/);
      // A pattern variable's name ends in its placeholder: XENDIT_API_KEY_<NAME>.
      expect(x.name).toMatch(/^[A-Z][A-Z0-9_]*(<[A-Z]+>)?$/);
    }
    const secret = VARIABLES.find((x) => x.name === 'LOKET_SECRET');
    expect(secret?.secret).toBe(true);
    expect(renderEnvExample()).not.toContain(DEV_SECRET);
    // Nor does a problem quote a secret's value.
    const token = v.secret('DEMO_PIN', {
      doc: 'Pin.',
      check: (s) => (s.length === 4 ? undefined : `="${s}" is not 4 long`),
    });
    expect(() => readGroups([group('Demo', { pin: token })], { DEMO_PIN: 'hunter2' })).toThrow(
      'DEMO_PIN="…" is not 4 long',
    );
  });

  it('pattern variables: every XENDIT_API_KEY_<NAME> with its XENDIT_CALLBACK_TOKEN_<NAME>, by upper-case name', () => {
    const c = loadConfig({
      XENDIT_API_KEY_JAKINET: 'xnd_a',
      XENDIT_CALLBACK_TOKEN_JAKINET: 'tok-a',
      XENDIT_API_KEY_fibernet: ' xnd_b ',
      XENDIT_CALLBACK_TOKEN_FIBERNET: 'tok-b',
      XENDIT_API_KEY: 'xnd_platform',
    });
    expect(c.xenditAccountKeys).toEqual({ JAKINET: 'xnd_a', FIBERNET: 'xnd_b' });
    expect(c.xenditAccountTokens).toEqual({ JAKINET: 'tok-a', FIBERNET: 'tok-b' });
    expect(c.xenditSecretKey).toBe('xnd_platform');
    expect(loadConfig({}).xenditAccountKeys).toEqual({});
    expect(() => loadConfig({ XENDIT_API_KEY_JAKINET: 'xnd_secret_value' })).toThrow(
      'XENDIT_API_KEY_JAKINET needs XENDIT_CALLBACK_TOKEN_JAKINET',
    );
    expect(() => loadConfig({ XENDIT_CALLBACK_TOKEN_X: 't' })).toThrow(
      'XENDIT_CALLBACK_TOKEN_X needs XENDIT_API_KEY_X',
    );
    expect(() => loadConfig({ 'XENDIT_API_KEY_A-B': 'k' })).toThrow(/XENDIT_API_KEY_A-B: the part after/);
    try {
      loadConfig({ XENDIT_API_KEY_JAKINET: 'xnd_secret_value' });
    } catch (err) {
      expect(String(err)).not.toContain('xnd_secret_value');
    }
  });

  it('defaults are the real ones, computed defaults included', () => {
    const c = loadConfig({ HOST: '0.0.0.0', PORT: '9000' });
    expect(c.publicUrl).toBe('http://0.0.0.0:9000');
    expect(c.photoboxGalleryUrl).toBe('http://0.0.0.0:9000/photobox/gallery/{external_id}');
    expect(loadConfig({ PUBLIC_URL: 'https://loket.example//' }).photoboxGalleryUrl).toBe(
      'https://loket.example/photobox/gallery/{external_id}',
    );
    // Without Xendit the simulator's callback token is derived from the secret; with Xendit there is none.
    expect(loadConfig({}).xenditCallbackToken).toMatch(/^[0-9a-f]{64}$/);
    expect(loadConfig({ XENDIT_SECRET_KEY: 'xnd_development_x' }).xenditCallbackToken).toBeUndefined();
    expect(c.s3).toBeUndefined();
    expect(c.im3Headers).toEqual({});
    expect(c).toMatchObject({ xenditBaseUrl: 'https://api.xendit.co', ppobTrxPrefix: 'LKT', logLevel: 'info' });
  });

  it("reads another document's name for the same setting (XENDIT_API_KEY = XENDIT_SECRET_KEY)", () => {
    expect(loadConfig({ XENDIT_API_KEY: 'xnd_a' }).xenditSecretKey).toBe('xnd_a');
    expect(loadConfig({ XENDIT_API_KEY: 'xnd_a', XENDIT_SECRET_KEY: 'xnd_a' }).xenditSecretKey).toBe('xnd_a');
    expect(() => loadConfig({ XENDIT_API_KEY: 'xnd_a', XENDIT_SECRET_KEY: 'xnd_b' })).toThrow(
      /XENDIT_SECRET_KEY and XENDIT_API_KEY are the same setting/,
    );
  });

  it('keeps the cross-field checks and provider credentials', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    };
    expect(problems({ PPOB_PROVIDER: 'digiflazz' })).toEqual([
      'PPOB_PROVIDER=digiflazz needs DIGIFLAZZ_USERNAME and DIGIFLAZZ_API_KEY',
    ]);
    expect(problems({ IM3_PROVIDER: 'http' })[0]).toMatch(
      /^IM3_PROVIDER=http needs IM3_BASE_URL, .*IM3_PAYMENT_STATUS_PATH$/,
    );
    expect(problems({ LOKET_ADMIN_EMAIL: 'ops@example.com' })).toEqual([
      'LOKET_ADMIN_EMAIL and LOKET_ADMIN_PASSWORD must be set together',
    ]);
    expect(problems({ S3_ENDPOINT: 'https://s3.example' })).toEqual([
      'S3_ENDPOINT needs S3_BUCKET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY',
    ]);
    // A section's own variables are judged only when it is in use.
    expect(problems({ S3_TIMEOUT_MS: 'soon' })).toEqual([]);
    expect(problems({ ENCRYPTION_ENABLED: 'on' })).toHaveLength(2);
    expect(problems({ LOKET_SECRET: 'short' })).toEqual(['LOKET_SECRET must be at least 32 characters long']);
    const s3 = loadConfig({
      S3_ENDPOINT: 'https://s3.example/',
      S3_BUCKET: 'photos',
      S3_ACCESS_KEY_ID: 'a',
      S3_SECRET_ACCESS_KEY: 's',
    }).s3;
    expect(s3).toEqual({
      endpoint: 'https://s3.example',
      bucket: 'photos',
      region: 'us-east-1',
      accessKeyId: 'a',
      secretAccessKey: 's',
      forcePathStyle: true,
      timeoutMs: 30_000,
    });
  });

  it('a declaration gives the type, the parser and the docs at once', () => {
    const demo = group('Demo', {
      size: v.int('DEMO_SIZE', { default: 3, min: 1, max: 9, doc: 'Size.' }),
      mode: v.enum('DEMO_MODE', ['a', 'b'], { default: 'a', doc: 'Mode.' }),
      on: v.bool('DEMO_ON', { default: false, doc: 'On.' }),
      tags: v.list('DEMO_TAGS', { doc: 'Tags.' }),
      token: v.secret('DEMO_TOKEN', { default: 'hush', doc: 'Token.' }),
    });
    const c = readGroups<{ size: number; mode: 'a' | 'b'; on: boolean; tags: string[]; token: string }>([demo], {
      DEMO_SIZE: '5',
      DEMO_ON: 'yes',
      DEMO_TAGS: 'x,y',
    });
    expect(c).toEqual({ size: 5, mode: 'a', on: true, tags: ['x', 'y'], token: 'hush' });
    expect(demo.entries.token.defaultText).toBe('(secret)');
    expect(demo.entries.on.defaultText).toBe('off');
    expect(() => readGroups([demo], { DEMO_SIZE: '10', DEMO_MODE: 'c' })).toThrow(/2 problem/);
  });
});
