// Loket as separate operating-system processes: kill -9 in the middle of a job, the CLI, start-up failures.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, REAL_PG } from './helpers/db.ts';
import { freePort } from './helpers/net.ts';
import { until } from './helpers/until.ts';

const ROOT = join(import.meta.dirname, '..');
const NODE = process.execPath; // the project's Node 24, as npm test runs it

function start(script: string, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(NODE, ['--disable-warning=ExperimentalWarning', script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', LOKET_DEMO: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`did not start: ${out}`)), 60_000);
    child.stdout?.on('data', (d) => {
      out += d;
      if (out.includes('LISTENING') || out.includes('Loket is listening')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.stderr?.on('data', (d) => {
      out += d;
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}: ${out}`));
    });
  });
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });

const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

describe('a worker killed with kill -9', () => {
  it('leaves its job to run again after restart', async () => {
    const db = await createTestDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'loket-crash-'));
    tmpDirs.push(dir);
    const port = await freePort();
    const env: Record<string, string> = {
      PORT: String(port),
      LOKET_DATA_DIR: dir,
      JOB_SUPERVISE_SECONDS: '1',
      ...(db.url ? { DATABASE_URL: db.url } : {}),
    };
    const base = `http://127.0.0.1:${port}`;
    try {
      const first = await start('test/fixtures/crash-server.ts', env);
      expect((await fetch(`${base}/crash/enqueue`, { method: 'POST' })).status).toBe(200);
      const log = async () => ((await (await fetch(`${base}/crash/log`)).json()) as { events: string[] }).events;
      await until(async () => (await log()).includes('attempt-0'), { what: 'the first attempt to start' });
      first.kill('SIGKILL');
      await exited(first);

      const second = await start('test/fixtures/crash-server.ts', env);
      const events = await until(
        async () => {
          const e = await log();
          return e.includes('done') && e;
        },
        { timeoutMs: 30_000, intervalMs: 150, what: 'the retried job to finish' },
      );
      second.kill('SIGTERM');
      expect(await exited(second)).toBe(0);
      expect(events).toEqual(['attempt-0', 'attempt-1', 'done']);
    } finally {
      await db.drop();
    }
  }, 90_000);
});

describe('the command line', () => {
  it('refuses to start with a readable list of every configuration problem', () => {
    const res = spawnSync(NODE, ['--disable-warning=ExperimentalWarning', 'src/main.ts', 'serve'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', PORT: 'eighty', LOKET_ENV: 'production', LOKET_MODULES: 'ppob,bank' },
      encoding: 'utf8',
    });
    expect(res.status).toBe(1);
    expect(res.stderr).toContain('5 problem(s)');
    // Production never runs on a simulator in silence: the missing variables are named.
    expect(res.stderr).toContain('LOKET_ENV=production with ppob needs XENDIT_SECRET_KEY (or XENDIT_API_KEY)');
    expect(res.stderr).toContain('LOKET_ENV=production with ppob needs PPOB_PROVIDER=digiflazz');
    expect(res.stderr).toContain('PORT="eighty" is not a whole number');
    expect(res.stderr).toContain('unknown module(s) bank');
    expect(res.stderr).toContain('LOKET_SECRET');
    expect(res.stderr).not.toContain('    at '); // no stack trace
  });

  it('migrate applies migrations once and is idempotent', async () => {
    const db = await createTestDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'loket-migrate-'));
    tmpDirs.push(dir);
    const env = {
      PATH: process.env.PATH ?? '',
      LOKET_DATA_DIR: dir,
      // A new embedded database would otherwise start from the schema image, with every migration already in it.
      LOKET_EMBEDDED_IMAGE_DIR: 'off',
      ...(db.url ? { DATABASE_URL: db.url } : {}),
    };
    try {
      const run = () =>
        spawnSync(NODE, ['--liftoff-only', '--disable-warning=ExperimentalWarning', 'src/main.ts', 'migrate'], {
          cwd: ROOT,
          env,
          encoding: 'utf8',
        });
      const first = run();
      expect(first.status, first.stderr).toBe(0);
      expect(first.stdout).toContain('migration applied');
      const second = run();
      expect(second.status, second.stderr).toBe(0);
      expect(second.stdout).not.toContain('migration applied');
      expect(second.stdout).toContain('"applied":0');
    } finally {
      await db.drop();
    }
    // Embedded with the images off, each run is PostgreSQL's initdb inside WebAssembly plus every migration: about
    // 15 s on a quiet 2-core machine, several times that while other test files share the cores.
  }, 240_000);
});

// Several instances on one database only exist with a PostgreSQL server (the embedded one belongs to a single
// process), so this scenario runs on that run of the suite and shows as skipped on the embedded one.
describe.skipIf(!REAL_PG)(
  'two instances started at the same moment on one fresh database (needs a PostgreSQL server: DATABASE_URL)',
  () => {
    it('both become healthy and each migration is applied once', async () => {
      const db = await createTestDatabase();
      const [p1, p2] = [await freePort(), await freePort()];
      const common = { DATABASE_URL: db.url as string, LOKET_MODULES: 'ppob', LOG_LEVEL: 'info' };
      try {
        const [a, b] = await Promise.all([
          start('src/main.ts', { ...common, PORT: String(p1) }),
          start('src/main.ts', { ...common, PORT: String(p2) }),
        ]);
        for (const p of [p1, p2]) {
          const ready = await fetch(`http://127.0.0.1:${p}/ready`);
          expect(ready.status).toBe(200);
        }
        const pg = (await import('pg')).default;
        const c = new pg.Client({ connectionString: db.url });
        await c.connect();
        const { rows } = await c.query('SELECT name, count(*)::int AS n FROM schema_migrations GROUP BY name');
        await c.end();
        expect(rows.length).toBeGreaterThan(0);
        expect(rows.every((r) => r.n === 1)).toBe(true);
        a.kill('SIGTERM');
        b.kill('SIGTERM');
        expect(await exited(a)).toBe(0);
        expect(await exited(b)).toBe(0);
      } finally {
        await db.drop();
      }
    }, 60_000);
  },
);
