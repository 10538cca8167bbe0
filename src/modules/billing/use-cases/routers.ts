// Routers (mikrotik_servers): how a stored router becomes a RouterOS target (the sealed password opened only here,
// never logged or returned), the connection test (identity, version, latency or a clear error) and the health check
// every minute, which notifies `router_offline` once per outage and, when a router answers again, re-queues the
// customers whose changes it missed.

import type { Core } from '../../../core/context.ts';
import { open, seal } from '../../../core/crypto.ts';
import type { Executor } from '../../../core/db/tables.ts';
import { withTransaction } from '../../../core/db/transaction.ts';
import { AppError } from '../../../core/http/errors.ts';
import { notifyBilling } from '../notifications.ts';
import { closeRouterConnections, RouterError, type RouterTarget, routerClient } from '../providers/routeros/index.ts';
import * as repo from '../repo/routers.ts';

export const ROUTER_HEALTH_JOB = 'billing.routers.health';

/** Per-command timeout towards routers: long enough for a loaded router, short enough for a person waiting. */
export const ROUTER_TIMEOUT_MS = 5_000;

export function targetOf(sealKey: Buffer, r: repo.RouterWithSecret, timeoutMs = ROUTER_TIMEOUT_MS): RouterTarget {
  return {
    key: String(r.id),
    host: r.host_ip,
    port: r.port,
    transport: r.transport,
    tls: r.use_tls,
    username: r.username,
    password: open(sealKey, r.password_enc),
    timeoutMs,
  };
}

export interface RouterInput {
  name?: string;
  host_ip?: string;
  port?: number;
  username?: string;
  password?: string;
  transport?: 'api' | 'rest';
  use_tls?: boolean;
  is_active?: boolean;
}

const invalid = (field: string, message: string) =>
  new AppError('VALIDATION_ERROR', 'Validation failed', { details: { [field]: [message] } });

function fieldsOf(v: RouterInput, sealKey: Buffer): Partial<repo.RouterFields> {
  const out: Partial<repo.RouterFields> = {};
  if (v.name !== undefined) {
    out.name = v.name.trim();
    if (!out.name) throw invalid('name', 'must not be blank');
  }
  if (v.host_ip !== undefined) {
    out.host_ip = v.host_ip.trim();
    if (!out.host_ip) throw invalid('host_ip', 'must not be blank');
  }
  if (v.port !== undefined) out.port = v.port;
  if (v.username !== undefined) {
    out.username = v.username.trim();
    if (!out.username) throw invalid('username', 'must not be blank');
  }
  // The original frontend leaves the password out (or blank) on edit: it stays as it was.
  if (v.password !== undefined && v.password !== '') out.password_enc = seal(sealKey, v.password);
  if (v.transport !== undefined) out.transport = v.transport;
  if (v.use_tls !== undefined) out.use_tls = v.use_tls;
  if (v.is_active !== undefined) out.is_active = v.is_active;
  return out;
}

export async function createRouter(trx: Executor, v: RouterInput & { password: string }, sealKey: Buffer, now: Date) {
  if (v.password === '') throw invalid('password', 'must not be blank');
  const f = fieldsOf(v, sealKey);
  return repo.insertRouter(
    trx,
    {
      name: f.name ?? '',
      host_ip: f.host_ip ?? '',
      port: f.port ?? (v.transport === 'rest' ? (v.use_tls === false ? 80 : 443) : v.use_tls ? 8729 : 8728),
      username: f.username ?? '',
      password_enc: f.password_enc ?? '',
      transport: f.transport ?? 'api',
      use_tls: f.use_tls ?? false,
      is_active: f.is_active ?? true,
    },
    now,
  );
}

/** Changes a router; its pooled connections are closed after the commit (they hold the old address or login). */
export async function updateRouter(trx: Executor, id: number, v: RouterInput, sealKey: Buffer, now: Date) {
  const row = await repo.updateRouter(trx, id, fieldsOf(v, sealKey), now);
  closeRouterConnections(String(id));
  return row;
}

export async function deleteRouter(trx: Executor, id: number) {
  await repo.deleteRouter(trx, id);
  closeRouterConnections(String(id));
}

export type TestResult =
  | { ok: true; identity: string; version: string; latency_ms: number; board_name: string | null; uptime: string }
  | { ok: false; error: string; kind: string; latency_ms: number };

/** Asks the router its identity and version, timing the round trip. Never throws for a router's failure. */
export async function testRouter(target: RouterTarget): Promise<TestResult> {
  const started = performance.now();
  const client = routerClient(target);
  try {
    const [identity, resource] = await Promise.all([client.identity(), client.resource()]);
    return {
      ok: true,
      identity,
      version: resource.version,
      latency_ms: Math.round(performance.now() - started),
      board_name: resource.boardName,
      uptime: resource.uptime,
    };
  } catch (e) {
    const latency_ms = Math.round(performance.now() - started);
    if (e instanceof RouterError) return { ok: false, kind: e.kind, error: describe(e), latency_ms };
    throw e;
  } finally {
    await client.close();
  }
}

function describe(e: RouterError): string {
  switch (e.kind) {
    case 'unreachable':
      return `Router unreachable: ${e.message}`;
    case 'timeout':
      return `Router did not answer in time: ${e.message}`;
    case 'auth':
      return 'Login refused: check the username and password';
    default:
      return `Router error: ${e.message}`;
  }
}

export function createRouterHealth(core: Core, sealKey: Buffer, onBackOnline: (routerId: number) => Promise<void>) {
  const { db } = core.database;

  /** Tests one router and records the outcome; a router that just went offline notifies once per outage. */
  async function checkOne(r: repo.RouterWithSecret): Promise<{ row: repo.RouterRow | undefined; result: TestResult }> {
    const result = await testRouter(targetOf(sealKey, r));
    const at = core.now();
    const wasOnline = r.last_connection_status !== 'failure';
    const row = await withTransaction(db, async (trx) => {
      const after = await repo.recordCheck(
        trx,
        r.id,
        result.ok
          ? { ok: true, version: result.version, identity: result.identity, latencyMs: result.latency_ms, at }
          : { ok: false, error: result.error, at },
      );
      if (!result.ok && (await repo.claimOfflineNotice(trx, r.id))) {
        await notifyBilling(core, trx, {
          type: 'router_offline',
          message: `Router ${r.name} (${r.host_ip}) tidak dapat dihubungi`,
          data: { mikrotik_server_id: r.id, name: r.name, host_ip: r.host_ip, error: result.error },
          minLevel: 10,
        });
      }
      return after;
    });
    if (result.ok && !wasOnline) await onBackOnline(r.id);
    return { row, result };
  }

  return {
    checkOne,
    /** The minute's job: every active router, at once (a slow router does not delay the others' checks). */
    async checkAll() {
      const routers = await repo.activeRouters(db);
      return Promise.all(routers.map(checkOne));
    },
  };
}
export type RouterHealth = ReturnType<typeof createRouterHealth>;
