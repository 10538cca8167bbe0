// `.env` in the working directory is read at start (Node's process.loadEnvFile); the real environment wins.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const MAIN = join(import.meta.dirname, '..', 'src', 'main.ts');
const dir = mkdtempSync(join(tmpdir(), 'loket-dotenv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (env: Record<string, string>) =>
  spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', MAIN, 'migrate'], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', LOKET_DATA_DIR: 'memory://', ...env },
    encoding: 'utf8',
    timeout: 80_000,
  });

describe('.env', () => {
  it('is read at start: a bad value in it stops start-up naming the variable', () => {
    writeFileSync(join(dir, '.env'), 'PORT=not-a-port\n');
    const r = run({});
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('PORT');
  });

  it('loses to the real environment', () => {
    writeFileSync(join(dir, '.env'), 'PORT=not-a-port\nLOG_LEVEL=warn\n');
    const r = run({ PORT: '8123' });
    expect(r.stderr).not.toContain('PORT');
    expect(r.status, r.stderr).toBe(0);
  }, 90_000);

  it('is optional', () => {
    rmSync(join(dir, '.env'));
    const r = run({ LOG_LEVEL: 'warn' });
    expect(r.status, r.stderr).toBe(0);
  }, 90_000);
});
