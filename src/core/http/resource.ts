// One resource shape: list, get, create, update and delete-or-deactivate, written once. A module gives its paths,
// schemas, access, the repository calls and how its envelope wraps a row; the helper registers the routes through
// the typed router, runs every change in one transaction with its activity entry (values before and after), and
// answers 404 in the module's envelope and words when the row does not exist. Unique and foreign-key violations
// become 409/400 through the one database error map.
import type { FastifyReply } from 'fastify';
import type { Kysely } from 'kysely';
import type { Static, TSchema } from 'typebox';
import { type Actor, originOf, recordAction } from '../audit/audit.ts';
import type { Executor, Tables } from '../db/tables.ts';
import { withTransaction } from '../db/transaction.ts';
import type { RouteLimit } from '../limits/limiter.ts';
import type { Envelope } from './envelopes.ts';
import { AppError } from './errors.ts';
import type { Access, Router } from './route.ts';

type Id = number | string;

/** What a reply may read of its request: its id (for an envelope that carries it). */
export interface ResourceRequest {
  id: string;
}

export interface ResourceSpec<
  Row,
  I extends Id,
  P extends TSchema,
  Q extends TSchema,
  C extends TSchema,
  U extends TSchema,
> {
  db: Kysely<Tables>;
  now: () => Date;
  /** The collection's path (`/jabatan/`) and one item's (`/jabatan/:jabatan_id`). */
  collection: string;
  item: string;
  params: P;
  idOf(params: Static<P>): I;
  /** Who lists and gets, who creates and updates, and who deletes (default: whoever writes). */
  access: { read: Access; write: Access; delete?: Access };
  /** Another envelope than the router's (an admin API in the platform's). */
  envelope?: Envelope;
  limits?: RouteLimit[];
  tags?: string[];
  /** Activity log object type (`shop.item`): entries are `<audit>.created`, `.updated`, `.deleted`, … */
  audit: string;
  /** The 404 message, in the module's language. */
  notFound: string;
  /** Whether a create or an update can collide with a unique index, documented as 409 (default true). */
  conflicts?: boolean;
  /** The 404 error code, when the module has its own (default NOT_FOUND). */
  notFoundCode?: string;
  find(db: Executor, id: I): Promise<Row | undefined>;
  rowId(row: Row): Id;
  /** Runs after each change has committed (for example to drop a cache on every instance). */
  changed?: () => Promise<unknown> | undefined;
  list: {
    summary: string;
    /** Without one, the collection takes no query parameters. */
    query?: Q;
    response: TSchema;
    /** The whole answer: the module shapes its page (a plain array, an envelope with totals, a total header). */
    run(db: Executor, query: Static<Q>, req: ResourceRequest, reply: FastifyReply): Promise<unknown>;
  };
  /** Without it, no route answers one item by itself. */
  get?: { summary: string; response: TSchema; reply(row: Row, req: ResourceRequest): unknown };
  create?: {
    summary: string;
    body: C;
    response: TSchema;
    /** 201 unless the seed documents 200. */
    status?: 200 | 201;
    errors?: number[];
    run(trx: Executor, input: Static<C>, actor: Actor): Promise<Row>;
    reply(row: Row, req: ResourceRequest): unknown;
  };
  update?: {
    summary: string;
    method?: 'PUT' | 'PATCH';
    body: U;
    response: TSchema;
    errors?: number[];
    /** The row after the change; `before` is the row as it was, read in the same transaction. */
    run(trx: Executor, id: I, input: Static<U>, before: Row, actor: Actor): Promise<Row>;
    reply(row: Row, req: ResourceRequest): unknown;
  };
  remove?: {
    summary: string;
    /** 200 with `reply(result)` as the body (default), or 204 with none. */
    status?: 200 | 204;
    response: TSchema;
    errors?: number[];
    /** Deletes the row, or deactivates it where history must stay; says which. */
    run(trx: Executor, id: I, before: Row, actor: Actor): Promise<{ row: Row; outcome: 'deleted' | 'deactivated' }>;
    reply(result: { row: Row; outcome: 'deleted' | 'deactivated' }, req: ResourceRequest): unknown;
  };
}

/**
 * The fields of a body that its schema declares. A field the schema does not name is ignored, as the seeds'
 * Pydantic models ignore it, and never reaches the repository, which spreads its input into the row: an extra
 * `id` or `created_at` would be written, an unknown name would fail as SQL (a 500). Schemas that refuse extra
 * fields (`additionalProperties: false`) have refused them before this.
 */
export function declaredOnly<T>(schema: TSchema, body: T): T {
  const props = (schema as { properties?: Record<string, unknown> }).properties;
  if (!props || body === null || typeof body !== 'object' || Array.isArray(body)) return body;
  return Object.fromEntries(Object.entries(body).filter(([k]) => Object.hasOwn(props, k))) as T;
}

export function resource<Row, I extends Id, P extends TSchema, Q extends TSchema, C extends TSchema, U extends TSchema>(
  router: Router,
  spec: ResourceSpec<Row, I, P, Q, C, U>,
): void {
  const { db, now } = spec;
  const { tags, envelope } = spec;
  const conflict = spec.conflicts === false ? [] : [409];
  const mustFind = async (executor: Executor, id: I) => {
    const row = await spec.find(executor, id);
    if (row === undefined) throw new AppError(spec.notFoundCode ?? 'NOT_FOUND', spec.notFound);
    return row;
  };
  const actorOf = (req: { auth?: { accountId: number } | undefined; id: string; ip: string }): Actor => ({
    accountId: req.auth?.accountId ?? 0,
    origin: originOf(req),
  });

  router.get(
    spec.collection,
    {
      auth: spec.access.read,
      envelope,
      limits: spec.limits,
      schema: {
        tags,
        summary: spec.list.summary,
        ...(spec.list.query ? { querystring: spec.list.query } : {}),
        response: { 200: spec.list.response },
      },
    },
    (req, reply) => spec.list.run(db, req.query as Static<Q>, req, reply),
  );

  const get = spec.get;
  if (get) {
    router.get(
      spec.item,
      {
        auth: spec.access.read,
        envelope,
        limits: spec.limits,
        errors: [404],
        schema: { tags, summary: get.summary, params: spec.params, response: { 200: get.response } },
      },
      async (req) => get.reply(await mustFind(db, spec.idOf(req.params as Static<P>)), req),
    );
  }

  const create = spec.create;
  if (create) {
    const status = create.status ?? 201;
    router.post(
      spec.collection,
      {
        auth: spec.access.write,
        envelope,
        limits: spec.limits,
        errors: [...conflict, ...(create.errors ?? [])],
        schema: { tags, summary: create.summary, body: create.body, response: { [status]: create.response } },
      },
      async (req, reply) => {
        const actor = actorOf(req);
        const row = await withTransaction(db, async (trx) => {
          const created = await create.run(trx, declaredOnly(create.body, req.body as Static<C>), actor);
          await recordAction(trx, actor, `${spec.audit}.created`, spec.rowId(created), now(), { after: created });
          return created;
        });
        await spec.changed?.();
        return reply.code(status).send(create.reply(row, req));
      },
    );
  }

  const update = spec.update;
  if (update) {
    router.route(
      update.method ?? 'PUT',
      spec.item,
      {
        auth: spec.access.write,
        envelope,
        limits: spec.limits,
        errors: [404, ...conflict, ...(update.errors ?? [])],
        schema: {
          tags,
          summary: update.summary,
          params: spec.params,
          body: update.body,
          response: { 200: update.response },
        },
      },
      async (req) => {
        const actor = actorOf(req);
        const id = spec.idOf(req.params as Static<P>);
        const row = await withTransaction(db, async (trx) => {
          const before = await mustFind(trx, id);
          const after = await update.run(trx, id, declaredOnly(update.body, req.body as Static<U>), before, actor);
          await recordAction(trx, actor, `${spec.audit}.updated`, id, now(), { before, after });
          return after;
        });
        await spec.changed?.();
        return update.reply(row, req);
      },
    );
  }

  const remove = spec.remove;
  if (remove) {
    const status = remove.status ?? 200;
    router.delete(
      spec.item,
      {
        auth: spec.access.delete ?? spec.access.write,
        envelope,
        limits: spec.limits,
        errors: [404, ...(remove.errors ?? [])],
        schema: { tags, summary: remove.summary, params: spec.params, response: { [status]: remove.response } },
      },
      async (req, reply) => {
        const actor = actorOf(req);
        const id = spec.idOf(req.params as Static<P>);
        const result = await withTransaction(db, async (trx) => {
          const before = await mustFind(trx, id);
          const r = await remove.run(trx, id, before, actor);
          const after = r.outcome === 'deleted' ? undefined : r.row;
          await recordAction(trx, actor, `${spec.audit}.${r.outcome}`, id, now(), { before, after });
          return r;
        });
        await spec.changed?.();
        return reply.code(status).send(status === 204 ? undefined : remove.reply(result, req));
      },
    );
  }
}
