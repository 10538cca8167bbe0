// Each test file gets its own database: a fresh PostgreSQL database on the server in DATABASE_URL (dropped
// afterwards), or, without DATABASE_URL, its own in-memory embedded PostgreSQL.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const REAL_PG = Boolean(process.env.DATABASE_URL);
export const REDIS_URL = process.env.REDIS_URL || undefined;

export interface TestDatabase {
  /** DATABASE_URL for the app, or undefined for embedded. */
  url: string | undefined;
  /** Embedded data dir ('memory://' unless a file-backed one was asked for). */
  dataDir: string;
  drop(): Promise<void>;
}

function adminUrl(): string {
  const url = new URL(process.env.DATABASE_URL as string);
  url.pathname = '/postgres';
  return url.toString();
}

export async function createTestDatabase(opts: { dataDir?: string } = {}): Promise<TestDatabase> {
  if (!REAL_PG) return { url: undefined, dataDir: opts.dataDir ?? 'memory://', drop: async () => {} };
  const name = `loket_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(process.env.DATABASE_URL as string);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    dataDir: opts.dataDir ?? 'memory://',
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl() });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
