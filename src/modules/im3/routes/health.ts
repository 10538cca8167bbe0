// `GET /api/health` (database, Redis, job queue; 503 when one fails) and, outside production with the simulated
// operator, the simulator's "the customer paid" button.
import type { Core } from '../../../core/context.ts';
import { AppError } from '../../../core/http/errors.ts';
import type { Router } from '../../../core/http/route.ts';
import { im3Ok, im3OkSchema } from '../envelope.ts';
import { Health, IdParams, SimulatedPayment } from '../schemas.ts';
import { simulatePay } from '../use-cases/simulate-pay.ts';
import type { Im3Deps } from '../wire.ts';

export function registerHealthRoutes(router: Router, deps: Im3Deps, core: Core): void {
  router.get(
    '/api/health',
    {
      auth: 'public',
      errors: [503],
      schema: {
        summary: 'Health: database, Redis and job queue (503 when one fails)',
        response: { 200: im3OkSchema(Health) },
      },
    },
    async (req) => {
      const checks = await healthChecks(core);
      const failed = Object.entries(checks).filter(([, c]) => c.status !== 'ok');
      if (failed.length > 0) {
        throw new AppError('SERVICE_UNAVAILABLE', `Unhealthy: ${failed.map(([n]) => n).join(', ')}`, {
          details: Object.fromEntries(failed.map(([n, c]) => [n, [c.error ?? 'failed']])),
        });
      }
      return im3Ok(String(req.id), { status: 'healthy', checks }, 'Service is healthy');
    },
  );

  if (core.config.env !== 'production' && core.config.im3Provider === 'simulator') {
    router.post(
      '/_dev/im3/transactions/:id/pay',
      {
        auth: 'public',
        errors: [404],
        schema: {
          tags: ['simulator'],
          summary: 'Simulator: the customer paid the QR code of this IM3 purchase',
          params: IdParams,
          response: { 200: im3OkSchema(SimulatedPayment) },
        },
      },
      async (req) => im3Ok(String(req.id), await simulatePay(deps, req.params.id), 'Payment simulated'),
    );
  }
}

async function healthChecks(core: Core) {
  const out: Record<string, { status: 'ok' | 'fail'; error?: string }> = {};
  const check = async (name: string, fn: () => Promise<unknown>) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        fn(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('no answer within 2000 ms')), 2000);
        }),
      ]);
      out[name] = { status: 'ok' };
    } catch (err) {
      out[name] = { status: 'fail', error: (err as Error).message };
    } finally {
      clearTimeout(timer);
    }
  };
  await check('database', () => core.database.pool.query('SELECT 1'));
  const redis = core.redis;
  if (redis) await check('redis', () => redis.ping());
  else out.redis = { status: 'ok' };
  await check('job_queue', async () => {
    if (!core.jobs.started) throw new Error('job workers are not running');
    await core.jobs.ping();
  });
  return out;
}
