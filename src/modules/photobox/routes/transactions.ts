// Transactions: a kiosk (bearer token or kiosk key) creates one and polls it (public, by its external id); the
// back office lists and counts them.
import { Type } from 'typebox';
import { AppError } from '../../../core/http/errors.ts';
import type { Router } from '../../../core/http/route.ts';
import { photoboxOkSchema as ok, photoboxOk } from '../envelope.ts';
import { PHOTOBOX_LIMITS } from '../limits.ts';
import { STATUSES, type TransactionStatus } from '../repo/index.ts';
import {
  CountQuery,
  Encrypted,
  ExternalIdParams,
  pagedSchema,
  TransactionCreate,
  TransactionCreated,
  TransactionListQuery,
  TransactionRow,
  TransactionStatusView,
} from '../schemas.ts';
import { createTransaction } from '../use-cases/create-transaction.ts';
import { countTransactions, listTransactions } from '../use-cases/list-transactions.ts';
import { transactionStatus } from '../use-cases/transaction-status.ts';
import type { PhotoboxDeps } from '../wire.ts';
import type { kioskReader } from './kiosk-read.ts';

const isStatus = (s: string): s is TransactionStatus => (STATUSES as readonly string[]).includes(s);

/** "COMPLETED,PENDING" → the statuses, or a 422 naming the bad one. */
function parseStatuses(raw: string | undefined): TransactionStatus[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const list = [...new Set(raw.split(',').map((s) => s.trim().toUpperCase()))].filter((s) => s !== '');
  const bad = list.filter((s) => !isStatus(s));
  if (bad.length > 0) {
    throw new AppError('VALIDATION_ERROR', `Unknown status ${bad.join(', ')}; use ${STATUSES.join(', ')}`, {
      details: { status: [`must be a comma-separated list of ${STATUSES.join(', ')}`] },
    });
  }
  return list.filter(isStatus);
}

export function transactionRoutes(router: Router, deps: PhotoboxDeps, sendKioskRead: ReturnType<typeof kioskReader>) {
  const { general, public: open } = PHOTOBOX_LIMITS;

  router.post(
    '/api/v1/transactions',
    {
      auth: { level: 1, apiKey: true },
      limits: [general],
      errors: [404, 409, 502],
      schema: {
        summary: 'Create a transaction and its QRIS (valid 15 minutes); amount = the price, or PHOTOBOX_AMOUNT',
        body: TransactionCreate,
        response: { 201: ok(TransactionCreated) },
      },
    },
    async (req, reply) => {
      const data = await createTransaction(deps, req.body, { accountId: req.auth.accountId });
      return reply.code(201).send(photoboxOk(data, 'Transaction created successfully'));
    },
  );

  router.get(
    '/api/v1/transactions/external/:external_id',
    {
      auth: 'public',
      limits: [open],
      errors: [404],
      schema: {
        summary: 'Poll a transaction by external id (public; encrypted when ENCRYPTION_ENABLED=on)',
        params: ExternalIdParams,
        response: { 200: Type.Union([ok(TransactionStatusView), Encrypted]) },
      },
    },
    async (req, reply) => {
      const data = await transactionStatus(deps, req.params.external_id);
      return sendKioskRead(reply, photoboxOk(data, 'Transaction retrieved successfully'), data);
    },
  );

  router.get(
    '/api/v1/transactions/count',
    {
      auth: { level: 1 },
      limits: [general],
      schema: {
        summary: 'Count transactions, optionally of some statuses ("COMPLETED,PENDING")',
        querystring: CountQuery,
        response: { 200: ok(Type.Object({ count: Type.Integer() })) },
      },
    },
    async (req) => {
      const count = await countTransactions(deps, parseStatuses(req.query.status));
      return photoboxOk({ count }, 'Transaction count retrieved successfully');
    },
  );

  router.get(
    '/api/v1/transactions',
    {
      auth: { level: 1 },
      limits: [general],
      schema: {
        summary: 'List transactions, newest first; search by external id or location name',
        querystring: TransactionListQuery,
        response: { 200: pagedSchema(TransactionRow) },
      },
    },
    async (req) => {
      const q = req.query;
      const page = await listTransactions(deps, {
        search: q.search?.trim() || undefined,
        statuses: parseStatuses(q.status),
        locationId: q.location_id,
        skip: q.skip,
        limit: q.limit,
      });
      return { success: true as const, message: 'Transactions retrieved successfully', ...page };
    },
  );
}
