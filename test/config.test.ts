import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEV_SECRET, loadConfig, renderEnvExample, VARIABLES } from '../src/config.ts';

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
    const ok = loadConfig({ LOKET_ENV: 'production', LOKET_SECRET: 'y'.repeat(40) });
    expect(ok.secret).not.toBe(DEV_SECRET);
  });

  it('selects modules and turns rate limits off', () => {
    const c = loadConfig({ LOKET_MODULES: 'im3, ppob', LOKET_RATE_LIMITS: 'off', LOKET_DEMO: '1' });
    expect(c.modules).toEqual(['ppob', 'im3']);
    expect(c.rateLimits).toBe(false);
    expect(c.demo).toBe(true);
  });

  it('.env.example in the repository documents every variable (regenerate with npm run loket -- config env)', () => {
    const committed = readFileSync(join(import.meta.dirname, '..', '.env.example'), 'utf8');
    expect(committed).toBe(renderEnvExample());
    for (const v of VARIABLES) expect(committed).toContain(`# ${v.name}=`);
  });

  it('the README configuration table lists every variable', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
    for (const v of VARIABLES) expect(readme).toContain(`| \`${v.name}\` |`);
  });
});
