// Backup and restore of the embedded database. A backup is PGlite's pg_dump output: plain SQL (schema, then every
// row as INSERTs, then sequences and constraints), readable, independent of PGlite's on-disk format and loadable
// into a real PostgreSQL with psql. It is taken on the database's one session while the app's connection is held
// (Database.dump), so it is one committed state even while a server runs. A restore loads the file into a fresh
// directory beside the data and swaps it in only once the whole file has loaded: an error leaves the data as it was.
import { chmodSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Config } from '../../config.ts';
import { lockDataDir, lockHolder } from '../db/lock.ts';

const HEAD = '-- PostgreSQL database dump';
const TAIL = '-- PostgreSQL database dump complete';

/** Said when an operation of the embedded database is asked of an installation on PostgreSQL. */
export const ON_POSTGRES = {
  backup:
    'DATABASE_URL is set: this installation runs on PostgreSQL, whose own tools back it up. Use `pg_dump -Fc -d "$DATABASE_URL" -f loket.dump` (consistent while Loket runs); see docs/OPERATIONS.md for point-in-time recovery.',
  restore:
    'DATABASE_URL is set: this installation runs on PostgreSQL. Restore with `pg_restore --clean --if-exists -d "$DATABASE_URL" loket.dump` (a custom-format dump) or `psql -d "$DATABASE_URL" -f FILE` (a plain one, such as an embedded backup, into an empty database); see docs/OPERATIONS.md.',
};

export class BackupError extends Error {}

/** The embedded database's own directory inside LOKET_DATA_DIR. */
export const pgDir = (dataDir: string) => resolve(dataDir, 'pg');

export const embeddedExists = (dataDir: string) => existsSync(join(pgDir(dataDir), 'PG_VERSION'));

/** Writes a dump next to its final name, then renames it there: a crash never leaves a half-written backup. */
export function writeBackup(file: string, sql: string): number {
  const path = resolve(file);
  if (!existsSync(dirname(path))) throw new BackupError(`the folder ${dirname(path)} does not exist`);
  const tmp = `${path}.partial-${process.pid}`;
  writeFileSync(tmp, sql, { mode: 0o600 });
  // Hashes of passwords and keys, encrypted router secrets: a backup is as private as the database.
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
  return Buffer.byteLength(sql);
}

/** Reads a backup and refuses anything that is not a complete pg_dump (a truncated copy ends without its tail). */
export function readBackup(file: string): string {
  const path = resolve(file);
  if (!existsSync(path)) throw new BackupError(`no file ${path}`);
  const sql = readFileSync(path, 'utf8');
  const head = sql.trimStart().startsWith(`--\n${HEAD}`) || sql.trimStart().startsWith(HEAD);
  if (!head) throw new BackupError(`${path} is not a Loket backup (a pg_dump plain SQL file)`);
  if (!sql.trimEnd().endsWith('--') || !sql.includes(TAIL)) {
    throw new BackupError(`${path} is incomplete (it does not end as a finished pg_dump does): it was cut short`);
  }
  return sql;
}

export interface RestoreResult {
  tables: number;
  migrations: number;
  /** Where the database that was replaced now lies (undefined when there was none). */
  previous?: string;
}

/**
 * Restores `file` into the embedded database of `config.dataDir`. Refuses while any process holds the directory
 * (naming it). Holds the lock itself meanwhile, so no server starts during the restore.
 */
export async function restoreEmbedded(config: Config, file: string): Promise<RestoreResult> {
  const sql = readBackup(file);
  const holder = lockHolder(config.dataDir);
  if (holder) {
    throw new BackupError(
      `the embedded database in ${resolve(config.dataDir)} is in use by ${holder.role === 'serve' ? 'a running Loket server' : `\`loket ${holder.role}\``} (pid ${holder.pid}, since ${holder.started_at}): stop it first (kill -TERM ${holder.pid}), then restore; a restore never replaces the data under a running server`,
    );
  }
  const release = lockDataDir(config.dataDir, 'restore');
  const target = pgDir(config.dataDir);
  const incoming = `${target}.restoring`;
  const previous = `${target}.before-restore`;
  try {
    rmSync(incoming, { recursive: true, force: true });
    const { PGlite } = await import('@electric-sql/pglite');
    const { pg_trgm } = await import('@electric-sql/pglite/contrib/pg_trgm');
    const lite = await PGlite.create({
      dataDir: incoming,
      extensions: { pg_trgm },
      startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${config.embeddedSharedBuffersMb}MB`],
    });
    let counts: { tables: number; migrations: number };
    try {
      try {
        await lite.exec(sql);
      } catch (err) {
        throw new BackupError(`the backup did not load: ${(err as Error).message}; the database was not changed`);
      }
      const tables = await lite.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_catalog.pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
      );
      const migrations = await lite.query<{ n: number }>(
        "SELECT CASE WHEN to_regclass('public.schema_migrations') IS NULL THEN 0 ELSE 1 END AS n",
      );
      if (migrations.rows[0]?.n !== 1) {
        throw new BackupError('the backup has no schema_migrations table: it is not a Loket database');
      }
      const applied = await lite.query<{ n: number }>('SELECT count(*)::int AS n FROM public.schema_migrations');
      counts = { tables: tables.rows[0]?.n ?? 0, migrations: applied.rows[0]?.n ?? 0 };
    } finally {
      await lite.close();
    }
    // The swap: the loaded copy takes the database's place; the replaced one is kept until the next restore.
    let kept: string | undefined;
    if (existsSync(target)) {
      rmSync(previous, { recursive: true, force: true });
      renameSync(target, previous);
      kept = previous;
    }
    try {
      renameSync(incoming, target);
    } catch (err) {
      // Put the old database back rather than leave none.
      if (kept) renameSync(previous, target);
      throw err;
    }
    return { ...counts, previous: kept };
  } catch (err) {
    rmSync(incoming, { recursive: true, force: true });
    throw err;
  } finally {
    release();
  }
}
