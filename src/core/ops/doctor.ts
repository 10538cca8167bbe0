// `loket doctor`: what an operator checks before and after a start, in one command. Each check says ok, warn or fail
// and, when not ok, what to do in plain words. Nothing is changed: no migration applied, no database created.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statfsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type pg from 'pg';
import type { Config } from '../../config.ts';
import { lockHolder } from '../db/lock.ts';
import { MIGRATIONS_DIR } from '../db/migrate.ts';

export type Status = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  name: string;
  status: Status;
  /** What was found. */
  detail: string;
  /** What to do (for warn and fail). */
  fix?: string;
}

const ok = (name: string, detail: string): DoctorCheck => ({ name, status: 'ok', detail });
const warn = (name: string, detail: string, fix: string): DoctorCheck => ({ name, status: 'warn', detail, fix });
const fail = (name: string, detail: string, fix: string): DoctorCheck => ({ name, status: 'fail', detail, fix });

const CLOCK_WARN_MS = 2_000;
const CLOCK_FAIL_MS = 30_000;
const DISK_WARN_BYTES = 1024 ** 3;
const DISK_FAIL_BYTES = 200 * 1024 ** 2;

/** Database reachable, migrations current, clock against the database's. Runs on the pool it is given. */
export async function databaseChecks(pool: pg.Pool, kind: 'embedded' | 'postgres'): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    return [
      fail(
        'database',
        `cannot connect: ${(err as Error).message}`,
        kind === 'postgres'
          ? 'check DATABASE_URL (host, port, user, password, database name) and that PostgreSQL runs; create the database with createdb if it does not exist'
          : 'the embedded database could not open; see the error above',
      ),
    ];
  }
  try {
    const t0 = Date.now();
    const { rows } = await client.query<{ ms: string; version: string }>(
      "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint::text AS ms, current_setting('server_version') AS version",
    );
    const t1 = Date.now();
    const row = rows[0];
    checks.push(
      ok('database', `${kind === 'embedded' ? 'embedded PostgreSQL' : 'PostgreSQL'} ${row?.version ?? ''} answers`),
    );
    const skew = Number(row?.ms ?? 0) - (t0 + t1) / 2;
    const clock = `this machine's clock is ${Math.abs(Math.round(skew))} ms ${skew > 0 ? 'behind' : 'ahead of'} the database's`;
    const fix =
      'synchronise the clocks with NTP on both machines (`timedatectl set-ntp true`, or chrony): OTP expiry, tokens and due dates depend on them';
    if (Math.abs(skew) >= CLOCK_FAIL_MS) checks.push(fail('clock', clock, fix));
    else if (Math.abs(skew) >= CLOCK_WARN_MS) checks.push(warn('clock', clock, fix));
    else checks.push(ok('clock', clock));
    checks.push(await migrationCheck(client));
  } catch (err) {
    checks.push(fail('database', `a query failed: ${(err as Error).message}`, 'check the database server log'));
  } finally {
    client.release();
  }
  return checks;
}

async function migrationCheck(client: pg.PoolClient): Promise<DoctorCheck> {
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  const { rows: present } = await client.query<{ ok: boolean }>(
    "SELECT to_regclass('public.schema_migrations') IS NOT NULL AS ok",
  );
  const run = 'run `npm run loket -- migrate` (a server start applies them too)';
  if (!present[0]?.ok) return warn('migrations', `none applied yet (${files.length} to apply)`, run);
  const { rows } = await client.query<{ name: string; checksum: string }>(
    'SELECT name, checksum FROM public.schema_migrations',
  );
  const done = new Map(rows.map((r) => [r.name, r.checksum]));
  const changed = files.filter((f) => {
    const sum = done.get(f);
    return (
      sum !== undefined &&
      sum !==
        createHash('sha256')
          .update(readFileSync(join(MIGRATIONS_DIR, f)))
          .digest('hex')
    );
  });
  if (changed.length > 0) {
    return fail(
      'migrations',
      `${changed.join(', ')} changed after being applied`,
      'restore the original migration files (git checkout migrations/) and put the change in a new migration',
    );
  }
  const pending = files.filter((f) => !done.has(f));
  const unknown = [...done.keys()].filter((f) => !files.includes(f));
  if (unknown.length > 0) {
    return warn(
      'migrations',
      `the database has migrations this build lacks (${unknown.join(', ')})`,
      'run the Loket version that applied them (this one is older)',
    );
  }
  if (pending.length > 0) return warn('migrations', `${pending.length} not applied yet (${pending.join(', ')})`, run);
  return ok('migrations', `all ${files.length} applied`);
}

/** Redis answers PING (when REDIS_URL is set). */
export async function redisCheck(url: string | undefined): Promise<DoctorCheck> {
  if (!url) return ok('redis', 'not configured: rate limits and caches live in this process (fine for one instance)');
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const pong = await redis.ping();
    return ok('redis', `answers ${pong}`);
  } catch (err) {
    return fail(
      'redis',
      `cannot reach Redis: ${(err as Error).message}`,
      'start Redis, or correct REDIS_URL (redis://host:6379), or unset it for a single instance',
    );
  } finally {
    redis.disconnect();
  }
}

/** Free space where the data directory (the embedded database, local files) lives. */
export function diskCheck(dir: string): DoctorCheck {
  let at = resolve(dir);
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  const fs = statfsSync(at);
  const free = fs.bavail * fs.bsize;
  const detail = `${(free / 1024 ** 3).toFixed(1)} GB free at ${at}`;
  const fix = 'free some space (old backups, logs) or move LOKET_DATA_DIR to a larger disk';
  if (free < DISK_FAIL_BYTES) return fail('disk', detail, fix);
  if (free < DISK_WARN_BYTES) return warn('disk', detail, fix);
  return ok('disk', detail);
}

/** Who holds the embedded data directory. */
export function lockCheck(dataDir: string): DoctorCheck {
  const holder = lockHolder(dataDir);
  if (!holder) return ok('lock', `${resolve(dataDir)} is free (no server holds it)`);
  if (holder.role === 'serve') {
    return ok('lock', `held by a running Loket server (pid ${holder.pid}, since ${holder.started_at})`);
  }
  return warn(
    'lock',
    `held by \`loket ${holder.role}\` (pid ${holder.pid}, since ${holder.started_at})`,
    `wait for that command to finish; if it hangs, stop it with kill -TERM ${holder.pid}`,
  );
}

/** Xendit's key (a balance read changes nothing) and SMTP (a login and NOOP). */
export async function coreProviderChecks(config: Config): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const production = config.env === 'production';
  if (!config.xenditSecretKey) {
    checks.push(
      production
        ? warn('xendit', 'simulator', 'set XENDIT_SECRET_KEY: the simulator’s QR codes cannot be paid by a bank app')
        : ok('xendit', 'simulator (no XENDIT_SECRET_KEY): payments are simulated'),
    );
  } else {
    try {
      const res = await fetch(`${config.xenditBaseUrl}/balance`, {
        headers: { authorization: `Basic ${Buffer.from(`${config.xenditSecretKey}:`).toString('base64')}` },
        signal: AbortSignal.timeout(5000),
      });
      await res.arrayBuffer();
      if (res.ok) checks.push(ok('xendit', 'the secret key is accepted (balance read)'));
      else if (res.status === 401 || res.status === 403) {
        checks.push(
          fail(
            'xendit',
            `the secret key was refused (HTTP ${res.status})`,
            'copy XENDIT_SECRET_KEY again from the Xendit dashboard (Settings, API keys)',
          ),
        );
      } else
        checks.push(warn('xendit', `Xendit answered HTTP ${res.status}`, 'try again later; check status.xendit.co'));
    } catch (err) {
      checks.push(
        fail(
          'xendit',
          `cannot reach ${config.xenditBaseUrl}: ${(err as Error).message}`,
          'check this machine’s internet access and DNS',
        ),
      );
    }
  }
  if (!config.smtpUrl) {
    checks.push(
      production
        ? warn(
            'smtp',
            'not configured: e-mails (OTPs, invoices) stay in the outbox',
            'set SMTP_URL (smtp://user:pass@host:587)',
          )
        : ok('smtp', 'not configured: e-mails stay in the outbox (/_dev/outbox)'),
    );
  } else {
    const nodemailer = await import('nodemailer');
    const transport = nodemailer.createTransport(config.smtpUrl);
    try {
      await Promise.race([
        transport.verify(),
        new Promise((_, no) => setTimeout(() => no(new Error('no answer within 5 s')), 5000).unref()),
      ]);
      checks.push(ok('smtp', 'the server accepts the login'));
    } catch (err) {
      checks.push(
        fail('smtp', `SMTP check failed: ${(err as Error).message}`, 'check SMTP_URL (host, port, user, password)'),
      );
    } finally {
      transport.close();
    }
  }
  return checks;
}

/** The report, one line per check, and whether any failed. */
export function renderChecks(checks: DoctorCheck[]): { text: string; failed: boolean } {
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines = checks.map((c) => {
    const head = `${c.status.padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}`;
    return c.fix ? `${head}\n${' '.repeat(width + 8)}→ ${c.fix}` : head;
  });
  const failed = checks.some((c) => c.status === 'fail');
  const warned = checks.filter((c) => c.status === 'warn').length;
  const summary = failed
    ? `${checks.filter((c) => c.status === 'fail').length} check(s) failed`
    : warned > 0
      ? `no failure, ${warned} warning(s)`
      : 'everything is ok';
  return { text: `${lines.join('\n')}\n${summary}\n`, failed };
}
