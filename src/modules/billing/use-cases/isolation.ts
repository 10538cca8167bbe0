// The isolation engine on each brand's rules (CONTRACTS §4): an invoice unpaid after its due date is Jatuh Tempo;
// after the brand's grace days the customer is `Isolir` (the secret's profile becomes the brand's isolation profile
// and the session is ended); a payment restores the package's profile within seconds; a promise to pay (at most
// 14 days) postpones isolation. The sweep runs hourly and on demand, on `core.now()` (tests move it).
//
// A restore never waits for a poller: the change and its durable job commit with the payment, and right after the
// commit this process applies it to the router; the job (a queue of its own) is only the retry path.
import type { Actor } from '../../../core/audit/audit.ts';
import { recordAction } from '../../../core/audit/audit.ts';
import type { Core } from '../../../core/context.ts';
import type { Trx } from '../../../core/db/tables.ts';
import { afterCommit, withTransaction } from '../../../core/db/transaction.ts';
import { AppError } from '../../../core/http/errors.ts';
import { jakartaDate } from '../dates.ts';
import { type BillingEvent, notifyBilling } from '../notifications.ts';
import * as customers from '../repo/customers.ts';
import { markOverdue } from '../repo/generation.ts';
import * as repo from '../repo/provisioning.ts';
import { type Provisioning, recordBatchChange, recordChange } from './provisioning.ts';

export const ISOLATION_JOB = 'billing.isolation';
/** The longest promise to pay, in days from today. */
export const MAX_PROMISE_DAYS = 14;
/** Above this many customers in one sweep, one summary notification instead of one per customer. */
const EACH_NOTICE_MAX = 50;
/** How often a change applied right after its commit is tried while another worker holds the customer (50 ms apart). */
const BUSY_TRIES = 100;

const isolated = (c: { id: number; nama: string }, why: string): BillingEvent => ({
  type: 'isolir',
  message: `Pelanggan ${c.nama} diisolir (${why})`,
  data: { pelanggan_id: c.id, pelanggan_nama: c.nama, alasan: why },
});
const restored = (c: { id: number; nama: string }, why: string): BillingEvent => ({
  type: 'buka_isolir',
  message: `Isolir pelanggan ${c.nama} dibuka (${why})`,
  data: { pelanggan_id: c.id, pelanggan_nama: c.nama, alasan: why },
});

const addDays = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

export function createIsolation(core: Core, provisioning: Provisioning) {
  const { db } = core.database;

  /**
   * After the commit: apply at once in this process; a failure is left to the durable job. A customer another
   * worker holds (a batch of isolations writing its router) is tried again every 50 ms for a few seconds, since
   * the job's retry would come a poll and a backoff later.
   */
  const applyNow = async (id: number) => {
    for (let i = 0; i < BUSY_TRIES; i++) {
      if ((await provisioning.apply(id)) !== 'busy') return;
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const applySoon = (trx: Trx, ids: readonly number[]) =>
    afterCommit(trx, () => {
      for (const id of ids) {
        applyNow(id).catch((err: unknown) => {
          core.logger.warn({ err, pelangganId: id }, 'router change not applied yet; its job retries it');
        });
      }
    });

  /**
   * The sweep: overdue invoices become Jatuh Tempo, and customers past the grace days are isolated. `asOf`
   * (YYYY-MM-DD) runs it as of that day instead of today (the superadmin's `?tanggal=`).
   */
  async function run(asOf?: string) {
    const now = core.now();
    const today = asOf ?? jakartaDate(now);
    return withTransaction(db, async (trx) => {
      const overdue = await markOverdue(trx, today, now);
      const ids = await repo.lockIsolationCandidates(trx, today);
      const changed = await repo.setStatus(trx, ids, 'Aktif', 'Isolir', now);
      // Applied in batches, router by router (one job a batch): thousands of isolations take seconds.
      await recordBatchChange(
        trx,
        core.jobs,
        changed.map((c) => c.id),
        'isolate',
        now,
      );
      if (changed.length <= EACH_NOTICE_MAX) {
        for (const c of changed) await notifyBilling(core, trx, isolated(c, 'tagihan belum dibayar'));
      } else {
        await notifyBilling(core, trx, {
          type: 'isolir',
          message: `${changed.length} pelanggan diisolir (tagihan belum dibayar)`,
          data: { jumlah: changed.length, pelanggan_ids: changed.slice(0, 100).map((c) => c.id) },
        });
      }
      return { today, overdue, isolated: changed.length, pelanggan_ids: changed.map((c) => c.id) };
    });
  }

  /** Restores a customer in `trx` when nothing unpaid past grace remains (after a payment). */
  async function restoreIfPaid(trx: Trx, pelangganId: number, why: string): Promise<boolean> {
    if (await repo.stillOverdue(trx, pelangganId, jakartaDate(core.now()))) return false;
    const [c] = await repo.setStatus(trx, [pelangganId], 'Isolir', 'Aktif', core.now());
    if (!c) return false;
    await recordChange(trx, core.jobs, [c.id], 'restore', core.now());
    await notifyBilling(core, trx, restored(c, why));
    applySoon(trx, [c.id]);
    return true;
  }

  async function mustGet(trx: Trx, id: number) {
    const c = await customers.getCustomer(trx, id);
    if (!c) throw new AppError('NOT_FOUND', 'Customer not found');
    return c;
  }

  /** An operator isolates a customer by hand (409 when not active). */
  async function isolate(id: number, actor: Actor) {
    return withTransaction(db, async (trx) => {
      const c = await mustGet(trx, id);
      const [changed] = await repo.setStatus(trx, [id], 'Aktif', 'Isolir', core.now());
      if (!changed) throw new AppError('CONFLICT', `Customer is ${c.status}, not Aktif`);
      await recordChange(trx, core.jobs, [id], 'isolate', core.now());
      await notifyBilling(core, trx, isolated(changed, 'oleh operator'));
      await recordAction(trx, actor, 'billing.customer.isolated', id, core.now(), { after: { status: 'Isolir' } });
      applySoon(trx, [id]);
      return mustGet(trx, id);
    });
  }

  /** An operator lifts the isolation by hand, paid or not (409 when not isolated). */
  async function restore(id: number, actor: Actor) {
    return withTransaction(db, async (trx) => {
      const c = await mustGet(trx, id);
      const [changed] = await repo.setStatus(trx, [id], 'Isolir', 'Aktif', core.now());
      if (!changed) throw new AppError('CONFLICT', `Customer is ${c.status}, not Isolir`);
      await recordChange(trx, core.jobs, [id], 'restore', core.now());
      await notifyBilling(core, trx, restored(changed, 'oleh operator'));
      await recordAction(trx, actor, 'billing.customer.restored', id, core.now(), { after: { status: 'Aktif' } });
      applySoon(trx, [id]);
      return mustGet(trx, id);
    });
  }

  /**
   * A promise to pay until `sampai` (today up to 14 days ahead, else 422): no isolation until the day after it.
   * A customer already isolated for non-payment is opened again until then.
   */
  async function promise(id: number, sampai: string, actor: Actor) {
    const today = jakartaDate(core.now());
    const last = addDays(today, MAX_PROMISE_DAYS);
    if (sampai < today || sampai > last) {
      throw new AppError('VALIDATION_ERROR', 'Validation failed', {
        details: { sampai: [`must be a date from ${today} to ${last} (at most ${MAX_PROMISE_DAYS} days ahead)`] },
      });
    }
    return withTransaction(db, async (trx) => {
      const c = await mustGet(trx, id);
      if (c.status === 'Berhenti') throw new AppError('CONFLICT', 'Customer has stopped (Berhenti)');
      await repo.setPromise(trx, id, sampai, core.now());
      let opened = false;
      const [changed] = await repo.setStatus(trx, [id], 'Isolir', 'Aktif', core.now());
      if (changed) {
        opened = true;
        await recordChange(trx, core.jobs, [id], 'restore', core.now());
        await notifyBilling(core, trx, restored(changed, `janji bayar sampai ${sampai}`));
        applySoon(trx, [id]);
      }
      await recordAction(trx, actor, 'billing.customer.promise', id, core.now(), {
        after: { janji_bayar_sampai: sampai },
      });
      return { pelanggan_id: id, janji_bayar_sampai: sampai, status: opened ? 'Aktif' : c.status, dibuka: opened };
    });
  }

  return { run, restoreIfPaid, isolate, restore, promise };
}
export type Isolation = ReturnType<typeof createIsolation>;
