// Notifications: every billing user (level 1) reads and marks their own; another account's id is a 404. The
// document's `GET /api/notifications/` (newest first, with the unread count) and `PATCH /{id}/read`, and the original
// web frontend's `GET /unread` → `{count, notifications}`, `POST /{id}/mark-as-read` and `POST /mark-all-as-read`.
// The rows are made by the events in ../notifications.ts and pushed live on `/ws/notifications`.
import { Type } from 'typebox';
import type { Core } from '../../../core/context.ts';
import { AppError } from '../../../core/http/errors.ts';
import type { Router } from '../../../core/http/route.ts';
import type { NotificationRow } from '../../../core/notify/notifications.ts';
import { localTime, localTimeOrNull } from '../../../core/time.ts';
import { BILLING_LIMITS } from '../limits.ts';
import { IdParams, MAX_LIMIT } from '../schemas.ts';
import { clampLimit } from './lists.ts';

const MODULE = 'billing';

const Notification = Type.Object({
  id: Type.Integer(),
  type: Type.String(),
  message: Type.String(),
  data: Type.Unknown({ description: "the event's details (pelanggan_nama, invoice_number, …)" }),
  read: Type.Boolean(),
  read_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
});

const ListQuery = Type.Object({
  skip: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 }),
  limit: Type.Integer({ minimum: 1, default: 15, description: `at most ${MAX_LIMIT} (a larger one is clamped)` }),
  unread_only: Type.Boolean({ default: false }),
});

const view = (n: NotificationRow) => ({
  id: n.id,
  type: n.type,
  message: n.message,
  data: n.data,
  read: n.read,
  read_at: localTimeOrNull(n.read_at),
  created_at: localTime(n.created_at),
});

export function registerNotificationRoutes(router: Router, core: Core): void {
  const { db } = core.database;
  const { notifications } = core;
  const auth = { level: 1 } as const;
  const limits = [BILLING_LIMITS.general];
  const owner = (req: { auth: { accountId: number } }) => ({ module: MODULE, accountId: req.auth.accountId });
  const notFound = () => new AppError('NOT_FOUND', 'Notification not found');

  router.get(
    '/api/notifications/',
    {
      auth,
      limits,
      schema: {
        summary: "The caller's notifications, newest first, with the unread count",
        querystring: ListQuery,
        response: {
          200: Type.Object({
            data: Type.Array(Notification),
            total_count: Type.Integer(),
            unread_count: Type.Integer(),
            skip: Type.Integer(),
            limit: Type.Integer(),
          }),
        },
      },
    },
    async (req) => {
      const limit = clampLimit(req.query.limit);
      const page = await notifications.list(db, {
        ...owner(req),
        skip: req.query.skip,
        limit,
        unreadOnly: req.query.unread_only,
      });
      return {
        data: page.items.map(view),
        total_count: page.total,
        unread_count: page.unread,
        skip: req.query.skip,
        limit,
      };
    },
  );

  router.get(
    '/api/notifications/unread',
    {
      auth,
      limits,
      schema: {
        summary: "The caller's unread notifications, newest first (the latest 100), and how many are unread",
        response: { 200: Type.Object({ count: Type.Integer(), notifications: Type.Array(Notification) }) },
      },
    },
    async (req) => {
      const page = await notifications.list(db, { ...owner(req), skip: 0, limit: MAX_LIMIT, unreadOnly: true });
      return { count: page.unread, notifications: page.items.map(view) };
    },
  );

  const markOne = async (req: { auth: { accountId: number }; params: { id: number } }) => {
    const row = await notifications.markRead(db, { ...owner(req), id: req.params.id });
    if (!row) throw notFound();
    return view(row);
  };
  const markSchema = (summary: string) => ({
    summary,
    params: IdParams,
    response: { 200: Notification },
  });
  router.patch(
    '/api/notifications/:id/read',
    { auth, limits, errors: [404], schema: markSchema('Mark one of your notifications read') },
    markOne,
  );
  router.post(
    '/api/notifications/:id/mark-as-read',
    { auth, limits, errors: [404], schema: markSchema('Mark one of your notifications read (the frontend spelling)') },
    markOne,
  );

  router.post(
    '/api/notifications/mark-all-as-read',
    {
      auth,
      limits,
      schema: {
        summary: 'Mark all your notifications read; answers how many were unread',
        response: { 200: Type.Object({ message: Type.String(), count: Type.Integer() }) },
      },
    },
    async (req) => {
      const count = await notifications.markAllRead(db, owner(req));
      return { message: `${count} notifications marked as read`, count };
    },
  );
}
