import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '../src/core/db/transaction.ts';
import { newProbeState, probeModule } from './fixtures/probe-module.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { REDIS_URL } from './helpers/db.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ overrides: { extraModules: [probeModule(newProbeState())] } });
});
afterAll(async () => t?.close());

describe('operations endpoints', () => {
  it('/health answers while the process lives', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('ok');
  });

  it('/ready checks the database, the job queue and (when configured) Redis', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(200);
    const { checks } = res.json();
    expect(checks.database.status).toBe('ok');
    expect(checks.jobs.status).toBe('ok');
    if (REDIS_URL) expect(checks.redis.status).toBe('ok');
    else expect(checks.redis).toBeUndefined();
  });

  it('/metrics counts requests per route pattern and status, and pool use', async () => {
    await t.app.inject({ method: 'GET', url: '/health' });
    await t.app.inject({ method: 'GET', url: '/api/probe/nothing' });
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toMatch(/loket_http_requests_total\{method="GET",route="\/health",status="200"\} \d+/);
    expect(res.body).toMatch(/loket_http_requests_total\{method="GET",route="unmatched",status="404"\} \d+/);
    expect(res.body).toMatch(/loket_http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/health"/);
    expect(res.body).toMatch(/loket_db_pool_connections\{state="total"\} \d+/);
    expect(res.body).toMatch(/loket_jobs_waiting\{queue="probe.record",state="queued"\} \d+/);
  });

  it('/openapi.json documents every route with its request and response schemas', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(doc.openapi).toMatch(/^3\./);
    const ops = doc.paths['/api/probe/items'].post;
    expect(ops.requestBody.content['application/json'].schema.required).toEqual(['name', 'qty']);
    expect(ops.responses['201']).toBeDefined();
    for (const path of ['/health', '/ready', '/metrics', '/openapi.json']) {
      expect(doc.paths[path].get.responses['200'], path).toBeDefined();
    }
  });

  it('/docs serves the interactive documentation', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('swagger');
  });
});

describe('/ready when a dependency is down', () => {
  it('answers 503 and names Redis when Redis cannot be reached', async () => {
    const broken = await startTestApp({ config: { redisUrl: 'redis://127.0.0.1:1' } });
    try {
      const res = await broken.app.inject({ method: 'GET', url: '/ready' });
      expect(res.statusCode).toBe(503);
      expect(res.json().checks.redis.status).toBe('fail');
      expect(res.json().checks.database.status).toBe('ok');
    } finally {
      await broken.close();
    }
  });
});

describe('withTransaction', () => {
  it('runs the whole function again after a serialization failure and commits once', async () => {
    const { db } = t.app.loket.database;
    await sql`CREATE TABLE IF NOT EXISTS tx_probe (id int PRIMARY KEY, n int NOT NULL)`.execute(db);
    await sql`INSERT INTO tx_probe VALUES (1, 0) ON CONFLICT DO NOTHING`.execute(db);
    let calls = 0;
    const result = await withTransaction(db, async (trx) => {
      calls++;
      await sql`UPDATE tx_probe SET n = n + 1 WHERE id = 1`.execute(trx);
      if (calls === 1) throw Object.assign(new Error('could not serialize access'), { code: '40001' });
      return 'done';
    });
    expect(result).toBe('done');
    expect(calls).toBe(2);
    const { rows } = await sql<{ n: number }>`SELECT n FROM tx_probe WHERE id = 1`.execute(db);
    expect(rows[0]?.n).toBe(1); // the failed attempt was rolled back
  });

  it('concurrent serializable read-modify-write transactions all land', async () => {
    const { db } = t.app.loket.database;
    await sql`INSERT INTO tx_probe VALUES (2, 0) ON CONFLICT DO NOTHING`.execute(db);
    await Promise.all(
      Array.from({ length: 8 }, () =>
        withTransaction(
          db,
          async (trx) => {
            const { rows } = await sql<{ n: number }>`SELECT n FROM tx_probe WHERE id = 2`.execute(trx);
            await sql`UPDATE tx_probe SET n = ${(rows[0]?.n ?? 0) + 1} WHERE id = 2`.execute(trx);
          },
          { isolation: 'serializable', attempts: 20 },
        ),
      ),
    );
    const { rows } = await sql<{ n: number }>`SELECT n FROM tx_probe WHERE id = 2`.execute(db);
    expect(rows[0]?.n).toBe(8);
  });

  it('does not retry other errors', async () => {
    let calls = 0;
    await expect(
      withTransaction(t.app.loket.database.db, async () => {
        calls++;
        throw new Error('business rule');
      }),
    ).rejects.toThrow('business rule');
    expect(calls).toBe(1);
  });
});

describe('the OpenAPI document covers every route of the real app', () => {
  it('each operation has a 2xx response schema, and each POST/PUT/PATCH with a body documents it', async () => {
    const plain = await startTestApp();
    try {
      const doc = (await plain.app.inject({ method: 'GET', url: '/openapi.json' })).json();
      const problems: string[] = [];
      let count = 0;
      // Routes that take no body by design: actions named by the path, and logout's optional body (described).
      const noBody = [/\/_dev\/payments\//, /\/api\/users\/logout$/];
      type Operation = { responses?: Record<string, unknown>; requestBody?: unknown };
      for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, Operation>>)) {
        for (const [method, op] of Object.entries(ops)) {
          count++;
          const ok = Object.entries(op.responses ?? {}).some(([code, r]) => code.startsWith('2') && r);
          if (!ok) problems.push(`${method.toUpperCase()} ${path}: no 2xx response`);
          if (['post', 'put', 'patch'].includes(method) && !op.requestBody && !noBody.some((re) => re.test(path))) {
            problems.push(`${method.toUpperCase()} ${path}: no request body schema`);
          }
        }
      }
      expect(problems).toEqual([]);
      expect(count).toBeGreaterThan(15);
    } finally {
      await plain.close();
    }
  });
});
