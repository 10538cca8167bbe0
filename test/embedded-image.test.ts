// A new embedded database starts from the saved image of an empty cluster (core/db/cluster-image.ts): the first one
// made on a machine saves it, later ones load it and keep what is written in them; a damaged image costs one slow
// start, not a failed one. The image directory is this test's own (LOKET_EMBEDDED_IMAGE_DIR), so nothing here
// touches the image other tests start from.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { clusterImagePath, schemaImagePath, spareClusterPath } from '../src/core/db/cluster-image.ts';
import { openDatabase } from '../src/core/db/database.ts';
import { MIGRATIONS_DIR, migrationsKey } from '../src/core/db/migrate.ts';
import { LogCapture, testConfig } from './helpers/app.ts';
import { freePort } from './helpers/net.ts';

const dir = mkdtempSync(join(tmpdir(), 'loket-embedded-image-'));

/**
 * Builds the whole app (migrations on start) on a new data directory with `imageDir`'s images; returns which image
 * it started from, how many migrations it applied and whether it logged `warning`.
 */
async function startOn(imageDir: string, name: string, warning: string) {
  const logs = new LogCapture();
  const app = await buildApp(
    testConfig({
      LOKET_DATA_DIR: join(dir, name),
      LOKET_EMBEDDED_IMAGE_DIR: imageDir,
      LOKET_MODULES: 'staff',
      LOG_LEVEL: 'debug',
    }),
    { logStream: logs },
  );
  const records = logs.records();
  return {
    app,
    image: records.find((l) => l.msg === 'embedded PostgreSQL (PGlite) ready')?.image,
    migrated: records.filter((l) => l.msg === 'migration applied').length,
    warned: records.some((l) => l.level === 40 && String(l.msg).includes(warning)),
  };
}
const SPARE_WARNING = 'spare cluster did not open';
const images = join(dir, 'images');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Opens an embedded database on `dataDir` with this test's image directory; the log lines are collected. */
async function open(dataDir: string) {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const config = loadConfig({ LOKET_DATA_DIR: dataDir, LOKET_EMBEDDED_IMAGE_DIR: images, LOG_LEVEL: 'warn' });
  const db = await openDatabase(config, logger);
  const ready = lines.find((l) => l.msg === 'embedded PostgreSQL (PGlite) ready');
  return { db, fromImage: ready?.from_image, lines };
}

const imageFiles = () => readdirSync(images).filter((f) => f.endsWith('.tar'));

describe('a new embedded database from the saved cluster image', () => {
  it('the first new database runs initdb and saves the image', { timeout: 120_000 }, async () => {
    const { db, fromImage } = await open(join(dir, 'first'));
    try {
      expect(fromImage).toBe(false);
      expect(imageFiles()).toHaveLength(1);
      expect(statSync(join(images, imageFiles()[0] as string)).size).toBeGreaterThan(1_000_000);
    } finally {
      await db.close();
    }
  });

  it('the next one loads the image and keeps what is written in it across a restart', async () => {
    const dataDir = join(dir, 'second');
    const first = await open(dataDir);
    try {
      expect(first.fromImage).toBe(true);
      expect(first.db.fresh).toBe(true);
      await first.db.pool.query("CREATE TABLE shop (name text); INSERT INTO shop VALUES ('Warung Bu Sri')");
    } finally {
      await first.db.close();
    }
    const again = await open(dataDir);
    try {
      expect(again.db.fresh).toBe(false);
      expect(again.fromImage).toBe(false);
      const { rows } = await again.db.pool.query('SELECT name FROM shop');
      expect(rows).toEqual([{ name: 'Warung Bu Sri' }]);
    } finally {
      await again.db.close();
    }
  });

  it('an in-memory database loads it too', async () => {
    const { db, fromImage } = await open('memory://');
    try {
      expect(fromImage).toBe(true);
      const { rows } = await db.pool.query('SELECT 1 + 1 AS two');
      expect(rows).toEqual([{ two: 2 }]);
    } finally {
      await db.close();
    }
  });

  it('a damaged image is dropped with a warning, the database is created by initdb and a good image saved', {
    timeout: 120_000,
  }, async () => {
    const file = join(images, imageFiles()[0] as string);
    writeFileSync(file, 'not a tar file at all');
    const { db, fromImage, lines } = await open(join(dir, 'third'));
    try {
      expect(fromImage).toBe(false);
      expect(lines.some((l) => l.level === 40 && String(l.msg).includes('cluster image did not load'))).toBe(true);
      await db.pool.query('CREATE TABLE t (x int)');
      expect(statSync(file).size).toBeGreaterThan(1_000_000);
    } finally {
      await db.close();
    }
    const next = await open(join(dir, 'fourth'));
    expect(next.fromImage).toBe(true);
    await next.db.close();
  });

  it('`off` never saves nor loads an image', { timeout: 120_000 }, async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const config = loadConfig({ LOKET_DATA_DIR: join(dir, 'fifth'), LOKET_EMBEDDED_IMAGE_DIR: 'off' });
    const before = imageFiles();
    const db = await openDatabase(config, logger);
    await db.close();
    expect(lines.find((l) => l.msg === 'embedded PostgreSQL (PGlite) ready')?.from_image).toBe(false);
    // Neither read from nor written to a directory named `off`, nor to this test's image directory.
    expect(existsSync(join(process.cwd(), 'off'))).toBe(false);
    expect(imageFiles()).toEqual(before);
  });
});

describe('a new embedded database from the schema image (migrations already applied)', () => {
  const schemaImages = join(dir, 'schema-images');
  const files = () => readdirSync(schemaImages).filter((f) => f.endsWith('.tar'));
  const schemaFile = () => files().find((f) => f.includes('-schema-'));

  const start = (name: string) => startOn(schemaImages, name, 'cluster image did not load');
  const migrationCount = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).length;

  it('the first new database is migrated and saved as the schema image; the next one starts from it with nothing to migrate', {
    timeout: 240_000,
  }, async () => {
    const first = await start('s1');
    try {
      expect(first.image).toBe('none');
      expect(first.migrated).toBe(migrationCount);
      expect(schemaFile()).toBe(`${basename(schemaImagePath(schemaImages, migrationsKey()) as string)}`);
    } finally {
      await first.app.close();
    }
    const second = await start('s2');
    try {
      expect(second.image).toBe('schema');
      expect(second.migrated).toBe(0);
      expect(second.app.loket.database.fresh).toBe(true);
      const { rows } = await second.app.loket.database.pool.query('SELECT count(*)::int AS n FROM schema_migrations');
      expect(rows[0]?.n).toBe(migrationCount);
      // A working database of its own: what is written here is all there is (the first one's rows are not in it).
      await second.app.loket.database.pool.query("INSERT INTO staff_jabatan (nama_jabatan) VALUES ('Kasir')");
      const { rows: jabatan } = await second.app.loket.database.pool.query('SELECT nama_jabatan FROM staff_jabatan');
      expect(jabatan).toEqual([{ nama_jabatan: 'Kasir' }]);
    } finally {
      await second.app.close();
    }
  });

  it('an image of other migrations is never loaded and is deleted when today’s is saved; a damaged one costs one migration run', {
    timeout: 240_000,
  }, async () => {
    const current = join(schemaImages, schemaFile() as string);
    const stale = current.replace(/-schema-[0-9a-f]+\.tar$/, '-schema-0000000000000000.tar');
    renameSync(current, stale);
    const staleSpare = spareClusterPath(stale);
    mkdirSync(join(staleSpare, 'base'), { recursive: true });
    const third = await start('s3');
    try {
      expect(third.image).toBe('empty');
      expect(third.migrated).toBe(migrationCount);
      expect(existsSync(stale)).toBe(false);
      expect(existsSync(staleSpare)).toBe(false);
      expect(existsSync(current)).toBe(true);
    } finally {
      await third.app.close();
    }
    writeFileSync(current, 'not a tar file at all');
    const fourth = await start('s4');
    try {
      expect(fourth.warned).toBe(true);
      expect(fourth.image).toBe('empty');
      expect(fourth.migrated).toBe(migrationCount);
      expect(statSync(current).size).toBeGreaterThan(1_000_000);
    } finally {
      await fourth.app.close();
    }
  });
});

describe('db prepare (what npm install runs)', () => {
  it('makes both images on an in-memory database of its own, whatever DATABASE_URL says, and only once', {
    timeout: 240_000,
  }, async () => {
    const prepared = join(dir, 'prepared');
    const port = await freePort();
    const run = () =>
      spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', 'src/main.ts', 'db', 'prepare'], {
        env: {
          PATH: process.env.PATH ?? '',
          LOKET_EMBEDDED_IMAGE_DIR: prepared,
          // Nobody listens here: the command must not even try the server an installation may name.
          DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/loket`,
          LOKET_DATA_DIR: join(dir, 'never-created'),
        },
        encoding: 'utf8',
        timeout: 200_000,
      });
    const first = run();
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain('embedded database images ready');
    const made = readdirSync(prepared).sort();
    const schema = schemaImagePath(prepared, migrationsKey()) as string;
    expect(made).toEqual(
      [
        basename(clusterImagePath(prepared) as string),
        basename(schema),
        basename(spareClusterPath(schema)), // the schema image unpacked once, for the first new data directory
      ].sort(),
    );
    expect(existsSync(join(dir, 'never-created'))).toBe(false);
    const again = run();
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain('embedded database images are ready');
    expect(readdirSync(prepared).sort()).toEqual(made);

    // The first new data directory takes the spare by renaming it: migrated, nothing to migrate, and the spare is
    // gone, so no second database can share its files. The next new one unpacks the image; `db prepare` makes a
    // new spare.
    const migrationCount = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).length;
    const took = await startOn(prepared, 'from-spare', SPARE_WARNING);
    try {
      expect(took.image).toBe('spare');
      expect(took.migrated).toBe(0);
      expect(existsSync(spareClusterPath(schema))).toBe(false);
      const { rows } = await took.app.loket.database.pool.query('SELECT count(*)::int AS n FROM schema_migrations');
      expect(rows[0]?.n).toBe(migrationCount);
      await took.app.loket.database.pool.query("INSERT INTO staff_jabatan (nama_jabatan) VALUES ('Kasir')");
    } finally {
      await took.app.close();
    }
    const next = await startOn(prepared, 'after-spare', SPARE_WARNING);
    try {
      expect(next.image).toBe('schema');
      const { rows } = await next.app.loket.database.pool.query('SELECT count(*)::int AS n FROM staff_jabatan');
      expect(rows[0]?.n).toBe(0); // the first one's row is in its own files only
    } finally {
      await next.app.close();
    }

    // A damaged spare costs an unpacking of the image, with a warning, not a failed start.
    expect(run().status).toBe(0);
    writeFileSync(join(spareClusterPath(schema), 'global', 'pg_control'), 'not a control file');
    const damaged = await startOn(prepared, 'damaged-spare', SPARE_WARNING);
    try {
      expect(damaged.warned).toBe(true);
      expect(damaged.image).toBe('schema');
      expect(damaged.migrated).toBe(0);
    } finally {
      await damaged.app.close();
    }
  });
});

describe('migrationsKey', () => {
  it('changes when a migration is added or edited, and only then', () => {
    const m = join(dir, 'migrations');
    mkdirSync(m, { recursive: true });
    writeFileSync(join(m, '0001_a.sql'), 'CREATE TABLE a (x int);');
    const one = migrationsKey(m);
    expect(migrationsKey(m)).toBe(one);
    writeFileSync(join(m, 'notes.txt'), 'not a migration');
    expect(migrationsKey(m)).toBe(one);
    writeFileSync(join(m, '0002_b.sql'), 'CREATE TABLE b (x int);');
    const two = migrationsKey(m);
    expect(two).not.toBe(one);
    writeFileSync(join(m, '0002_b.sql'), 'CREATE TABLE b (y int);');
    expect(migrationsKey(m)).not.toBe(two);
  });
});
