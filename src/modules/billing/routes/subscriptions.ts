// Subscriptions (langganan), the original frontend's view of a customer's service: one per customer, read-only,
// made from the customer, its package and its brand (CONTRACTS §4). Its id is the customer's id, so
// `POST /api/invoices/generate {langganan_id}` generates that customer's invoice. The status mirrors the customer's
// in the original's words (Isolir → Suspended).
import { Type } from 'typebox';
import type { Core } from '../../../core/context.ts';
import type { Router } from '../../../core/http/route.ts';
import { dayOfPeriod, jakartaDate } from '../dates.ts';
import { BILLING_LIMITS } from '../limits.ts';
import { type Customer, type CustomerStatus, listCustomers } from '../repo/customers.ts';
import { clampLimit, envelopePage } from './lists.ts';

const STATUS_WORDS = { Aktif: 'Aktif', Isolir: 'Suspended', Berhenti: 'Berhenti' } as const;
const FROM_WORDS: Record<string, CustomerStatus> = { Aktif: 'Aktif', Suspended: 'Isolir', Berhenti: 'Berhenti' };

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const SubscriptionQuery = Type.Object({
  skip: Type.Integer({ minimum: 0, default: 0 }),
  limit: Type.Integer({ minimum: 1, default: 15 }),
  search: Type.Optional(Type.String({ maxLength: 100, description: "in the customer's nama, email and no_telp" })),
  alamat: Type.Optional(Type.String({ maxLength: 500, description: 'exact address' })),
  paket_layanan_name: Type.Optional(Type.String({ maxLength: 100, description: "the package's exact name" })),
  status: Type.Optional(
    Type.Union([Type.Literal('Aktif'), Type.Literal('Suspended'), Type.Literal('Berhenti')], {
      description: 'Suspended is an isolated customer',
    }),
  ),
  for_invoice_selection: Type.Optional(Type.Boolean({ description: 'every row' })),
});

const Subscription = Type.Object({
  id: Type.Integer({ description: "the customer's id" }),
  pelanggan_id: Type.Integer(),
  paket_layanan_id: Nullable(Type.Integer()),
  status: Type.String({ description: 'Aktif, Suspended or Berhenti' }),
  metode_pembayaran: Type.String({ description: 'Otomatis: invoices are generated on the brand schedule' }),
  harga_awal: Nullable(Type.Integer({ description: "the package's monthly price before PPN" })),
  tgl_jatuh_tempo: Nullable(Type.String({ description: "this month's due date (the brand's due day)" })),
  tgl_mulai_langganan: Nullable(Type.String()),
  alasan_berhenti: Type.Null(),
  status_modem: Type.Null(),
  pelanggan: Type.Object({
    id: Type.Integer(),
    nama: Type.String(),
    alamat: Nullable(Type.String()),
    no_telp: Nullable(Type.String()),
    harga_layanan: Nullable(Type.Object({ id_brand: Type.String(), brand: Type.String(), pajak: Type.Number() })),
  }),
  paket_layanan: Nullable(
    Type.Object({
      id: Type.Integer(),
      nama_paket: Type.String(),
      harga: Type.Integer(),
      kecepatan: Type.Integer(),
    }),
  ),
});

const SubscriptionList = Type.Object({
  data: Type.Array(Subscription),
  total_count: Type.Integer(),
  skip: Type.Integer(),
  limit: Type.Integer(),
});

function subscriptionView(c: Customer, month: string) {
  return {
    id: c.id,
    pelanggan_id: c.id,
    paket_layanan_id: c.paket_layanan_id,
    status: STATUS_WORDS[c.status],
    metode_pembayaran: 'Otomatis',
    harga_awal: c.package?.harga ?? null,
    tgl_jatuh_tempo: c.brand ? dayOfPeriod(month, c.brand.due_day) : null,
    tgl_mulai_langganan: c.tanggal_instalasi,
    alasan_berhenti: null,
    status_modem: null,
    pelanggan: {
      id: c.id,
      nama: c.nama,
      alamat: c.alamat,
      no_telp: c.no_telp,
      harga_layanan: c.brand ? { id_brand: c.brand.id_brand, brand: c.brand.brand, pajak: c.brand.pajak } : null,
    },
    paket_layanan: c.package
      ? { id: c.package.id, nama_paket: c.package.nama_paket, harga: c.package.harga, kecepatan: c.package.kecepatan }
      : null,
  };
}

export function registerSubscriptionRoutes(router: Router, core: Core): void {
  const { db } = core.database;

  router.get(
    '/api/langganan/',
    {
      auth: { level: 1 },
      limits: [BILLING_LIMITS.general],
      schema: {
        summary: "Customers' subscriptions (one per customer): search, address, package name, status",
        querystring: SubscriptionQuery,
        response: { 200: SubscriptionList },
      },
    },
    async (req) => {
      const q = req.query;
      const filter = {
        search: q.search?.trim() || undefined,
        alamat: q.alamat,
        packageName: q.paket_layanan_name?.trim() || undefined,
        status: q.status === undefined ? undefined : FROM_WORDS[q.status],
      };
      // Every row for the invoice dialog's selection list; otherwise a page (a limit above the maximum clamped).
      const all = q.for_invoice_selection === true;
      const limit = all ? Number.MAX_SAFE_INTEGER : clampLimit(q.limit);
      const skip = all ? 0 : q.skip;
      const page = await listCustomers(db, { ...filter, skip, limit });
      const month = jakartaDate(core.now()).slice(0, 7);
      return envelopePage(
        page.rows.map((c) => subscriptionView(c, month)),
        page.total,
        skip,
        all ? page.total : limit,
      );
    },
  );
}
