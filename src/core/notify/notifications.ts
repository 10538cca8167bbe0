// Notifications for the people who use a module (a console's bell icon and its live socket). A module addresses
// "every account at level N or above in my module" or named accounts; each recipient gets a row of its own, written
// through the caller's handle, so a notification exists exactly when the change that caused it committed. The live
// push goes after the commit, through the bus, so a socket on any instance gets it; a message missed by a socket
// (closed, or a bus break) is still in the list.
import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import type { Executor, Tables, Trx } from '../db/tables.ts';
import { afterCommit } from '../db/transaction.ts';
import { PLATFORM } from '../identity/accounts.ts';
import { localTime } from '../time.ts';
import type { Bus } from './bus.ts';

export interface NewNotification {
  /** The module the notification belongs to (its readers list only their module's). */
  module: string;
  /** The event's name (`new_payment`, …): the socket message's `type`. */
  type: string;
  /** One line a person reads. */
  message: string;
  /** The event's details, as the socket message and the list carry them. */
  data?: Record<string, unknown>;
  /** Every live account at this level or above in `module` (platform administrators too). Default 1. */
  minLevel?: number;
  /** Exactly these accounts instead (those that are live). */
  accountIds?: readonly number[];
}

export interface NotificationRow {
  id: number;
  type: string;
  message: string;
  data: Record<string, unknown>;
  read: boolean;
  read_at: Date | null;
  created_at: Date;
}

/** What an open socket receives: the seed's message format plus the row's id and `created_at`. */
export interface SocketMessage {
  id: number;
  type: string;
  message: string;
  data: Record<string, unknown>;
  timestamp: string;
  created_at: string;
}

export type NotificationListener = (message: SocketMessage) => void;

export interface NotificationPage {
  items: NotificationRow[];
  /** Rows in the list (all, or unread only when asked). */
  total: number;
  /** The account's unread rows in the module. */
  unread: number;
}

interface Owner {
  module: string;
  accountId: number;
}

const TOPIC = 'notifications';
const RECIPIENTS_PER_MESSAGE = 200;

const toRow = (r: {
  id: number;
  type: string;
  message: string;
  data: Record<string, unknown>;
  read_at: Date | null;
  created_at: Date;
}): NotificationRow => ({
  id: r.id,
  type: r.type,
  message: r.message,
  data: r.data,
  read: r.read_at !== null,
  read_at: r.read_at,
  created_at: r.created_at,
});

export function createNotifications(deps: { db: Kysely<Tables>; bus: Bus; now: () => Date; logger: Logger }) {
  // The sockets open on this instance: module → account → listeners.
  const listeners = new Map<string, Map<number, Set<NotificationListener>>>();

  deps.bus.subscribe(TOPIC, (p) => {
    const byAccount = listeners.get(String(p.module));
    if (!byAccount || !Array.isArray(p.recipients)) return;
    for (const pair of p.recipients as unknown[]) {
      if (!Array.isArray(pair)) continue;
      const [accountId, id] = pair as [number, number];
      const set = byAccount.get(accountId);
      if (!set) continue;
      const message: SocketMessage = {
        id,
        type: String(p.type),
        message: String(p.message),
        data: (p.data ?? {}) as Record<string, unknown>,
        timestamp: String(p.timestamp),
        created_at: String(p.timestamp),
      };
      for (const listener of set) {
        try {
          listener(message);
        } catch (err) {
          deps.logger.warn({ err: { message: (err as Error).message } }, 'notification listener failed');
        }
      }
    }
  });

  const where = (db: Executor, o: Owner) =>
    db.selectFrom('notifications').where('account_id', '=', o.accountId).where('module', '=', o.module);

  return {
    /**
     * Stores the notification for each recipient through `db` and pushes it to their open sockets once `db`
     * commits (at once when `db` is no transaction). Inside a transaction, `db` must be one run by
     * `withTransaction` (its commit is what releases the push). Answers how many accounts it reached.
     */
    async notify(db: Executor, n: NewNotification): Promise<number> {
      const now = deps.now();
      const live = sql`a.status = 'active' AND a.deleted_at IS NULL`;
      const who = n.accountIds
        ? sql`SELECT a.id AS account_id FROM accounts a
              WHERE a.id = ANY(${[...n.accountIds]}::bigint[]) AND ${live}`
        : sql`SELECT DISTINCT m.account_id FROM memberships m JOIN accounts a ON a.id = m.account_id
              WHERE ${live} AND ((m.module = ${n.module} AND m.level >= ${n.minLevel ?? 1})
                OR (m.module = ${PLATFORM} AND m.level = 100))`;
      const { rows } = await sql<{ id: number; account_id: number }>`
        INSERT INTO notifications (account_id, module, type, message, data, created_at)
        SELECT r.account_id, ${n.module}, ${n.type}, ${n.message}, ${JSON.stringify(n.data ?? {})}::jsonb, ${now}
        FROM (${who}) r
        RETURNING id, account_id`.execute(db);
      if (rows.length === 0) return 0;
      const message = { module: n.module, type: n.type, message: n.message, data: n.data ?? {} };
      const recipients = rows.map((r) => [Number(r.account_id), Number(r.id)]);
      // In slices, so that one bus message stays far below PostgreSQL's 8000-byte NOTIFY limit.
      const push = () => {
        for (let i = 0; i < recipients.length; i += RECIPIENTS_PER_MESSAGE) {
          const slice = recipients.slice(i, i + RECIPIENTS_PER_MESSAGE);
          void deps.bus.publish(TOPIC, { ...message, timestamp: localTime(now), recipients: slice });
        }
      };
      if (db.isTransaction) afterCommit(db as Trx, push);
      else push();
      return rows.length;
    },

    /** One account's notifications in a module, newest first, with the totals. */
    async list(
      db: Executor,
      o: Owner & { skip: number; limit: number; unreadOnly?: boolean },
    ): Promise<NotificationPage> {
      let q = where(db, o);
      if (o.unreadOnly) q = q.where('read_at', 'is', null);
      const [rows, counts] = await Promise.all([
        q
          .select(['id', 'type', 'message', 'data', 'read_at', 'created_at'])
          .orderBy('id', 'desc')
          .offset(o.skip)
          .limit(o.limit)
          .execute(),
        where(db, o)
          .select([
            sql<number>`count(*)`.as('total'),
            sql<number>`count(*) FILTER (WHERE read_at IS NULL)`.as('unread'),
          ])
          .executeTakeFirstOrThrow(),
      ]);
      return {
        items: rows.map(toRow),
        total: Number(o.unreadOnly ? counts.unread : counts.total),
        unread: Number(counts.unread),
      };
    },

    /** Marks one of the account's notifications read (kept as first read); undefined when it is not theirs. */
    async markRead(db: Executor, o: Owner & { id: number }): Promise<NotificationRow | undefined> {
      const row = await db
        .updateTable('notifications')
        .set((eb) => ({ read_at: eb.fn.coalesce('read_at', eb.val(deps.now())) }))
        .where('id', '=', o.id)
        .where('account_id', '=', o.accountId)
        .where('module', '=', o.module)
        .returning(['id', 'type', 'message', 'data', 'read_at', 'created_at'])
        .executeTakeFirst();
      return row && toRow(row);
    },

    /** Marks every unread notification of the account in the module read; answers how many. */
    async markAllRead(db: Executor, o: Owner): Promise<number> {
      const r = await db
        .updateTable('notifications')
        .set({ read_at: deps.now() })
        .where('account_id', '=', o.accountId)
        .where('module', '=', o.module)
        .where('read_at', 'is', null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows);
    },

    /** Calls `listener` with each notification for the account in the module on this instance; answers the undo. */
    listen(o: Owner, listener: NotificationListener): () => void {
      let byAccount = listeners.get(o.module);
      if (!byAccount) {
        byAccount = new Map();
        listeners.set(o.module, byAccount);
      }
      let set = byAccount.get(o.accountId);
      if (!set) {
        set = new Set();
        byAccount.set(o.accountId, set);
      }
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) byAccount.delete(o.accountId);
      };
    },
  };
}

export type Notifications = ReturnType<typeof createNotifications>;
