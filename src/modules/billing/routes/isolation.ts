// Isolation by hand and by promise: operators (level 10) isolate a customer, lift it, or record a promise to pay
// (`janji-bayar`, at most 14 days); billing admins (level 50) run the isolation sweep now instead of at the hour.
// A superadmin (level 99) may run it as of another day (`?tanggal=`): the only way to move billing's clock by hand,
// for a demonstration or to catch up after an outage; its effects (Jatuh Tempo, isolation) are real.

import { Type } from 'typebox';
import { originOf } from '../../../core/audit/audit.ts';
import type { Core } from '../../../core/context.ts';
import { AppError } from '../../../core/http/errors.ts';
import type { Router } from '../../../core/http/route.ts';
import type { RequestAuth } from '../../../core/identity/guards.ts';
import { BILLING_LIMITS } from '../limits.ts';
import { CustomerSchema, IdParams } from '../schemas.ts';
import { IsolationRunAnswer, PromiseAnswer, PromiseBody } from '../schemas-routers.ts';
import type { Isolation } from '../use-cases/isolation.ts';
import { customerView } from '../views.ts';

const actorOf = (req: { auth: RequestAuth; id: string; ip: string }) => ({
  accountId: req.auth.accountId,
  origin: originOf(req),
});

export function registerIsolationRoutes(router: Router, _core: Core, isolation: Isolation): void {
  const limits = [BILLING_LIMITS.general];
  const operate = { level: 10 } as const;

  router.post(
    '/api/pelanggan/isolir/run',
    {
      auth: { level: 50 },
      limits,
      schema: {
        summary: 'Run the isolation sweep now (it runs hourly): overdue invoices, then customers past the grace days',
        querystring: Type.Object({
          tanggal: Type.Optional(
            Type.String({
              format: 'date',
              description: 'level 99 only: run as of this day (YYYY-MM-DD, Asia/Jakarta) instead of today',
            }),
          ),
        }),
        response: { 200: IsolationRunAnswer },
      },
    },
    (req) => {
      const { tanggal } = req.query;
      if (tanggal !== undefined && req.auth.level < 99) {
        throw new AppError('AUTHORIZATION_ERROR', 'Running the sweep as of another day needs level 99');
      }
      return isolation.run(tanggal);
    },
  );

  router.post(
    '/api/pelanggan/:id/isolir',
    {
      auth: operate,
      limits,
      errors: [404, 409],
      schema: {
        summary: "Isolate a customer now: the secret's profile becomes the brand's isolation profile, the session ends",
        params: IdParams,
        response: { 200: CustomerSchema },
      },
    },
    async (req) => customerView(await isolation.isolate(req.params.id, actorOf(req))),
  );

  router.post(
    '/api/pelanggan/:id/buka-isolir',
    {
      auth: operate,
      limits,
      errors: [404, 409],
      schema: {
        summary: "Lift a customer's isolation now: the package's profile back, the session ends so it reconnects",
        params: IdParams,
        response: { 200: CustomerSchema },
      },
    },
    async (req) => customerView(await isolation.restore(req.params.id, actorOf(req))),
  );

  router.post(
    '/api/pelanggan/:id/janji-bayar',
    {
      auth: operate,
      limits,
      errors: [404, 409],
      schema: {
        summary: 'Record a promise to pay until `sampai` (at most 14 days ahead): no isolation until then',
        params: IdParams,
        body: PromiseBody,
        response: { 200: PromiseAnswer },
      },
    },
    (req) => isolation.promise(req.params.id, req.body.sampai, actorOf(req)),
  );
}
