// The dashboard and the reports: every billing user reads them (level 1). The dashboard carries the document's
// `stat_cards`, `revenue_summary` and `charts` and the original frontend's named charts; the loyalty users and the
// revenue details are bare arrays with `X-Total-Count`; the customer report is the document's list envelope.
import { Type } from 'typebox';
import type { Core } from '../../../core/context.ts';
import type { Router } from '../../../core/http/route.ts';
import { jakartaDate } from '../dates.ts';
import { BILLING_LIMITS } from '../limits.ts';
import * as repo from '../repo/reports.ts';
import * as reports from '../use-cases/reports.ts';
import { bareArray, clampLimit, envelopePage } from './lists.ts';

const DateOnly = Type.String({ format: 'date', description: 'YYYY-MM-DD (UTC+7)' });
const Text = (maxLength: number, description?: string) => Type.String({ maxLength, description });
const Str = Type.String();
const Int = Type.Integer();
const NullStr = Type.Union([Type.String(), Type.Null()]);
const Chart = Type.Object({ labels: Type.Array(Str), data: Type.Array(Int) });

const ReportQuery = Type.Object({
  start_date: Type.Optional(DateOnly),
  end_date: Type.Optional(DateOnly),
  alamat: Type.Optional(Text(500, 'exact address')),
  id_brand: Type.Optional(Text(50)),
});
const RevenueQuery = Type.Object({
  ...ReportQuery.properties,
  group_by: Type.Optional(
    Type.Union([Type.Literal('month'), Type.Literal('brand'), Type.Literal('status')], { default: 'month' }),
  ),
});
const DetailsQuery = Type.Object({
  ...ReportQuery.properties,
  skip: Type.Integer({ minimum: 0, maximum: 2_147_483_647, default: 0 }),
  limit: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 2_147_483_647,
      description: `page size; without it every row (at most ${reports.DETAILS_MAX})`,
    }),
  ),
});

const Revenue = Type.Object({
  start_date: Str,
  end_date: Str,
  group_by: Str,
  total_pendapatan: Type.Integer({ description: 'payments received in the range (ledger), PPN included' }),
  total_invoices: Type.Integer({ description: 'invoices paid in the range' }),
  total_ditagihkan: Type.Integer({ description: 'invoiced in the range less cancellations (ledger)' }),
  rincian: Type.Array(
    Type.Object({
      key: NullStr,
      label: NullStr,
      ditagihkan: Int,
      dibatalkan: Int,
      dibayar: Int,
      invoices_dibayar: Int,
      jumlah_invoice: Int,
    }),
  ),
  aging: Type.Object({
    per_tanggal: Str,
    total_outstanding: Int,
    buckets: Type.Array(Type.Object({ bucket: Str, label: Str, jumlah_invoice: Int, total: Int })),
  }),
});

const Payment = Type.Object({
  id: Int,
  invoice_number: Str,
  nomor_invoice: Str,
  pelanggan_id: Int,
  pelanggan_nama: Str,
  alamat: NullStr,
  id_brand: NullStr,
  paid_at: Type.String({ format: 'date-time' }),
  metode_pembayaran: NullStr,
  total_harga: Int,
});

const CustomerRow = Type.Object({
  id: Int,
  nama: Str,
  id_pelanggan: NullStr,
  alamat: NullStr,
  no_telp: NullStr,
  email: NullStr,
  id_brand: NullStr,
  brand: NullStr,
  layanan: NullStr,
  status: Str,
  segmen: NullStr,
  tunggakan: Type.Integer({ description: 'owed now (ledger)' }),
});

const Dashboard = Type.Object({
  stat_cards: Type.Array(Type.Object({ title: Str, value: Int, icon: Str, color: Str })),
  revenue_summary: Type.Object({
    total: Int,
    periode: Str,
    breakdown: Type.Array(Type.Object({ id_brand: NullStr, brand: Str, revenue: Int })),
    outstanding: Type.Integer({ description: 'everything customers owe now (ledger)' }),
  }),
  charts: Type.Array(Type.Object({ id: Str, title: Str, labels: Type.Array(Str), data: Type.Array(Int) })),
  lokasi_chart: Chart,
  paket_chart: Chart,
  growth_chart: Chart,
  status_langganan_chart: Chart,
  pelanggan_per_alamat_chart: Chart,
  loyalitas_pembayaran_chart: Chart,
  invoice_summary_chart: Type.Object({
    labels: Type.Array(Str),
    total: Type.Array(Int),
    lunas: Type.Array(Int),
    menunggu: Type.Array(Int),
    kadaluarsa: Type.Array(Int),
  }),
});

export function registerReportRoutes(router: Router, core: Core): void {
  const { db } = core.database;
  const auth = { level: 1 } as const;
  const limits = [BILLING_LIMITS.general];
  const dashboard = reports.cachedView(core, 'main', reports.dashboard);
  const packageDetails = reports.cachedView(core, 'paket-details', reports.packageDetails);
  const badges = reports.cachedView(core, 'sidebar-badges', repo.badges);

  router.get(
    '/api/dashboard/',
    {
      auth,
      limits,
      schema: {
        summary: 'Dashboard: stat cards, this month’s revenue from the ledger, charts (also by their frontend names)',
        response: { 200: Dashboard },
      },
    },
    async () => dashboard(),
  );

  router.get(
    '/api/dashboard/sidebar-badges',
    {
      auth,
      limits,
      schema: {
        summary: 'Counts for the menu: isolated customers, invoices still to pay, stopped customers',
        response: {
          200: Type.Object({ suspended_count: Int, unpaid_invoice_count: Int, stopped_count: Int }),
        },
      },
    },
    async () => badges(),
  );

  router.get(
    '/api/dashboard/paket-details',
    {
      auth,
      limits,
      schema: {
        summary: 'Per package speed (the paket_chart labels): customers in total, by address and by brand',
        response: {
          200: Type.Record(
            Type.String(),
            Type.Object({
              total_pelanggan: Int,
              breakdown_lokasi: Type.Array(Type.Object({ nama: Str, jumlah: Int })),
              breakdown_brand: Type.Array(Type.Object({ nama: Str, jumlah: Int })),
            }),
          ),
        },
      },
    },
    async () => packageDetails(),
  );

  router.get(
    '/api/dashboard/loyalitas-users-by-segment',
    {
      auth,
      limits,
      schema: {
        summary:
          'Active customers of a loyalty segment (setia, lunas-telat, menunggak or the chart labels); an unknown one is []',
        querystring: Type.Object({
          segmen: Type.Optional(Text(50, 'setia | lunas-telat | menunggak, or the chart label')),
          skip: Type.Integer({ minimum: 0, maximum: 2_147_483_647, default: 0 }),
          limit: Type.Integer({ minimum: 1, maximum: 2_147_483_647, default: 100 }),
        }),
        response: {
          200: Type.Array(
            Type.Object({ id: Int, nama: Str, id_pelanggan: NullStr, alamat: NullStr, no_telp: NullStr, segmen: Str }),
          ),
        },
      },
    },
    async (req, reply) => {
      const segment = reports.segmentOf(req.query.segmen);
      if (req.query.segmen?.trim() && !segment) return bareArray(reply, { rows: [], total: 0 });
      const page = await repo.customers(
        db,
        jakartaDate(core.now()),
        { segment, segmented: true },
        { skip: req.query.skip, limit: Math.min(req.query.limit, 1000) },
      );
      return bareArray(reply, { rows: page.rows, total: page.total });
    },
  );

  router.get(
    '/api/reports/revenue',
    {
      auth,
      limits,
      schema: {
        summary:
          'Revenue from the ledger between two dates (default this month), grouped by month, brand or status, with aging of what is owed today',
        querystring: RevenueQuery,
        response: { 200: Revenue },
      },
    },
    async (req) => reports.revenueReport(db, req.query, core.now()),
  );

  router.get(
    '/api/reports/revenue/details',
    {
      auth,
      limits,
      schema: {
        summary: 'The payments behind the revenue report, oldest first (a bare array; the total in X-Total-Count)',
        querystring: DetailsQuery,
        response: { 200: Type.Array(Payment) },
      },
    },
    async (req, reply) => {
      const page = await reports.revenueDetails(db, req.query, core.now());
      return bareArray(reply, page).map((p) => ({ ...p, nomor_invoice: p.invoice_number }));
    },
  );

  router.get(
    '/api/reports/customers',
    {
      auth,
      limits,
      schema: {
        summary: 'Customers with their loyalty segment and what they owe (ledger), by segment, status and brand',
        querystring: Type.Object({
          segment: Type.Optional(Text(50, 'setia | lunas-telat | menunggak')),
          status: Type.Optional(Text(20, 'Aktif | Isolir (Suspended) | Berhenti')),
          brand: Type.Optional(Text(50, 'id_brand')),
          skip: Type.Integer({ minimum: 0, maximum: 2_147_483_647, default: 0 }),
          limit: Type.Integer({ minimum: 1, maximum: 2_147_483_647, default: 15 }),
        }),
        response: {
          200: Type.Object({
            data: Type.Array(CustomerRow),
            total_count: Int,
            skip: Int,
            limit: Int,
            total_tunggakan: Int,
          }),
        },
      },
    },
    async (req) => {
      const limit = clampLimit(req.query.limit);
      const page = await repo.customers(db, jakartaDate(core.now()), reports.customerFilter(req.query), {
        skip: req.query.skip,
        limit,
      });
      return { ...envelopePage(page.rows, page.total, req.query.skip, limit), total_tunggakan: page.tunggakan };
    },
  );
}
