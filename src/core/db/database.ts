import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../../config.ts';
import {
  clusterImagePath,
  extractImage,
  pruneSchemaImages,
  readClusterImage,
  saveClusterImage,
  schemaImagePath,
  takeSpareCluster,
} from './cluster-image.ts';
import { lockDataDir } from './lock.ts';
import { migrationsKey } from './migrate.ts';
import type { Tables } from './tables.ts';

// bigint columns (ledger sums, counts) come back as JS numbers: rupiah amounts stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

export interface Database {
  kind: 'embedded' | 'postgres';
  pool: pg.Pool;
  db: Kysely<Tables>;
  /**
   * For background loops that must keep moving while requests queue for `db` (a purchase dispatcher): its own small
   * pool on PostgreSQL; the same single connection as `db` on the embedded database.
   */
  worker: Kysely<Tables>;
  /** True when the embedded database did not exist before this start (used for the demo-data default). */
  fresh: boolean;
  /**
   * Embedded only: a consistent SQL dump of the whole database (plain pg_dump format with INSERTs), taken while the
   * pool's one connection is held, so no transaction of the app is open or starts meanwhile.
   */
  dump?: () => Promise<string>;
  /**
   * Embedded only, on a new database that did not start from the schema image: saves the cluster as that image.
   * Called right after the migrations, before anything else is written (core/db/cluster-image.ts). Never throws.
   */
  saveSchemaImage?: () => Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Who holds the embedded data directory (in the lock file; a server is `serve`). */
  lockRole?: string;
}

/**
 * Opens PostgreSQL: the server at DATABASE_URL, or an embedded PGlite served on a loopback socket so that the
 * very same `pg` driver (and pg-boss) talks to it. PGlite is single-session, so the embedded pool holds exactly
 * one connection; transactions then run one after another, which is correct, only not parallel.
 */
export async function openDatabase(config: Config, logger: Logger, options: OpenOptions = {}): Promise<Database> {
  if (config.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: config.databaseUrl,
      max: config.databasePoolSize,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: 10_000,
      application_name: 'loket',
    });
    pool.on('error', (err) => logger.error({ err }, 'idle PostgreSQL connection failed'));
    const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
    const workerPool = new pg.Pool({
      connectionString: config.databaseUrl,
      max: Math.max(2, Math.ceil(config.databasePoolSize / 2)),
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: 10_000,
      application_name: 'loket-worker',
    });
    workerPool.on('error', (err) => logger.error({ err }, 'idle PostgreSQL connection failed'));
    const worker = new Kysely<Tables>({ dialect: new PostgresDialect({ pool: workerPool }) });
    return {
      kind: 'postgres',
      pool,
      db,
      worker,
      fresh: false,
      close: async () => {
        await worker.destroy();
        await db.destroy();
        // Kysely only ends the pool if it ever used it; migrations and pg-boss use the pool directly.
        if (!pool.ended) await pool.end();
      },
    };
  }
  return openEmbedded(config, logger, options.lockRole ?? 'serve');
}

async function openEmbedded(config: Config, logger: Logger, role: string): Promise<Database> {
  const inMemory = config.dataDir.startsWith('memory://');
  // Held until close: no second process may open the same directory (core/db/lock.ts). Throws DataDirLocked.
  const release = inMemory ? () => {} : lockDataDir(config.dataDir, role);
  try {
    return await startEmbedded(config, logger, inMemory, release);
  } catch (err) {
    release();
    throw err;
  }
}

async function startEmbedded(
  config: Config,
  logger: Logger,
  inMemory: boolean,
  release: () => void,
): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  // Extensions the migrations create (trigram indexes for substring search).
  const { pg_trgm } = await import('@electric-sql/pglite/contrib/pg_trgm');
  let dataDir = 'memory://';
  let fresh = true;
  if (!inMemory) {
    dataDir = resolve(config.dataDir, 'pg');
    fresh = !existsSync(resolve(dataDir, 'PG_VERSION'));
    mkdirSync(dataDir, { recursive: true });
  }
  // PostgreSQL's default page cache (128 MB) is sized for a server; the embedded database shares a small box with
  // the service, and its files stay in the system's cache anyway (docs/PERFORMANCE.md, "Embedded start").
  const { lite, image, schemaPath } = await createCluster(PGlite, dataDir, fresh, config, logger, pg_trgm);
  // One client at a time may attach; our pool keeps that one connection for its whole life, so no other
  // local process can reach the embedded database through this port.
  const server = new PGLiteSocketServer({ db: lite, host: '127.0.0.1', port: 0, maxConnections: 1 });
  await server.start();
  const port = Number(server.getServerConn().split(':').pop());
  const pool = new pg.Pool({
    host: '127.0.0.1',
    port,
    user: 'postgres',
    database: 'postgres',
    max: 1,
    idleTimeoutMillis: 0,
    application_name: 'loket',
  });
  pool.on('error', (err) => logger.error({ err }, 'embedded database connection failed'));
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
  logger.debug(
    { dataDir: inMemory ? 'memory' : dataDir, fresh, from_image: image !== 'none', image },
    'embedded PostgreSQL (PGlite) ready',
  );
  return {
    kind: 'embedded',
    pool,
    db,
    worker: db,
    fresh,
    ...(schemaPath && image !== 'schema' && image !== 'spare'
      ? {
          saveSchemaImage: async () => {
            // The app's one connection is held so that nothing is written while the files are read.
            const client = await pool.connect();
            try {
              await saveClusterImage(schemaPath, await lite.dumpDataDir('none'));
              pruneSchemaImages(schemaPath);
              logger.debug({ image: schemaPath }, 'embedded database: schema image saved');
            } catch (err) {
              logger.debug({ err }, 'embedded database: schema image not saved');
            } finally {
              client.release();
            }
          },
        }
      : {}),
    dump: async () => {
      // PGlite is one session: pg_dump shares it with the app's connection, so that connection is taken for the
      // length of the dump (requests wait meanwhile) and the dump sees one committed state.
      const client = await pool.connect();
      // pg_dump leaves its state on that one session: its read-only transaction still open, an empty search_path,
      // its timeouts and date style. The transaction is ended and the app's settings put back, or the app's next
      // writes would fail as read-only and its unqualified table names stop resolving.
      const { rows: own } = await lite.query<{ name: string; setting: string }>(
        "SELECT name, setting FROM pg_catalog.pg_settings WHERE source = 'session'",
      );
      try {
        const { pgDump } = await import('@electric-sql/pglite-tools/pg_dump');
        const file = await pgDump({ pg: lite, args: ['--no-owner', '--no-privileges'] });
        return await file.text();
      } finally {
        try {
          await lite.exec('ROLLBACK');
          await lite.exec('RESET ALL');
          for (const { name, setting } of own) {
            await lite.query('SELECT pg_catalog.set_config($1, $2, false)', [name, setting]);
          }
        } finally {
          client.release();
        }
      }
    },
    close: async () => {
      try {
        await db.destroy();
        if (!pool.ended) await pool.end();
        await server.stop();
        await lite.close();
      } finally {
        release();
      }
    },
  };
}

/**
 * Starts PGlite on `dataDir`. A new cluster is loaded from the schema image for today's migrations when there is
 * one, else from the saved image of an empty cluster, else made by initdb, which then saves that empty image
 * (core/db/cluster-image.ts). Kept apart from `startEmbedded` so that an image, 40 MB, is not held by the closures
 * of the database it returns.
 */
async function createCluster(
  PGlite: typeof import('@electric-sql/pglite').PGlite,
  dataDir: string,
  fresh: boolean,
  config: Config,
  logger: Logger,
  pg_trgm: import('@electric-sql/pglite').Extension,
) {
  const emptyPath = fresh ? clusterImagePath(config.embeddedImageDir) : undefined;
  const schemaPath = fresh ? schemaImagePath(config.embeddedImageDir, migrationsKey()) : undefined;
  const start = (loadDataDir: Blob | undefined) =>
    PGlite.create({
      dataDir,
      extensions: { pg_trgm },
      startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${config.embeddedSharedBuffersMb}MB`],
      ...(loadDataDir ? { loadDataDir } : {}),
    });
  const onDisk = !dataDir.startsWith('memory://');
  if (onDisk && schemaPath && takeSpareCluster(schemaPath, dataDir)) {
    try {
      return { lite: await start(undefined), image: 'spare' as const, schemaPath };
    } catch (err) {
      logger.warn({ err, dataDir }, 'embedded database: the spare cluster did not open; unpacking the image');
      rmSync(dataDir, { recursive: true, force: true });
      mkdirSync(dataDir, { recursive: true });
    }
  }
  for (const [kind, path] of [
    ['schema', schemaPath],
    ['empty', emptyPath],
  ] as const) {
    if (!path) continue;
    try {
      if (onDisk) {
        // Unpacked onto the disk by us, then opened like an existing database (see extractImage).
        if (!existsSync(path)) continue;
        extractImage(path, dataDir);
        return { lite: await start(undefined), image: kind, schemaPath };
      }
      const image = await readClusterImage(path);
      if (!image) continue;
      return { lite: await start(image), image: kind, schemaPath };
    } catch (err) {
      // A damaged image must not stop a start: drop it, clear what it left in the new directory, go on without it.
      logger.warn({ err, image: path }, 'embedded database: the saved cluster image did not load; creating anew');
      rmSync(path, { force: true });
      if (onDisk) {
        rmSync(dataDir, { recursive: true, force: true });
        mkdirSync(dataDir, { recursive: true });
      }
    }
  }
  const lite = await start(undefined);
  if (emptyPath) {
    // initdb has just run and nothing else has: this is the image the next new database starts from.
    await lite
      .dumpDataDir('none')
      .then((tar) => saveClusterImage(emptyPath, tar))
      .catch((err: unknown) => logger.debug({ err }, 'embedded database: cluster image not saved'));
  }
  return { lite, image: 'none' as const, schemaPath };
}
