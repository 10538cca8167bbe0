// A new embedded database starts from the saved image of an empty cluster (core/db/cluster-image.ts): the first one
// made on a machine saves it, later ones load it and keep what is written in them; a damaged image costs one slow
// start, not a failed one. The image directory is this test's own (LOKET_EMBEDDED_IMAGE_DIR), so nothing here
// touches the image other tests start from.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/core/db/database.ts';

const dir = mkdtempSync(join(tmpdir(), 'loket-embedded-image-'));
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
