// The kiosk's cancel ("Batal") and the operators' list of late payments: money that arrived after a transaction
// expired or was cancelled, kept by the payments core for a refund (src/core/payments/late.ts).
import type { Router } from '../../../core/http/route.ts';
import { MODULE } from '../constants.ts';
import { photoboxOkSchema as ok, photoboxOk } from '../envelope.ts';
import { PHOTOBOX_LIMITS } from '../limits.ts';
import {
  ExternalIdParams,
  LatePaymentParams,
  LatePaymentQuery,
  LatePaymentView,
  pagedSchema,
  TransactionStatusView,
} from '../schemas.ts';
import { cancelTransaction } from '../use-cases/cancel-transaction.ts';
import { latePaymentView, paging } from '../views.ts';
import type { PhotoboxDeps } from '../wire.ts';

export function latePaymentRoutes(router: Router, deps: PhotoboxDeps) {
  const limits = [PHOTOBOX_LIMITS.general];

  router.post(
    '/api/v1/transactions/:external_id/cancel',
    {
      auth: { level: 1, apiKey: true },
      limits,
      errors: [404, 409, 502],
      schema: {
        summary:
          "Cancel a PENDING transaction (the kiosk's Batal): the QR code is closed and it becomes EXPIRED; 409 when paid",
        params: ExternalIdParams,
        response: { 200: ok(TransactionStatusView) },
      },
    },
    async (req) => {
      const view = await cancelTransaction(deps, req.params.external_id, {
        accountId: req.auth.accountId,
        level: req.auth.level,
      });
      return photoboxOk(view, 'Transaction cancelled');
    },
  );

  router.get(
    '/api/v1/admin/late-payments',
    {
      auth: { level: 50 },
      limits,
      schema: {
        summary: 'Payments that arrived after their transaction expired or was cancelled: to refund, newest first',
        querystring: LatePaymentQuery,
        response: { 200: pagedSchema(LatePaymentView) },
      },
    },
    async (req) => {
      const { skip, limit, status } = req.query;
      const page = await deps.payments.late.list(MODULE, { status, skip, limit });
      return {
        success: true as const,
        message: 'Late payments retrieved successfully',
        data: page.rows.map(latePaymentView),
        ...paging(page.total, skip, limit),
      };
    },
  );

  router.post(
    '/api/v1/admin/late-payments/:id/refunded',
    {
      auth: { level: 50 },
      limits,
      errors: [404, 409],
      schema: {
        summary: 'Mark a late payment refunded (the money was paid back outside Loket); once',
        params: LatePaymentParams,
        response: { 200: ok(LatePaymentView) },
      },
    },
    async (req) => {
      const row = await deps.payments.late.markRefunded(MODULE, req.params.id, { accountId: req.auth.accountId });
      return photoboxOk(latePaymentView(row), 'Late payment marked refunded');
    },
  );
}
