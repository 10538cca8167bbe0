// The billing module (seed 003, FTTH ISP billing), mounted under /api. Built with the module kit: this definition,
// a router per resource under routes/, SQL in repo.ts. This first part holds the brands and their billing rules.
import { deriveKey, randomToken, seal } from '../../core/crypto.ts';
import { withTransaction } from '../../core/db/transaction.ts';
import type { JobContext } from '../../core/jobs/jobs.ts';
import { defineModule } from '../../core/module.ts';
import { billingActivityLog } from './activity.ts';
import { billingEnvelope } from './envelope.ts';
import { BILLING_LIMITS } from './limits.ts';
import { invoicePaid, latePaymentReceived, notifyBilling } from './notifications.ts';
import { closeRouterConnections } from './providers/routeros/index.ts';
import { getBrand, insertBrand } from './repo/brands.ts';
import { insertCustomer } from './repo/customers.ts';
import { getInvoice, invoiceIdByPayment } from './repo/invoices.ts';
import { insertPackage } from './repo/packages.ts';
import { insertRouter } from './repo/routers.ts';
import { registerBrandRoutes } from './routes/brands.ts';
import { registerCustomerCsvRoutes } from './routes/customer-csv.ts';
import { registerCustomerRoutes } from './routes/customers.ts';
import { registerInvoiceRoutes } from './routes/invoices.ts';
import { registerIsolationRoutes } from './routes/isolation.ts';
import { registerLatePaymentRoutes } from './routes/late-payments.ts';
import { registerNotificationRoutes } from './routes/notifications.ts';
import { registerPackageRoutes } from './routes/packages.ts';
import { registerReportRoutes } from './routes/reports.ts';
import { registerRouterRoutes } from './routes/routers.ts';
import { registerSessionRoutes } from './routes/session.ts';
import { registerSubscriptionRoutes } from './routes/subscriptions.ts';
import { registerTechnicalRoutes } from './routes/technical.ts';
import { registerTechnicalHelperRoutes } from './routes/technical-helpers.ts';
import { createGeneration, PAYMENT_LINK_JOB } from './use-cases/generate.ts';
import { LINK_CLOSE_JOB, paymentCompleted } from './use-cases/invoices.ts';
import { createIsolation, ISOLATION_JOB } from './use-cases/isolation.ts';
import { createPaymentLinks } from './use-cases/payment-links.ts';
import {
  createProvisioning,
  PROVISION_BATCH_JOB,
  PROVISION_JOB,
  RESTORE_JOB,
  recordChange,
} from './use-cases/provisioning.ts';
import { createReminders, REMINDER_JOB } from './use-cases/reminders.ts';
import { createRouterHealth, ROUTER_HEALTH_JOB } from './use-cases/routers.ts';
import { seedBilling, seedOptions } from './use-cases/seed.ts';
import { createTechnical } from './use-cases/technical.ts';

export const billingModule = defineModule({
  name: 'billing',
  envelope: billingEnvelope,
  prefixes: [
    '/api/brands',
    '/api/harga_layanan',
    '/api/paket_layanan',
    '/api/pelanggan',
    '/api/data_teknis',
    '/api/invoices',
    '/api/langganan',
    '/api/dashboard',
    '/api/reports',
    '/api/mikrotik_servers',
    '/api/notifications',
    '/api/late-payments',
    // The original frontend's sign-in and log paths (their errors in billing's envelope).
    '/api/auth/token',
    '/api/auth/refresh',
    '/api/auth/logout',
    '/api/users/me',
    '/api/activity-logs',
  ],
  // The live notifications (notifications.ts), for every billing user.
  notificationSocket: { path: '/ws/notifications', level: 1 },
  limits: BILLING_LIMITS,
  activityLog: billingActivityLog,
  wire: (core) => {
    const links = createPaymentLinks(core);
    const sealKey = deriveKey(core.config.secret, 'billing-pppoe-v1');
    const provisioning = createProvisioning(core, sealKey);
    return {
      sealKey,
      links,
      generation: createGeneration(core),
      reminders: createReminders(core, links),
      provisioning,
      isolation: createIsolation(core, provisioning),
      // A router answering again gets the changes it missed at once, not at the jobs' next backoff.
      health: createRouterHealth(core, sealKey, async () => void (await provisioning.catchUp())),
    };
  },
  jobs: ({ links, generation, reminders, provisioning, isolation, health }) => [
    // Router changes, one job per customer: retried with backoff while a router is down. Restores have their own
    // queue (and a short first retry) so a payment never waits behind a batch of isolations.
    {
      name: PROVISION_JOB,
      retryLimit: 30,
      retryDelay: 5,
      concurrency: 8,
      handler: async (job: JobContext<{ pelangganId: number }>) => provisioning.applyJob(job.data.pelangganId),
    },
    {
      name: RESTORE_JOB,
      retryLimit: 30,
      retryDelay: 1,
      concurrency: 4,
      handler: async (job: JobContext<{ pelangganId: number }>) => provisioning.applyJob(job.data.pelangganId),
    },
    // The isolation sweep's changes, a batch of customers a job, router by router and pipelined.
    {
      name: PROVISION_BATCH_JOB,
      retryLimit: 30,
      retryDelay: 5,
      concurrency: 2,
      expireInSeconds: 600,
      handler: async (job: JobContext<{ pelangganIds: number[] }>) => provisioning.applyBatchJob(job.data.pelangganIds),
    },
    // Every minute: each router's health (router_offline once per outage).
    {
      name: ROUTER_HEALTH_JOB,
      cron: '* * * * *',
      expireInSeconds: 120,
      handler: async () => void (await health.checkAll()),
    },
    // Hourly: overdue invoices, then isolation of customers past their brand's grace days.
    {
      name: ISOLATION_JOB,
      cron: '7 * * * *',
      expireInSeconds: 1800,
      handler: async () => void (await isolation.run()),
    },
    {
      name: PAYMENT_LINK_JOB,
      retryLimit: 8,
      retryDelay: 30,
      handler: async (job: JobContext<{ invoiceId: number }>) => void (await links.ensure(job.data.invoiceId)),
    },
    // A link its invoice no longer needs (paid another way, cancelled, replaced) is expired at Xendit.
    {
      name: LINK_CLOSE_JOB,
      retryLimit: 20,
      retryDelay: 30,
      handler: async (job: JobContext<{ reference: string }>) => links.close(job.data.reference),
    },
    // Daily at 01:00 UTC (08:00 WIB): the coming period's invoices on each brand's schedule, and overdue marking.
    {
      name: 'billing.daily',
      cron: '0 1 * * *',
      expireInSeconds: 3600,
      handler: async () => void (await generation.daily()),
    },
    // Payment reminders (3 days and 1 day before the due date, and on it) at 08:00, 12:00 and 17:00 WIB: working
    // hours, and a later run picks up what an earlier one could not send (no payment link yet).
    {
      name: REMINDER_JOB,
      cron: '0 1,5,10 * * *',
      expireInSeconds: 3600,
      handler: async () => void (await reminders.run()),
    },
  ],
  async onReady({ isolation }, core) {
    // A Xendit payment of an invoice settles it in the payments core's transaction.
    core.payments.register('billing', async (trx, intent) => {
      if (intent.status !== 'COMPLETED') return;
      const result = await paymentCompleted(
        trx,
        { reference: intent.reference, paidAt: intent.paid_at },
        core.jobs,
        core.now(),
      );
      if (result.outcome === 'settled') {
        await notifyBilling(core, trx, invoicePaid(result.invoice));
        // An isolated customer with nothing else overdue is restored in this transaction and on the router right
        // after the commit.
        await isolation.restoreIfPaid(trx, result.invoice.pelanggan_id, 'pembayaran diterima');
      } else if (result.outcome === 'already') {
        // Paid in cash (or cancelled) first, and the link was paid before it could be closed: owed back.
        await core.payments.late.record(trx, intent, {
          paidAt: intent.paid_at ?? core.now(),
          paymentId: intent.payment_id,
          reason: 'after_settle',
        });
      } else core.logger.warn({ reference: intent.reference }, 'billing payment for no known invoice');
    });
    // Every late payment of billing's (after a link was closed, or the case above) reaches the administrators.
    core.payments.late.onRecorded('billing', async (trx, row) => {
      const invoiceId = await invoiceIdByPayment(trx, row.reference);
      const invoice = invoiceId === undefined ? undefined : await getInvoice(trx, invoiceId);
      await notifyBilling(core, trx, latePaymentReceived(row, invoice));
    });
  },
  async onClose() {
    closeRouterConnections();
  },
  async routes(router, { sealKey, links, generation, isolation, health, provisioning }, core) {
    registerSessionRoutes(router, core);
    registerBrandRoutes(router, core);
    registerPackageRoutes(router, core);
    registerCustomerRoutes(router, core);
    await registerCustomerCsvRoutes(router, core);
    registerSubscriptionRoutes(router, core);
    registerTechnicalHelperRoutes(router, core);
    registerTechnicalRoutes(router, core, sealKey);
    registerInvoiceRoutes(router, core, { links, generation, isolation });
    registerRouterRoutes(router, core, { sealKey, health, provisioning });
    registerIsolationRoutes(router, core, isolation);
    registerReportRoutes(router, core);
    registerLatePaymentRoutes(router, core);
    registerNotificationRoutes(router, core);
  },
  commands: {
    seed: {
      usage:
        '--customers N --months M [--seed S]\n                     fill an empty billing base with N customers and M months of invoices (and their ledger)',
      async run({ options, core, out }) {
        const r = await seedBilling(core, seedOptions(options), out);
        out(
          `seeded ${r.customers} customers, ${r.invoices} invoices, ${r.journals} journals in ${r.seconds.toFixed(1)} s`,
        );
      },
    },
  },
  async demo({ sealKey }, core) {
    const { db } = core.database;
    if (await getBrand(db, 'JAKINET')) return;
    const now = core.now();
    await withTransaction(db, async (trx) => {
      await insertBrand(
        trx,
        {
          id_brand: 'JAKINET',
          brand: 'Jakinet',
          pajak: 11,
          xendit_key_name: 'JAKINET',
          due_day: 10,
          invoice_days_before: 5,
          grace_days: 5,
          isolation_profile: 'ISOLIR',
        },
        now,
      );
      const packages = [];
      for (const [nama_paket, kecepatan, harga] of [
        ['Internet 20Mbps', 20, 166_500],
        ['Internet 50Mbps', 50, 250_000],
        ['Internet 100Mbps', 100, 400_000],
      ] as const) {
        packages.push(
          await insertPackage(
            trx,
            { id_brand: 'JAKINET', nama_paket, kecepatan, harga, profile_pppoe: `${kecepatan}Mbps` },
            now,
          ),
        );
      }
      // A demo router in this process (host `simulator`): provisioning and isolation are visible without hardware.
      const router = await insertRouter(
        trx,
        {
          name: 'Demo Router (simulator)',
          host_ip: 'simulator',
          port: 8728,
          username: 'admin',
          password_enc: seal(sealKey, randomToken(12)),
          transport: 'api',
          use_tls: false,
          is_active: true,
        },
        now,
      );
      const ids: number[] = [];
      for (const [i, [nama, alamat]] of (
        [
          ['Budi Santoso', 'Jl. Melati No. 1'],
          ['Siti Aminah', 'Jl. Melati No. 7'],
          ['Andi Wijaya', 'Jl. Mawar No. 3'],
        ] as const
      ).entries()) {
        const customerId = await insertCustomer(
          trx,
          {
            nama,
            email: `${nama.split(' ')[0]?.toLowerCase()}@example.com`,
            no_telp: `08123450000${i + 1}`,
            no_ktp: null,
            alamat,
            alamat_2: null,
            blok: null,
            unit: null,
            tanggal_instalasi: '2026-01-15',
            id_brand: 'JAKINET',
            paket_layanan_id: packages[i % packages.length]?.id ?? null,
            status: 'Aktif',
          },
          now,
        );
        await createTechnical(
          trx,
          {
            pelanggan_id: customerId,
            mikrotik_server_id: router.id,
            ip_pelanggan: `10.10.0.${i + 2}`,
            id_pelanggan: `demo-${customerId}`,
            password_pppoe: randomToken(9),
          },
          sealKey,
          now,
        );
        ids.push(customerId);
      }
      await recordChange(trx, core.jobs, ids, 'change', now);
    });
  },
});
