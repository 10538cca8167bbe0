// Routers (mikrotik_servers): CRUD for billing admins (level 50; the password write-only and sealed at rest), the
// connection test in the document's spelling (`/test`) and the original frontend's (`/test_connection`), the health
// of every router (`/health`, also `/connection-health`), syncing one customer's secret, listing the router's
// secrets, and reconcile (GET reports drift, POST repairs it). Lists are bare arrays with `X-Total-Count`.
import { Type } from 'typebox';
import type { Core } from '../../../core/context.ts';
import { AppError } from '../../../core/http/errors.ts';
import { resource } from '../../../core/http/resource.ts';
import type { Router } from '../../../core/http/route.ts';
import { BILLING_LIMITS } from '../limits.ts';
import * as repo from '../repo/routers.ts';
import { IdParams } from '../schemas.ts';
import {
  HealthAnswer,
  ReconcileAnswer,
  RouterCreate,
  RouterQuery,
  RouterSchema,
  RouterUpdate,
  SecretItem,
  SyncAnswer,
  SyncParams,
  TestAnswer,
  TestConnectionAnswer,
} from '../schemas-routers.ts';
import type { Provisioning } from '../use-cases/provisioning.ts';
import { createRouter, deleteRouter, type RouterHealth, updateRouter } from '../use-cases/routers.ts';
import { bareArray, clampLimit } from './lists.ts';

const same = <T>(row: T) => row;

const TestFailure = Type.Object({
  detail: Type.String(),
  status: Type.String(),
  error_code: Type.String(),
  ...TestConnectionAnswer.properties,
});

export function registerRouterRoutes(
  router: Router,
  core: Core,
  deps: { sealKey: Buffer; health: RouterHealth; provisioning: Provisioning },
): void {
  const { now } = core;
  const { db } = core.database;
  const limits = [BILLING_LIMITS.general];
  const admin = { level: 50 } as const;
  const operate = { level: 10 } as const;
  const read = { level: 1 } as const;

  const mustGetSecretRow = async (id: number) => {
    const row = await repo.targetRow(db, id);
    if (!row) throw new AppError('NOT_FOUND', 'Router not found');
    return row;
  };

  const healthOf = (r: repo.RouterRow) => ({
    id: r.id,
    name: r.name,
    host_ip: r.host_ip,
    is_active: r.is_active,
    status:
      r.last_connection_status === 'success'
        ? 'online'
        : r.last_connection_status === 'failure'
          ? 'offline'
          : 'unknown',
    latency_ms: r.last_latency_ms,
    last_check: r.last_checked_at,
    last_connected_at: r.last_connected_at,
    error: r.last_error,
    ros_version: r.ros_version,
  });

  for (const path of ['/api/mikrotik_servers/health', '/api/mikrotik_servers/connection-health']) {
    router.get(
      path,
      {
        auth: read,
        limits,
        schema: {
          summary: 'Each router online or offline, with its latency, last check and error (checked every minute)',
          querystring: Type.Object({
            refresh: Type.Optional(Type.Boolean({ description: 'check every router now instead of the last check' })),
          }),
          response: { 200: HealthAnswer },
        },
      },
      async (req) => {
        if (req.query.refresh) await deps.health.checkAll();
        const { rows } = await repo.listRouters(db, { skip: 0, limit: 10_000 });
        const servers = rows.map(healthOf);
        return {
          total: servers.length,
          online: servers.filter((s) => s.status === 'online').length,
          offline: servers.filter((s) => s.status === 'offline').length,
          servers,
        };
      },
    );
  }

  resource(router, {
    db,
    now,
    collection: '/api/mikrotik_servers/',
    item: '/api/mikrotik_servers/:id',
    params: IdParams,
    idOf: (p) => p.id,
    access: { read: admin, write: admin },
    limits,
    audit: 'billing.router',
    notFound: 'Router not found',
    find: repo.getRouter,
    rowId: (r) => r.id,
    list: {
      summary: 'List routers (a bare array; the total is in X-Total-Count); the password is never shown',
      query: RouterQuery,
      response: Type.Array(RouterSchema),
      run: async (db, q, _req, reply) =>
        bareArray(
          reply,
          await repo.listRouters(db, {
            search: q.search?.trim() || undefined,
            isActive: q.is_active,
            status: q.last_connection_status,
            skip: q.skip,
            limit: clampLimit(q.limit),
          }),
        ),
    },
    get: { summary: 'One router (without its password)', response: RouterSchema, reply: same },
    create: {
      summary: 'Add a router (the password is stored encrypted and never returned)',
      body: RouterCreate,
      response: RouterSchema,
      run: (trx, v) => createRouter(trx, v, deps.sealKey, now()),
      reply: same,
    },
    update: {
      summary: 'Change a router (a blank or missing password keeps the old one); its open connections are closed',
      method: 'PATCH',
      body: RouterUpdate,
      response: RouterSchema,
      run: (trx, id, v) => updateRouter(trx, id, v, deps.sealKey, now()),
      reply: same,
    },
    remove: {
      summary: "Delete a router (its customers' technical data keep no router); its connections are closed",
      status: 204,
      response: Type.Null(),
      run: async (trx, id, before) => {
        await deleteRouter(trx, id);
        return { row: before, outcome: 'deleted' };
      },
      reply: () => null,
    },
  });

  router.post(
    '/api/mikrotik_servers/:id/test',
    {
      auth: admin,
      limits,
      errors: [404],
      schema: {
        summary: "Test the connection: the router's identity, RouterOS version and latency, or a clear error",
        params: IdParams,
        response: { 200: TestAnswer },
      },
    },
    async (req) => {
      const { result } = await deps.health.checkOne(await mustGetSecretRow(req.params.id));
      return result;
    },
  );

  router.post(
    '/api/mikrotik_servers/:id/test_connection',
    {
      auth: admin,
      limits,
      errors: [404],
      schema: {
        summary: "The original frontend's test: {test_result, updated_server}, and a 400 with the same body on failure",
        params: IdParams,
        response: { 200: TestConnectionAnswer, 400: TestFailure },
      },
    },
    async (req, reply) => {
      const { row, result } = await deps.health.checkOne(await mustGetSecretRow(req.params.id));
      const updated_server = row ?? (await repo.getRouter(db, req.params.id));
      if (!updated_server) throw new AppError('NOT_FOUND', 'Router not found');
      const message = result.ok ? `Connected to ${result.identity} (RouterOS ${result.version})` : result.error;
      const test_result = {
        status: result.ok ? 'success' : 'failure',
        message,
        data: {
          ros_version: result.ok ? result.version : null,
          identity: result.ok ? result.identity : null,
          latency_ms: result.latency_ms,
        },
      };
      if (result.ok) return { test_result, updated_server };
      return reply
        .code(400)
        .send({ detail: message, status: 'error', error_code: 'ROUTER_UNREACHABLE', test_result, updated_server });
    },
  );

  router.post(
    '/api/mikrotik_servers/:id/sync/:pelanggan_id',
    {
      auth: operate,
      limits,
      errors: [404, 409, 502],
      schema: {
        summary: "Create or update the customer's PPPoE secret on this router now (name, password, profile, address)",
        params: SyncParams,
        response: { 200: SyncAnswer },
      },
    },
    async (req) => {
      await mustGetSecretRow(req.params.id);
      const r = await routerCall(() => deps.provisioning.syncNow(req.params.id, req.params.pelanggan_id));
      return { status: 'success', ...r };
    },
  );

  router.get(
    '/api/mikrotik_servers/:id/secrets',
    {
      auth: admin,
      limits,
      errors: [404, 502],
      schema: {
        summary: "The router's PPPoE secrets (never their passwords)",
        params: IdParams,
        response: { 200: Type.Array(SecretItem) },
      },
    },
    async (req) => {
      await mustGetSecretRow(req.params.id);
      const client = await deps.provisioning.clientFor(req.params.id);
      const secrets = await routerCall(() => client.secrets());
      return secrets.map((s) => ({
        id: s.id,
        name: s.name,
        profile: s.profile,
        service: s.service,
        remote_address: s.remoteAddress,
        disabled: s.disabled,
      }));
    },
  );

  for (const method of ['get', 'post'] as const) {
    router[method](
      '/api/mikrotik_servers/:id/reconcile',
      {
        auth: admin,
        limits,
        errors: [404, 502],
        schema: {
          summary:
            method === 'get'
              ? 'Drift between the router and the database: secrets missing, wrong profile, wrong address, unknown'
              : 'Repair the drift (missing secrets added, profiles and addresses set); answers what it fixed',
          params: IdParams,
          response: { 200: ReconcileAnswer },
        },
      },
      async (req) => {
        await mustGetSecretRow(req.params.id);
        return routerCall(() => deps.provisioning.reconcile(req.params.id, method === 'post'));
      },
    );
  }

  /** A router that fails answers 502 with what went wrong (never its password). */
  async function routerCall<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof Error && e.name === 'RouterError') {
        throw new AppError('EXTERNAL_SERVICE_ERROR', `Router error: ${e.message}`);
      }
      throw e;
    }
  }
}
