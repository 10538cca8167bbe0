// `loket db copy-to postgres://…`: moves an installation to a real PostgreSQL. The target's schema comes from the
// migrations (the same files every start applies), then every row of every table the migrations made is copied in
// one transaction on the target, from one snapshot of the source, and the sequences are set past the copied ids.
// Rows travel as JSON (json_agg on the source, json_populate_recordset on the target): PostgreSQL itself renders
// and parses every value, so timestamps keep their microseconds, numerics their digits and bytea its bytes.
import pg from 'pg';
import type { Logger } from 'pino';
import { migrate } from '../db/migrate.ts';

const PAGE = 2000;

export class CopyError extends Error {}

export interface CopyResult {
  tables: number;
  rows: number;
  sequences: number;
  /** Jobs waiting in the source's queue (pg-boss): not copied; the target's queue starts empty. */
  queuedJobs: number;
}

interface Table {
  schema: string;
  name: string;
  columns: string[];
}

const ident = (s: string) => `"${s.replaceAll('"', '""')}"`;
const qualified = (t: { schema: string; name: string }) => `${ident(t.schema)}.${ident(t.name)}`;

/** The URL as it may be shown: without its password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(an unreadable URL)';
  }
}

/** Every table of the migrations' schema (`public`), its copied columns (generated ones are recomputed). */
async function tablesOf(client: pg.PoolClient | pg.Client): Promise<Table[]> {
  const { rows } = await client.query<{ name: string; columns: string[] }>(`
    SELECT c.relname AS name, array_agg(a.attname::text ORDER BY a.attnum) AS columns
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
    GROUP BY c.relname ORDER BY c.relname`);
  return rows.map((r) => ({ schema: 'public', name: r.name, columns: r.columns }));
}

/** Parents before children (foreign keys among the copied tables); a table referencing itself is fine in one INSERT. */
async function inDependencyOrder(client: pg.PoolClient, tables: Table[]): Promise<Table[]> {
  const { rows } = await client.query<{ child: string; parent: string }>(`
    SELECT cc.relname AS child, pc.relname AS parent
    FROM pg_catalog.pg_constraint k
    JOIN pg_catalog.pg_class cc ON cc.oid = k.conrelid
    JOIN pg_catalog.pg_class pc ON pc.oid = k.confrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = cc.relnamespace
    WHERE k.contype = 'f' AND n.nspname = 'public' AND cc.oid <> pc.oid`);
  const parents = new Map<string, Set<string>>();
  for (const r of rows) parents.set(r.child, (parents.get(r.child) ?? new Set()).add(r.parent));
  const byName = new Map(tables.map((t) => [t.name, t]));
  const done = new Set<string>();
  const out: Table[] = [];
  const visit = (name: string, path: Set<string>) => {
    if (done.has(name) || path.has(name)) return;
    path.add(name);
    for (const p of parents.get(name) ?? []) if (byName.has(p)) visit(p, path);
    path.delete(name);
    done.add(name);
    const t = byName.get(name);
    if (t) out.push(t);
  };
  for (const t of tables) visit(t.name, new Set());
  return out;
}

/** Tables of the target (any schema of its own) that hold rows, besides the migrations' bookkeeping. */
async function nonEmptyTables(target: pg.Client): Promise<string[]> {
  const { rows } = await target.query<{ schema: string; name: string }>(`
    SELECT n.nspname AS schema, c.relname AS name
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
      AND NOT (n.nspname = 'public' AND c.relname = 'schema_migrations')`);
  const full: string[] = [];
  for (const t of rows) {
    const { rows: any } = await target.query(`SELECT 1 FROM ${qualified(t)} LIMIT 1`);
    if (any.length > 0) full.push(t.schema === 'public' ? t.name : `${t.schema}.${t.name}`);
  }
  return full;
}

async function migrationsOf(client: pg.PoolClient | pg.Client): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>('SELECT name FROM public.schema_migrations ORDER BY name');
  return rows.map((r) => r.name);
}

/**
 * Copies the database behind `source` (a pool of the installation being moved; its one connection is held for the
 * whole copy, so the copy is one committed state) into the PostgreSQL at `targetUrl`. A target with rows anywhere
 * is refused unless `force`, which empties Loket's tables there first. All or nothing on the target.
 */
export async function copyTo(
  source: pg.Pool,
  targetUrl: string,
  options: { force: boolean; logger: Logger; out: (line: string) => void },
): Promise<CopyResult> {
  const shown = redactUrl(targetUrl);
  const target = new pg.Client({ connectionString: targetUrl, application_name: 'loket-copy' });
  try {
    await target.connect();
  } catch (err) {
    throw new CopyError(`cannot connect to ${shown}: ${(err as Error).message}; create the database first (createdb)`);
  }
  try {
    const full = await nonEmptyTables(target);
    if (full.length > 0 && !options.force) {
      throw new CopyError(
        `${shown} is not empty (rows in ${full.slice(0, 5).join(', ')}${full.length > 5 ? ` and ${full.length - 5} more` : ''}): copy into a new database (createdb), or pass --force to replace Loket's tables there`,
      );
    }
    const pool = new pg.Pool({ connectionString: targetUrl, max: 1, application_name: 'loket-copy' });
    try {
      const result = await migrate(pool, options.logger);
      options.out(`target schema: ${result.applied.length} migrations applied, ${result.skipped} already there`);
    } finally {
      await pool.end();
    }
    const client = await source.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      try {
        return await copyRows(client, target, options.out);
      } finally {
        await client.query('ROLLBACK').catch(() => {});
      }
    } finally {
      client.release();
    }
  } finally {
    await target.end().catch(() => {});
  }
}

async function copyRows(client: pg.PoolClient, target: pg.Client, out: (line: string) => void): Promise<CopyResult> {
  const [from, to] = [await migrationsOf(client), await migrationsOf(target)];
  const missing = from.filter((m) => !to.includes(m));
  if (missing.length > 0) {
    throw new CopyError(`the source has migrations this build does not know (${missing.join(', ')}): update Loket`);
  }
  const behind = to.filter((m) => !from.includes(m));
  if (behind.length > 0) {
    throw new CopyError(`the source lacks migrations ${behind.join(', ')}: run \`npm run loket -- migrate\` first`);
  }
  const tables = (await inDependencyOrder(client, await tablesOf(client))).filter(
    (t) => t.name !== 'schema_migrations',
  );
  const targetTables = new Map((await tablesOf(target)).map((t) => [t.name, t]));
  for (const t of tables) {
    const there = targetTables.get(t.name);
    const lacking = t.columns.filter((c) => !there?.columns.includes(c));
    if (!there || lacking.length > 0) {
      throw new CopyError(
        `the target's table ${t.name} does not match the source's (${lacking.join(', ') || 'absent'})`,
      );
    }
  }
  const queuedJobs = await queued(client);
  let rows = 0;
  await target.query('BEGIN');
  try {
    // Rows the migrations themselves inserted, or a forced target's, make way for the source's.
    if (tables.length > 0) {
      await target.query(`TRUNCATE ${tables.map(qualified).join(', ')} RESTART IDENTITY CASCADE`);
    }
    for (const t of tables) {
      const cols = t.columns.map(ident).join(', ');
      let copied = 0;
      for (let offset = 0; ; offset += PAGE) {
        const page = await client.query<{ rows: string | null; n: number }>(
          `SELECT json_agg(t)::text AS rows, count(*)::int AS n FROM (SELECT ${cols} FROM ${qualified(t)} ORDER BY ctid LIMIT ${PAGE} OFFSET ${offset}) t`,
        );
        const json = page.rows[0]?.rows;
        const n = page.rows[0]?.n ?? 0;
        if (!json) break;
        // The target was emptied and the source's rows satisfy the same unique keys, so a conflict can only be a row
        // that a trigger already derived from rows copied before it (a search table kept from another table's
        // rows): it is the same as the source's, and is left as it is.
        await target.query(
          `INSERT INTO ${qualified(t)} (${cols}) OVERRIDING SYSTEM VALUE SELECT ${cols} FROM json_populate_recordset(NULL::${qualified(t)}, $1::json) ON CONFLICT DO NOTHING`,
          [json],
        );
        copied += n;
        if (n < PAGE) break;
      }
      rows += copied;
      if (copied > 0) out(`  ${t.name}: ${copied} rows`);
    }
    const sequences = await copySequences(client, target, tables);
    await target.query('COMMIT');
    return { tables: tables.length, rows, sequences, queuedJobs };
  } catch (err) {
    await target.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

/** Each sequence continues where the source's did, and never below the largest id copied into its column. */
async function copySequences(client: pg.PoolClient, target: pg.Client, tables: Table[]): Promise<number> {
  const { rows: seqs } = await client.query<{ name: string; last_value: string | null; is_called: boolean }>(`
    SELECT sequencename AS name, last_value::text, last_value IS NOT NULL AS is_called
    FROM pg_catalog.pg_sequences WHERE schemaname = 'public'`);
  let n = 0;
  for (const s of seqs) {
    const exists = await target.query(
      'SELECT 1 FROM pg_catalog.pg_sequences WHERE schemaname = $1 AND sequencename = $2',
      ['public', s.name],
    );
    if (exists.rows.length === 0) continue;
    if (s.last_value !== null) {
      await target.query('SELECT setval($1::regclass, $2::bigint, true)', [`public.${ident(s.name)}`, s.last_value]);
    }
    n++;
  }
  // Sequences that feed a column (serial, identity): past the largest value now in it.
  for (const t of tables) {
    for (const c of t.columns) {
      const { rows } = await target.query<{ seq: string | null }>('SELECT pg_get_serial_sequence($1, $2) AS seq', [
        qualified(t),
        c,
      ]);
      const seq = rows[0]?.seq;
      if (!seq) continue;
      await target.query(
        `SELECT setval($1::regclass, GREATEST(m, (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM ${seq})))
         FROM (SELECT max(${ident(c)})::bigint AS m FROM ${qualified(t)}) x WHERE m IS NOT NULL`,
        [seq],
      );
    }
  }
  return n;
}

/** Jobs still waiting in the source's pg-boss queue (0 when it has none, or no queue at all). */
async function queued(client: pg.PoolClient): Promise<number> {
  const { rows } = await client.query<{ present: boolean }>("SELECT to_regclass('pgboss.job') IS NOT NULL AS present");
  if (!rows[0]?.present) return 0;
  const { rows: n } = await client.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pgboss.job WHERE state IN ('created', 'retry', 'active')",
  );
  return n[0]?.n ?? 0;
}
