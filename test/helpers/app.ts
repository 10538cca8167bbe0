import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type App, type AppOverrides, buildApp } from '../../src/app.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import { createTestDatabase, REDIS_URL, type TestDatabase } from './db.ts';

/** Every log line the app wrote, for assertions (for example: no secret ever appears). */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  /** Where the whole run's log check (test/global-secrets.ts) reads this app's lines. */
  readonly #file = noteFile('log');
  override _write(chunk: Buffer, _enc: string, cb: () => void) {
    const text = chunk.toString('utf8');
    this.lines.push(...text.split('\n').filter(Boolean));
    if (this.#file) appendFileSync(this.#file, text);
    cb();
  }
  get text(): string {
    return this.lines.join('\n');
  }
  records(): Record<string, unknown>[] {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}

/** A file of this worker in the run's secrets directory (undefined when the run has none). */
function noteFile(kind: 'log' | 'secrets'): string | undefined {
  const dir = process.env.LOKET_TEST_SECRETS_DIR;
  return dir ? join(dir, `${kind}-${process.pid}-${randomBytes(4).toString('hex')}.txt`) : undefined;
}

const secretsFile = noteFile('secrets');
/** Notes a credential a test made, for the whole run's log check. */
export function rememberSecret(...values: (string | undefined)[]): void {
  if (!secretsFile) return;
  const lines = values.filter((v): v is string => typeof v === 'string' && v.length >= 8);
  if (lines.length > 0) appendFileSync(secretsFile, `${lines.join('\n')}\n`);
}

export function testConfig(env: Record<string, string> = {}, overrides: Partial<Config> = {}): Config {
  return {
    // The fakes of outside systems listen on loopback: user-given URLs may reach it in tests (and only there).
    ...loadConfig({
      LOG_LEVEL: 'info',
      LOKET_DEMO: '0',
      JOB_POLL_SECONDS: '1',
      LOKET_OUTBOUND_ALLOW: '127.0.0.1,::1,localhost',
      // Two test files run at once, some with two instances each, on a server that allows 100 connections: a
      // small pool per instance keeps the run inside that (a test that wants more passes its own).
      DATABASE_POOL_SIZE: '4',
      ...env,
    }),
    ...overrides,
  };
}

export interface TestApp {
  app: App;
  logs: LogCapture;
  db: TestDatabase;
  config: Config;
  close(): Promise<void>;
}

/**
 * Builds the real app on a database of its own (fresh PostgreSQL database or in-memory embedded one), with
 * the real Redis when REDIS_URL is set. `modules` defaults to none: core tests mount only what they test.
 */
export async function startTestApp(
  opts: { env?: Record<string, string>; config?: Partial<Config>; overrides?: AppOverrides; db?: TestDatabase } = {},
): Promise<TestApp> {
  const db = opts.db ?? (await createTestDatabase());
  // Rate limits are off unless a test turns them on; each app gets its own Redis key space unless a test
  // shares one between instances on purpose.
  const config = testConfig(opts.env, {
    databaseUrl: db.url,
    dataDir: db.dataDir,
    redisUrl: REDIS_URL,
    redisPrefix: `loket-test-${randomBytes(6).toString('hex')}:`,
    modules: [],
    rateLimits: false,
    ...opts.config,
  });
  const logs = new LogCapture();
  const app = await buildApp(config, { logStream: logs, ...opts.overrides });
  await app.ready();
  return {
    app,
    logs,
    db,
    config,
    async close() {
      await app.close();
      if (!opts.db) await db.drop();
    },
  };
}

/**
 * Two instances of Loket on one fresh PostgreSQL database and, with REDIS_URL, one Redis key space (`prefix`), as
 * two processes of one deployment would run. `closers` gets what closes both and drops the database.
 */
export async function startTwoInstances(
  opts: { config?: Partial<Config>; overrides?: AppOverrides },
  closers: (() => Promise<void>)[],
): Promise<{ a: TestApp; b: TestApp; db: TestDatabase; prefix: string }> {
  const db = await createTestDatabase();
  const prefix = `loket-test-${randomBytes(6).toString('hex')}:`;
  const start = () =>
    startTestApp({
      db,
      config: { redisPrefix: prefix, ...opts.config },
      ...(opts.overrides && { overrides: opts.overrides }),
    });
  const a = await start();
  const b = await start();
  closers.push(async () => {
    await a.close();
    await b.close();
    await db.drop();
  });
  return { a, b, db, prefix };
}
