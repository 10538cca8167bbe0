// Provisioning: every change a router must see is recorded as a new version of the customer's desired state
// (`record`, in the caller's transaction, with a durable job keyed by customer), and `apply` writes the latest
// desired state to the router: set, never toggle (repeating it is harmless), never an older version after a newer
// one (one worker at a time per customer holds a lease; the version applied only grows). A router that is down
// fails the job, which pg-boss retries with backoff; restores have a queue of their own so they never wait behind
// a batch of isolations. Reconcile compares a router's secrets with the database and repairs the drift, its
// commands pipelined on the client's tagged connections rather than one round trip after another.
import type { Core } from '../../../core/context.ts';
import { open } from '../../../core/crypto.ts';
import type { Executor } from '../../../core/db/tables.ts';
import { AppError } from '../../../core/http/errors.ts';
import type { PppActive, PppSecret, RouterClient } from '../providers/routeros/index.ts';
import { bulkLane, RouterError, routerClient } from '../providers/routeros/index.ts';
import * as repo from '../repo/provisioning.ts';
import * as routers from '../repo/routers.ts';
import { targetOf } from './routers.ts';

export const PROVISION_JOB = 'billing.provision';
/** Restores (payment received, operator's buka-isolir): a queue of their own, never behind isolations. */
export const RESTORE_JOB = 'billing.provision.restore';
/** The isolation sweep's changes: one job per batch of customers, applied router by router, pipelined. */
export const PROVISION_BATCH_JOB = 'billing.provision.batch';
/** Customers in one batch job. */
export const BATCH_SIZE = 500;

/** How long one worker may hold a customer's lease (longer than a few router round trips). */
const LEASE_MS = 30_000;
/** Router commands of a reconcile in flight at once (they share the router's pooled, tagged connections). */
const PIPELINE = 64;

type Jobs = Pick<Core['jobs'], 'enqueueMany'>;

/** Records a change for these customers and enqueues the job that applies it (in the caller's transaction). */
export async function recordChange(
  trx: Executor,
  jobs: Jobs,
  ids: readonly number[],
  reason: repo.ProvisionReason,
  now: Date,
): Promise<void> {
  if (ids.length === 0) return;
  await repo.bumpVersions(trx, ids, reason, now);
  await jobs.enqueueMany(
    trx,
    reason === 'restore' ? RESTORE_JOB : PROVISION_JOB,
    ids.map((pelangganId) => ({ pelangganId })),
  );
}

/**
 * Records a change for many customers (the isolation sweep) and enqueues batch jobs of BATCH_SIZE customers: a batch
 * is applied with one print of each router's secrets and sessions and its commands pipelined, where one job per
 * customer would cost several round trips and a queue poll each.
 */
export async function recordBatchChange(
  trx: Executor,
  jobs: Jobs,
  ids: readonly number[],
  reason: repo.ProvisionReason,
  now: Date,
): Promise<void> {
  if (ids.length === 0) return;
  await repo.bumpVersions(trx, ids, reason, now);
  const batches: { pelangganIds: number[] }[] = [];
  for (let i = 0; i < ids.length; i += BATCH_SIZE) batches.push({ pelangganIds: ids.slice(i, i + BATCH_SIZE) });
  await jobs.enqueueMany(trx, PROVISION_BATCH_JOB, batches);
}

export type ApplyOutcome = 'applied' | 'up-to-date' | 'busy';

async function runPipelined<T>(items: readonly T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += PIPELINE) await Promise.all(items.slice(i, i + PIPELINE).map(fn));
}

export function createProvisioning(core: Core, sealKey: Buffer) {
  const { db } = core.database;

  /** A router's client; `bulk`: on the router's connections for batches (see `bulkLane`). */
  async function clientFor(routerId: number, lane: 'single' | 'bulk' = 'single'): Promise<RouterClient> {
    const row = await routers.targetRow(db, routerId);
    if (!row) throw new AppError('NOT_FOUND', 'Router not found');
    const target = targetOf(sealKey, row);
    return routerClient(lane === 'bulk' ? bulkLane(target) : target);
  }

  const passwordOf = (d: repo.Desired) => (d.password_enc ? open(sealKey, d.password_enc) : '');

  async function endSessions(client: RouterClient, name: string, known?: PppActive[]): Promise<number> {
    const sessions = known ?? (await client.active({ name }));
    await Promise.all(sessions.map((s) => client.removeActive(s.id)));
    return sessions.length;
  }

  /** Writes one customer's secret as desired; ends the session when the profile changed (or on isolate/restore). */
  async function writeSecret(
    client: RouterClient,
    d: repo.Desired,
    existing?: PppSecret | null,
    sessions?: PppActive[],
  ) {
    const found = existing === undefined ? (await client.secrets({ name: d.name }))[0] : existing;
    const fields = {
      name: d.name,
      password: passwordOf(d),
      profile: d.profile,
      service: 'pppoe',
      remoteAddress: d.remote_address,
    };
    if (!found) {
      try {
        await client.addSecret(fields);
        return 'created' as const;
      } catch (e) {
        // Another writer (a sync next to the job) added it a moment ago: set it instead.
        if (!(e instanceof RouterError && e.kind === 'trap')) throw e;
        const again = (await client.secrets({ name: d.name }))[0];
        if (!again) throw e;
        await client.setSecret(again.id, fields);
        return 'updated' as const;
      }
    }
    await client.setSecret(found.id, fields);
    if (found.profile !== d.profile || d.reason === 'isolate' || d.reason === 'restore') {
      await endSessions(client, d.name, sessions);
    }
    return 'updated' as const;
  }

  async function removeSecret(routerId: number, name: string) {
    const client = await clientFor(routerId).catch((e: unknown) => {
      if (e instanceof AppError) return null; // the router itself was deleted: nothing left to clean
      throw e;
    });
    if (!client) return;
    for (const s of await client.secrets({ name })) await client.removeSecret(s.id);
    await endSessions(client, name);
  }

  /** Applies the latest desired state of one customer; throws (for the job to retry) when the router fails. */
  async function apply(pelangganId: number): Promise<ApplyOutcome> {
    if (!(await repo.claimLease(db, pelangganId, core.now(), LEASE_MS))) {
      return (await repo.provisioningOf(db, pelangganId)) ? 'busy' : 'up-to-date';
    }
    try {
      const state = await repo.provisioningOf(db, pelangganId);
      const version = Number(state?.version ?? 0);
      if (Number(state?.applied_version ?? 0) >= version) {
        await repo.markApplied(
          db,
          pelangganId,
          version,
          { routerId: state?.router_id ?? null, secretName: state?.secret_name ?? null },
          core.now(),
        );
        return 'up-to-date';
      }
      const d = await repo.desiredOne(db, pelangganId);
      const present = d?.present === true && d.router_id !== null;
      const prevRouter = state?.router_id ?? null;
      const prevName = state?.secret_name ?? null;
      // Moved to another router, renamed, stopped or deleted: the old secret goes.
      if (
        prevRouter !== null &&
        prevName !== null &&
        (!present || prevRouter !== d?.router_id || prevName !== d?.name)
      ) {
        await removeSecret(prevRouter, prevName);
      }
      if (present && d && d.router_id !== null) await writeSecret(await clientFor(d.router_id), d);
      await repo.markApplied(
        db,
        pelangganId,
        version,
        present && d ? { routerId: d.router_id, secretName: d.name } : { routerId: null, secretName: null },
        core.now(),
      );
      return 'applied';
    } catch (e) {
      await repo.markFailed(db, pelangganId, e instanceof Error ? e.message : String(e));
      throw e;
    }
  }

  /** A job's handler: a customer busy with another worker is tried again later (that worker may hold an older version). */
  async function applyJob(pelangganId: number) {
    if ((await apply(pelangganId)) === 'busy') throw new Error(`customer ${pelangganId} is being provisioned`);
  }

  /**
   * Applies the latest desired state of many customers (a batch job): each router's secrets and sessions read with
   * one print each, then the writes pipelined on its tagged connections; each router's customers are recorded
   * applied (their leases released) as soon as that router is done. Customers another worker holds, that moved
   * router or name, or that leave their router go through `apply` one by one. Answers how many were written and
   * the ones still to do (busy or failed), for the job to retry.
   */
  async function applyMany(ids: readonly number[]): Promise<{ applied: number; left: number[] }> {
    const claimed = await repo.claimLeases(db, ids, core.now(), LEASE_MS);
    const left = ids.filter((id) => !claimed.includes(id));
    const rows = await repo.desiredMany(db, claimed);
    const current = rows.filter((d) => d.applied_version >= d.version);
    const inPlace = rows.filter(
      (d) =>
        d.applied_version < d.version &&
        d.present &&
        d.router_id !== null &&
        (d.applied_router_id === null || (d.applied_router_id === d.router_id && d.applied_secret_name === d.name)),
    );
    const handled = new Set([...current, ...inPlace].map((d) => d.pelanggan_id));
    const oneByOne = claimed.filter((id) => !handled.has(id));
    const placeOf = (d: repo.Desired) => ({ pelangganId: d.pelanggan_id, version: d.version });
    await repo.markAppliedMany(
      db,
      current.map((d) => ({ ...placeOf(d), routerId: d.applied_router_id, secretName: d.applied_secret_name })),
      core.now(),
    );
    const byRouter = new Map<number, repo.Desired[]>();
    for (const d of inPlace) {
      const group = byRouter.get(d.router_id as number);
      if (group) group.push(d);
      else byRouter.set(d.router_id as number, [d]);
    }
    let applied = 0;
    await Promise.all(
      [...byRouter].map(async ([routerId, group]) => {
        try {
          // Its own connections: a restore written meanwhile does not queue behind these writes.
          const client = await clientFor(routerId, 'bulk');
          const [secrets, sessions] = await Promise.all([client.secrets(), client.active()]);
          const secretOf = new Map(secrets.map((s) => [s.name, s]));
          const sessionsOf = new Map<string, PppActive[]>();
          for (const s of sessions) {
            const list = sessionsOf.get(s.name);
            if (list) list.push(s);
            else sessionsOf.set(s.name, [s]);
          }
          const done: repo.Desired[] = [];
          const failed: { d: repo.Desired; error: string }[] = [];
          await runPipelined(group, async (d) => {
            try {
              await writeSecret(client, d, secretOf.get(d.name) ?? null, sessionsOf.get(d.name) ?? []);
              done.push(d);
            } catch (e) {
              failed.push({ d, error: e instanceof Error ? e.message : String(e) });
            }
          });
          await repo.markAppliedMany(
            db,
            done.map((d) => ({ ...placeOf(d), routerId, secretName: d.name })),
            core.now(),
          );
          for (const f of failed) await repo.markFailed(db, f.d.pelanggan_id, f.error);
          applied += done.length;
          left.push(...failed.map((f) => f.d.pelanggan_id));
        } catch (e) {
          // The router did not answer its prints (down, or deleted): the whole group waits for the retry.
          const ids = group.map((d) => d.pelanggan_id);
          await repo.markFailedMany(db, ids, e instanceof Error ? e.message : String(e));
          left.push(...ids);
        }
      }),
    );
    await repo.releaseLeases(db, oneByOne);
    for (const id of oneByOne) {
      try {
        const outcome = await apply(id);
        if (outcome === 'applied') applied++;
        if (outcome === 'busy') left.push(id);
      } catch {
        left.push(id);
      }
    }
    return { applied, left };
  }

  /** A batch job's handler: what is left (busy, router down) fails the job, whose retry tries those again. */
  async function applyBatchJob(pelangganIds: readonly number[]) {
    const { left } = await applyMany(pelangganIds);
    if (left.length > 0) throw new Error(`${left.length} of ${pelangganIds.length} customers not applied yet`);
  }

  /** Enqueues every customer whose latest version is not applied yet (a router came back, a sweep). */
  async function catchUp(): Promise<number> {
    const ids = await repo.pendingIds(db, 50_000);
    await core.jobs.enqueueMany(
      db,
      PROVISION_JOB,
      ids.map((pelangganId) => ({ pelangganId })),
    );
    return ids.length;
  }

  /** Writes one customer's secret now (the sync route), answering what the router holds afterwards. */
  async function syncNow(routerId: number, pelangganId: number) {
    const d = await repo.desiredOne(db, pelangganId);
    if (!d || d.status === 'Berhenti') throw new AppError('NOT_FOUND', 'Customer or technical data not found');
    if (d.router_id !== routerId) {
      throw new AppError('CONFLICT', `Customer ${pelangganId} is on router ${d.router_id ?? 'none'}, not ${routerId}`);
    }
    const client = await clientFor(routerId);
    const action = await writeSecret(client, d);
    await repo.bumpVersions(db, [pelangganId], 'sync', core.now());
    const after = await repo.provisioningOf(db, pelangganId);
    await repo.markApplied(db, pelangganId, Number(after?.version ?? 0), { routerId, secretName: d.name }, core.now());
    return { action, name: d.name, profile: d.profile, remote_address: d.remote_address };
  }

  /** Drift between a router and the database; with `repair`, fixes it and says what was fixed. */
  async function reconcile(routerId: number, repair: boolean) {
    const client = await clientFor(routerId);
    const [secrets, desired] = await Promise.all([client.secrets(), repo.desiredOnRouter(db, routerId)]);
    const byName = new Map(secrets.map((s) => [s.name, s]));
    const wanted = new Set(desired.map((d) => d.name));
    const missing: repo.Desired[] = [];
    const wrongProfile: { d: repo.Desired; s: PppSecret }[] = [];
    const wrongAddress: { d: repo.Desired; s: PppSecret }[] = [];
    for (const d of desired) {
      const s = byName.get(d.name);
      if (!s) missing.push(d);
      else {
        if (s.profile !== d.profile) wrongProfile.push({ d, s });
        if ((s.remoteAddress ?? null) !== (d.remote_address ?? null)) wrongAddress.push({ d, s });
      }
    }
    const unknown = secrets.filter((s) => !wanted.has(s.name));
    if (repair) {
      await runPipelined(missing, (d) => writeSecret(client, d, null));
      const toSet = new Map<string, { d: repo.Desired; s: PppSecret }>();
      for (const x of [...wrongProfile, ...wrongAddress]) toSet.set(x.d.name, x);
      await runPipelined([...toSet.values()], async ({ d, s }) => {
        await client.setSecret(s.id, { profile: d.profile, remoteAddress: d.remote_address });
        if (s.profile !== d.profile) await endSessions(client, d.name);
      });
    }
    const who = (d: repo.Desired) => ({ pelanggan_id: d.pelanggan_id, name: d.name });
    return {
      mikrotik_server_id: routerId,
      repaired: repair,
      checked: desired.length,
      secrets_on_router: secrets.length,
      missing: missing.map(who),
      wrong_profile: wrongProfile.map(({ d, s }) => ({ ...who(d), on_router: s.profile, expected: d.profile })),
      wrong_address: wrongAddress.map(({ d, s }) => ({
        ...who(d),
        on_router: s.remoteAddress,
        expected: d.remote_address,
      })),
      // Secrets the database does not know are reported, never removed: a router may hold an admin's own.
      unknown: unknown.map((s) => ({ name: s.name, profile: s.profile })),
    };
  }

  return { apply, applyJob, applyMany, applyBatchJob, catchUp, syncNow, reconcile, clientFor };
}
export type Provisioning = ReturnType<typeof createProvisioning>;
