import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Core } from '../context.ts';

const Check = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('fail')]),
  error: Type.Optional(Type.String()),
});

async function check(fn: () => Promise<unknown>, timeoutMs = 2000): Promise<{ status: 'ok' | 'fail'; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { status: 'ok' };
  } catch (err) {
    return { status: 'fail', error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/** /health (alive), /ready (dependencies), /metrics (Prometheus), /openapi.json, /redoc. */
export function registerOpsRoutes(app: FastifyInstance, core: Core, extraChecks: Record<string, () => Promise<void>>) {
  const started = Date.now();
  app.get(
    '/health',
    {
      schema: {
        tags: ['operations'],
        summary: 'The process is alive',
        response: { 200: Type.Object({ status: Type.Literal('ok'), uptime_s: Type.Number() }) },
      },
    },
    async () => ({ status: 'ok' as const, uptime_s: Math.round((Date.now() - started) / 1000) }),
  );

  app.get(
    '/ready',
    {
      schema: {
        tags: ['operations'],
        summary: 'The database, Redis and job queue answer (503 when one does not)',
        response: {
          200: Type.Object({ status: Type.String(), checks: Type.Record(Type.String(), Check) }),
          503: Type.Object({ status: Type.String(), checks: Type.Record(Type.String(), Check) }),
        },
      },
    },
    async (_request, reply) => {
      const checks: Record<string, { status: 'ok' | 'fail'; error?: string }> = {};
      if (core.lifecycle.draining) checks.shutdown = { status: 'fail', error: 'draining before shutdown' };
      checks.database = await check(() => core.database.pool.query('SELECT 1'));
      if (core.redis) {
        const redis = core.redis;
        checks.redis = await check(() => redis.ping());
      }
      checks.jobs = await check(async () => {
        if (!core.jobs.started) throw new Error('job workers are not running');
        await core.jobs.ping();
      });
      for (const [name, fn] of Object.entries(extraChecks)) checks[name] = await check(fn);
      const ok = Object.values(checks).every((c) => c.status === 'ok');
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks });
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics',
        produces: ['text/plain'],
        response: { 200: Type.String() },
      },
    },
    async (_request, reply) => {
      reply.type(core.metrics.registry.contentType);
      return core.metrics.registry.metrics();
    },
  );

  app.get(
    '/openapi.json',
    {
      schema: {
        tags: ['operations'],
        summary: 'This API as an OpenAPI 3 document',
        response: { 200: Type.Object({ openapi: Type.String() }, { additionalProperties: true }) },
      },
    },
    async () => app.swagger(),
  );

  // FastAPI's /redoc loads ReDoc from a CDN; Loket's users may have no internet and no ReDoc package is bundled, so
  // this page serves the same document by link: the JSON itself and the interactive reference at /docs.
  app.get(
    '/redoc',
    {
      schema: {
        tags: ['operations'],
        summary: 'The API reference page of the originals (links to /openapi.json and /docs)',
        response: { 200: Type.String() },
      },
    },
    async (_request, reply) => {
      reply.type('text/html; charset=utf-8');
      return REDOC_PAGE;
    },
  );
}

const REDOC_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Loket API reference</title></head>
<body>
<h1>Loket API reference</h1>
<p>The OpenAPI document: <a href="/openapi.json">/openapi.json</a>. Open it in ReDoc or any OpenAPI reader.</p>
<p>Browse and try every operation at <a href="/docs">/docs</a> (Swagger UI, served by Loket, works offline).</p>
<p>ReDoc itself is not bundled: this page does not load anything from the internet.</p>
</body>
</html>
`;
