// The operator's commands: backup, restore, db copy-to, doctor. On the embedded database a running server holds the
// data directory (core/db/lock.ts), so backup and copy-to go through its control socket and run there, on its one
// connection; restore refuses while anyone holds the directory; doctor asks the server for the database's checks.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { App } from './app.ts';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { prepareSpareCluster, schemaImagePath } from './core/db/cluster-image.ts';
import { openDatabase } from './core/db/database.ts';
import { DataDirLocked, lockHolder } from './core/db/lock.ts';
import { migrate, migrationsKey } from './core/db/migrate.ts';
import { createLogger } from './core/log.ts';
import { BackupError, embeddedExists, ON_POSTGRES, restoreEmbedded, writeBackup } from './core/ops/backup.ts';
import { sendControl } from './core/ops/control.ts';
import { CopyError, type CopyResult, copyTo, redactUrl } from './core/ops/copy.ts';
import {
  coreProviderChecks,
  type DoctorCheck,
  databaseChecks,
  diskCheck,
  lockCheck,
  redisCheck,
  renderChecks,
} from './core/ops/doctor.ts';
import { MODULE_LOADERS } from './modules/index.ts';

export const OPS_USAGE = `  backup FILE        write a consistent SQL backup of the embedded database to FILE (also while a server runs)
  restore FILE       replace the embedded database with a backup (the server must be stopped)
  db copy-to postgres://… [--force]
                     copy the embedded database into an empty PostgreSQL database (schema, rows, sequences)
  db prepare         make the images a new embedded database starts from (npm install runs it)
  doctor             check configuration, database, migrations, Redis, providers, clock, disk, data-directory lock
`;

const write = (text: string): void => {
  process.stdout.write(text);
};

/** A command said no, in words; printed without a stack. */
export class OpsError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

const isOpsError = (err: unknown) => err instanceof BackupError || err instanceof CopyError || err instanceof OpsError;

export { isOpsError };

function embeddedOnly(config: Config, onPostgres: string): void {
  if (config.databaseUrl) throw new OpsError(onPostgres, 2);
  if (config.dataDir.startsWith('memory://')) {
    throw new OpsError('LOKET_DATA_DIR is memory://: there is no database on disk to work on', 2);
  }
}

/**
 * Runs `argv` in the server that holds the data directory, if one does: true when it ran there. A holder that is
 * not a server (another CLI command) is named in the refusal.
 */
async function throughServer(config: Config, argv: string[], out = write): Promise<boolean> {
  const holder = lockHolder(config.dataDir);
  if (!holder) return false;
  let exit: number | undefined;
  try {
    exit = await sendControl(config.dataDir, argv, out);
  } catch (err) {
    // The server ran the command and it failed: its message, as if it had failed here.
    throw new OpsError((err as Error).message);
  }
  if (exit === undefined) throw new DataDirLocked(config.dataDir, holder);
  if (exit !== 0) process.exitCode = exit;
  return true;
}

/** Opens the embedded database in this process (taking the lock for `role`), runs `fn`, closes it. */
async function ownDatabase<T>(
  config: Config,
  role: string,
  fn: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>,
) {
  if (!embeddedExists(config.dataDir)) {
    throw new OpsError(`there is no embedded database in ${resolve(config.dataDir)} yet (the first start creates it)`);
  }
  const db = await openDatabase(config, createLogger(config), { lockRole: role });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

function copySummary(r: CopyResult, url: string): string {
  const jobs =
    r.queuedJobs > 0
      ? `\nnote: ${r.queuedJobs} queued job(s) of the source were not copied (the target's job queue starts empty); let them finish before the move`
      : '';
  return `copied ${r.rows} rows of ${r.tables} tables and ${r.sequences} sequences to ${redactUrl(url)}${jobs}\nstart Loket with DATABASE_URL set to it; rows written to the embedded database from now on are not in the copy\n`;
}

/** The server's side of the commands (through the control socket), on its own database and connection. */
export async function opsOnApp(app: App, argv: string[], out: (text: string) => void): Promise<boolean> {
  const [command, sub, ...rest] = argv;
  const database = app.loket.database;
  if (command === 'backup' && sub) {
    if (!database.dump) throw new OpsError('this database cannot be dumped by Loket (use pg_dump)');
    const bytes = writeBackup(sub, await database.dump());
    out(`backup written to ${resolve(sub)} (${bytes} bytes)\n`);
    return true;
  }
  if (command === 'db' && sub === 'copy-to' && rest[0]) {
    const r = await copyTo(database.pool, rest[0], {
      force: rest.includes('--force'),
      logger: createLogger(app.loket.config),
      out: (line) => out(`${line}\n`),
    });
    out(copySummary(r, rest[0]));
    return true;
  }
  if (command === 'doctor' && sub === 'database') {
    out(`${JSON.stringify(await databaseChecks(database.pool, database.kind))}\n`);
    return true;
  }
  return false;
}

export async function backup(config: Config, file: string | undefined): Promise<void> {
  embeddedOnly(config, ON_POSTGRES.backup);
  if (!file) throw new OpsError('usage: npm run loket -- backup FILE', 2);
  const path = resolve(file);
  if (await throughServer(config, ['backup', path])) return;
  await ownDatabase(config, 'backup', async (db) => {
    if (!db.dump) throw new OpsError('this database cannot be dumped by Loket');
    const bytes = writeBackup(path, await db.dump());
    write(`backup written to ${path} (${bytes} bytes)\n`);
  });
}

export async function restore(config: Config, file: string | undefined): Promise<void> {
  embeddedOnly(config, ON_POSTGRES.restore);
  if (!file) throw new OpsError('usage: npm run loket -- restore FILE', 2);
  const r = await restoreEmbedded(config, file);
  write(
    `restored ${resolve(file)} into ${resolve(config.dataDir)}: ${r.tables} tables, ${r.migrations} migrations recorded${r.previous ? `\nthe database it replaced is kept in ${r.previous} until the next restore; delete it once you are satisfied` : ''}\n`,
  );
}

export async function dbCommand(config: Config, args: string[]): Promise<void> {
  const [sub, url, ...opts] = args;
  if (sub === 'prepare' && !url) return prepareImages(config);
  if (sub !== 'copy-to' || !url) throw new OpsError('usage: npm run loket -- db copy-to postgres://… [--force]', 2);
  if (!/^postgres(ql)?:\/\//.test(url)) throw new OpsError(`expected a postgres:// URL, got ${redactUrl(url)}`, 2);
  const unknown = opts.filter((o) => o !== '--force');
  if (unknown.length > 0) throw new OpsError(`unknown option ${unknown.join(' ')}`, 2);
  embeddedOnly(
    config,
    'DATABASE_URL is set: this installation already runs on PostgreSQL. To copy it to another server use `pg_dump -Fc` and `pg_restore` (docs/OPERATIONS.md).',
  );
  if (await throughServer(config, ['db', 'copy-to', url, ...opts])) return;
  await ownDatabase(config, 'db copy-to', async (db) => {
    const logger = createLogger(config);
    // The source as a server start would leave it: every migration applied, so both schemas are the same.
    await migrate(db.pool, logger);
    const r = await copyTo(db.pool, url, { force: opts.includes('--force'), logger, out: (l) => write(`${l}\n`) });
    write(copySummary(r, url));
  });
}

/**
 * `db prepare` (run by `npm install`): makes the images a new embedded database starts from (the empty cluster and
 * the schema image, core/db/cluster-image.ts) on an in-memory database of its own, so that even the first start on
 * a new machine skips initdb and the migrations, and the schema image unpacked once as the spare cluster that the
 * first new data directory takes by renaming. Never touches DATABASE_URL's server nor LOKET_DATA_DIR.
 */
async function prepareImages(config: Config): Promise<void> {
  const schema = schemaImagePath(config.embeddedImageDir, migrationsKey());
  if (!schema) {
    write('embedded database images are off (LOKET_EMBEDDED_IMAGE_DIR=off): nothing to prepare\n');
    return;
  }
  if (existsSync(schema)) {
    prepareSpareCluster(schema);
    write(`embedded database images are ready: ${dirname(schema)}\n`);
    return;
  }
  const own: Config = { ...config, databaseUrl: undefined, dataDir: 'memory://' };
  const logger = createLogger(own);
  const db = await openDatabase(own, logger, { lockRole: 'db prepare' });
  try {
    await migrate(db.pool, logger);
    await db.saveSchemaImage?.();
  } finally {
    await db.close();
  }
  if (!existsSync(schema)) throw new OpsError(`could not write the embedded database images in ${dirname(schema)}`);
  prepareSpareCluster(schema);
  write(`embedded database images ready: ${dirname(schema)}\n`);
}

async function databaseReport(config: Config): Promise<DoctorCheck[]> {
  if (config.databaseUrl) {
    const pg = (await import('pg')).default;
    const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 1, connectionTimeoutMillis: 5000 });
    pool.on('error', () => {});
    try {
      return await databaseChecks(pool, 'postgres');
    } finally {
      await pool.end().catch(() => {});
    }
  }
  if (config.dataDir.startsWith('memory://')) {
    return [{ name: 'database', status: 'ok', detail: 'embedded, in memory (LOKET_DATA_DIR=memory://): lost at exit' }];
  }
  const holder = lockHolder(config.dataDir);
  if (holder && holder.role !== 'serve') {
    return [
      {
        name: 'database',
        status: 'warn',
        detail: `not checked: \`loket ${holder.role}\` (pid ${holder.pid}) holds it`,
        fix: 'run doctor again when that command has finished',
      },
    ];
  }
  if (holder) {
    let answer = '';
    await throughServer(config, ['doctor', 'database'], (t) => {
      answer += t;
    });
    return JSON.parse(answer) as DoctorCheck[];
  }
  if (!embeddedExists(config.dataDir)) {
    return [
      {
        name: 'database',
        status: 'warn',
        detail: `no embedded database in ${resolve(config.dataDir)} yet`,
        fix: 'start Loket once (npm start): it creates and migrates the database',
      },
    ];
  }
  return ownDatabase(config, 'doctor', (db) => databaseChecks(db.pool, 'embedded'));
}

export async function doctor(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const fix =
      'correct the variables named above (in the environment or .env); `npm run loket -- config env` lists them';
    const { text } = renderChecks([{ name: 'config', status: 'fail', detail: err.message, fix }]);
    write(text);
    process.exitCode = 1;
    return;
  }
  const checks: DoctorCheck[] = [
    { name: 'config', status: 'ok', detail: `LOKET_ENV=${config.env}, modules ${config.modules.join(', ')}` },
  ];
  if (!config.databaseUrl && !config.dataDir.startsWith('memory://')) checks.push(lockCheck(config.dataDir));
  checks.push(...(await databaseReport(config)));
  checks.push(await redisCheck(config.redisUrl));
  checks.push(...(await coreProviderChecks(config)));
  for (const name of config.modules) {
    const mod = await MODULE_LOADERS[name]?.();
    if (mod?.doctor) checks.push(...(await mod.doctor(config)));
  }
  checks.push(diskCheck(config.dataDir));
  const { text, failed } = renderChecks(checks);
  write(text);
  if (failed) process.exitCode = 1;
}
