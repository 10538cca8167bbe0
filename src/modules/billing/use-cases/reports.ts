// The dashboard and the reports (seed 003, CONTRACTS §4 and the original frontend's keys). Dates are billing's
// calendar (UTC+7): a report from `start_date` to `end_date` covers the ledger journals dated from the start of the
// first day to the end of the last. Money comes from the ledger (repo/reports.ts); aging is a snapshot on today.
import { cacheStore, refreshing } from '../../../core/cache.ts';
import type { Core } from '../../../core/context.ts';
import type { Executor } from '../../../core/db/tables.ts';
import { AppError } from '../../../core/http/errors.ts';
import { jakartaDate } from '../dates.ts';
import * as repo from '../repo/reports.ts';

const DAY = 86_400_000;
const MONTHS = [
  'Januari',
  'Februari',
  'Maret',
  'April',
  'Mei',
  'Juni',
  'Juli',
  'Agustus',
  'September',
  'Oktober',
  'November',
  'Desember',
];

const invalid = (field: string, message: string) =>
  new AppError('VALIDATION_ERROR', 'Validation failed', { details: { [field]: [message] } });

/** The instant a UTC+7 date starts. */
const startOf = (date: string) => new Date(`${date}T00:00:00+07:00`);
const lastDayOf = (periode: string) => {
  const [y, m] = periode.split('-').map(Number) as [number, number];
  return `${periode}-${String(new Date(Date.UTC(y, m, 0)).getUTCDate()).padStart(2, '0')}`;
};
const monthsBefore = (periode: string, k: number) => {
  const [y, m] = periode.split('-').map(Number) as [number, number];
  const d = new Date(Date.UTC(y, m - 1 - k, 1));
  return d.toISOString().slice(0, 7);
};
const monthName = (periode: string) =>
  `${MONTHS[Number(periode.slice(5, 7)) - 1]?.slice(0, 3) ?? ''} ${periode.slice(0, 4)}`;

// ---- the revenue report ------------------------------------------------------------------------------------------

export interface ReportQuery {
  start_date?: string;
  end_date?: string;
  alamat?: string;
  id_brand?: string;
}

/**
 * The report's dates: both given, or one (the other end of its month), or neither (this month). A start after the
 * end, or a range over ten years, is a 422.
 */
export function reportRange(q: ReportQuery, now: Date) {
  const today = jakartaDate(now);
  const start = q.start_date ?? `${(q.end_date ?? today).slice(0, 7)}-01`;
  const end = q.end_date ?? lastDayOf(start.slice(0, 7));
  if (start > end) throw invalid('end_date', 'must not be before start_date');
  const range = { from: startOf(start), to: new Date(startOf(end).getTime() + DAY) };
  if (range.to.getTime() - range.from.getTime() > 3660 * DAY) throw invalid('end_date', 'at most ten years');
  return { start, end, range };
}

export const scopeOf = (q: ReportQuery): repo.Scope => ({
  idBrand: q.id_brand?.trim() || undefined,
  alamat: q.alamat?.trim() || undefined,
});

const AGING_LABELS: Record<repo.AgingBucket, string> = {
  current: 'Belum jatuh tempo',
  '1-30': '1-30 hari',
  '31-60': '31-60 hari',
  '61-90': '61-90 hari',
  '>90': '> 90 hari',
};

export async function revenueReport(db: Executor, q: ReportQuery & { group_by?: repo.GroupBy }, now: Date) {
  const { start, end, range } = reportRange(q, now);
  const scope = scopeOf(q);
  const groupBy = q.group_by ?? 'month';
  const today = jakartaDate(now);
  const [groups, buckets] = await Promise.all([
    repo.revenueGroups(db, range, scope, groupBy),
    repo.aging(db, today, scope),
  ]);
  const sum = (f: (g: repo.RevenueGroup) => number) => groups.reduce((s, g) => s + f(g), 0);
  return {
    start_date: start,
    end_date: end,
    group_by: groupBy,
    total_pendapatan: sum((g) => g.dibayar),
    total_invoices: sum((g) => g.invoices_dibayar),
    total_ditagihkan: sum((g) => g.ditagihkan - g.dibatalkan),
    rincian: groups,
    aging: {
      per_tanggal: today,
      total_outstanding: buckets.reduce((s, b) => s + b.total, 0),
      buckets: buckets.map((b) => ({ ...b, label: AGING_LABELS[b.bucket] })),
    },
  };
}

export async function revenueDetails(
  db: Executor,
  q: ReportQuery & { skip: number; limit?: number },
  now: Date,
): Promise<{ rows: repo.PaymentRow[]; total: number }> {
  const { range } = reportRange(q, now);
  return repo.payments(db, range, scopeOf(q), { skip: q.skip, limit: Math.min(q.limit ?? DETAILS_MAX, DETAILS_MAX) });
}

/** Rows of the details without `limit` (the frontend's Excel export): every row, up to this many. */
export const DETAILS_MAX = 50_000;

// ---- loyalty and the customer report -----------------------------------------------------------------------------

/** The document's segment ids and the original chart's labels. */
const SEGMENT_WORDS: Record<string, repo.Segment> = {
  setia: 'setia',
  'lunas-telat': 'lunas-telat',
  menunggak: 'menunggak',
  'setia on-time': 'setia',
  'lunas (tapi telat)': 'lunas-telat',
};
export const SEGMENT_LABELS: Record<repo.Segment, string> = {
  setia: 'Setia On-Time',
  'lunas-telat': 'Lunas (Tapi Telat)',
  menunggak: 'Menunggak',
};

export const segmentOf = (word: string | undefined): repo.Segment | undefined =>
  word === undefined ? undefined : SEGMENT_WORDS[word.trim().toLowerCase()];

/** Customer statuses, with the subscription words of the original frontend (`Suspended` is `Isolir`). */
const STATUS_WORDS: Record<string, string> = {
  aktif: 'Aktif',
  isolir: 'Isolir',
  suspended: 'Isolir',
  berhenti: 'Berhenti',
};

export function customerFilter(q: { segment?: string; status?: string; brand?: string }): repo.CustomerFilter {
  const segment = segmentOf(q.segment);
  if (q.segment !== undefined && q.segment.trim() !== '' && !segment) {
    throw invalid('segment', 'one of setia, lunas-telat, menunggak');
  }
  const status = q.status?.trim() ? STATUS_WORDS[q.status.trim().toLowerCase()] : undefined;
  if (q.status?.trim() && !status) throw invalid('status', 'one of Aktif, Isolir, Berhenti');
  return { segment, status, idBrand: q.brand?.trim() || undefined };
}

// ---- the dashboard -----------------------------------------------------------------------------------------------

const chart = (entries: [string, number][]) => ({
  labels: entries.map(([l]) => l),
  data: entries.map(([, v]) => v),
});
const byCount = <K>(m: Map<K, number>) =>
  [...m.entries()].sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0])));
/** The `top` largest, the rest summed as `Lainnya`. */
function topWithRest(entries: [string, number][], top: number): [string, number][] {
  if (entries.length <= top) return entries;
  const rest = entries.slice(top).reduce((s, [, v]) => s + v, 0);
  return [...entries.slice(0, top), ['Lainnya', rest]];
}

/** The oldest a dashboard view may be when served: a change shows within this (see `cachedView`). */
export const DASHBOARD_TTL_MS = 30_000;
/**
 * A change is picked up at most this often per view (one recomputation at a time, across instances): on a base of
 * 100,000 customers one computation of the dashboard takes seconds of PostgreSQL's time, and a base that issues and
 * settles invoices all day moves the change counter every few milliseconds.
 */
export const DASHBOARD_MIN_INTERVAL_MS = 15_000;
/** A view is recomputed in the background once this old, even when nothing it counts has changed. */
export const DASHBOARD_REFRESH_MS = 20_000;

/**
 * A dashboard view (the dashboard, the package drill-down, the sidebar badges) served from its last computation
 * while one recomputation runs (`refreshing` in the core; in Redis when there is one, so every instance serves the
 * same computation). A recomputation starts when billing's change counter (migrations/0044) or the day moved and the
 * last one started at least `DASHBOARD_MIN_INTERVAL_MS` ago, or when the view is `DASHBOARD_REFRESH_MS` old; a view
 * whose computation started `DASHBOARD_TTL_MS` ago is never served, so a payment shows within 30 s under any load.
 */
export function cachedView<T>(
  core: Pick<Core, 'database' | 'redis' | 'config' | 'now' | 'logger'>,
  name: string,
  compute: (db: Executor, now: Date) => Promise<T>,
): () => Promise<T> {
  const { db } = core.database;
  return refreshing({
    store: cacheStore(core.redis, `${core.config.redisPrefix}cache:billing:`),
    key: `dashboard:${name}`,
    now: core.now,
    maxAgeMs: DASHBOARD_TTL_MS,
    refreshAfterMs: DASHBOARD_REFRESH_MS,
    minIntervalMs: DASHBOARD_MIN_INTERVAL_MS,
    version: async () => `${jakartaDate(core.now())}|${await repo.fingerprint(db)}`,
    compute: (at) => compute(db, at),
    onError: (err) =>
      core.logger.warn({ err: { message: (err as Error).message }, view: name }, 'dashboard view not recomputed'),
  });
}

/** `GET /api/dashboard/paket-details`: per `paket_chart` label, the customers by address and by brand. */
export async function packageDetails(db: Executor) {
  const [rows, brands] = await Promise.all([repo.packageBreakdown(db), repo.brandNames(db)]);
  const brandName = new Map(brands.map((b) => [b.id_brand, b.brand]));
  const out: Record<
    string,
    {
      total_pelanggan: number;
      breakdown_lokasi: { nama: string; jumlah: number }[];
      breakdown_brand: { nama: string; jumlah: number }[];
    }
  > = {};
  const label = (k: number | null) => (k === null ? 'Tanpa Paket' : `${k} Mbps`);
  const nameOf = (r: (typeof rows)[number]) => String(r.alamat ?? r.id_brand ?? '');
  const sorted = [...rows].sort((a, b) => b.n - a.n || nameOf(a).localeCompare(nameOf(b)));
  for (const r of sorted) {
    const key = label(r.kecepatan);
    const entry = out[key] ?? { total_pelanggan: 0, breakdown_lokasi: [], breakdown_brand: [] };
    out[key] = entry;
    if (r.alamat !== undefined) entry.breakdown_lokasi.push({ nama: r.alamat ?? 'Tanpa Alamat', jumlah: r.n });
    else if (r.id_brand !== undefined)
      entry.breakdown_brand.push({
        nama: r.id_brand === null ? 'Tanpa Brand' : (brandName.get(r.id_brand) ?? r.id_brand),
        jumlah: r.n,
      });
    else entry.total_pelanggan = r.n;
  }
  return out;
}

export type Dashboard = Awaited<ReturnType<typeof dashboard>>;

export async function dashboard(db: Executor, now: Date) {
  const today = jakartaDate(now);
  const periode = today.slice(0, 7);
  const month = { from: startOf(`${periode}-01`), to: new Date(startOf(lastDayOf(periode)).getTime() + DAY) };
  const periods = Array.from({ length: 6 }, (_, k) => monthsBefore(periode, 5 - k));
  const growthMonths = Array.from({ length: 12 }, (_, k) => monthsBefore(periode, 11 - k));
  // One statement after another: the dashboard is computed in the background while the last one is served, and six
  // heavy statements at once (each with its parallel workers) took every core from the requests meanwhile.
  const tallies = await repo.customerTallies(db);
  const brands = await repo.brandNames(db);
  const revenue = await repo.paymentsByBrand(db, month);
  const owed = await repo.outstanding(db);
  const segments = await repo.segmentCounts(db, today);
  const invoices = await repo.invoiceCounts(db, periods);
  const brandName = new Map(brands.map((b) => [b.id_brand, b.brand]));
  const nameOf = (id: string | null) => (id === null ? 'Tanpa Brand' : (brandName.get(id) ?? id));

  // `lokasi` is the customer's `alamat` (the frontend's location list is the distinct addresses); the address chart
  // goes one level down, to the block within the address.
  const lokasi = chart(
    topWithRest(
      byCount(tallies.alamat).map(([a, v]) => [a ?? 'Tanpa Alamat', v]),
      10,
    ),
  );
  const blocks = new Map(
    [...tallies.blok.values()].map((b) => [[b.alamat ?? 'Tanpa Alamat', b.blok].filter(Boolean).join(' - '), b.n]),
  );
  const perAlamat = chart(topWithRest(byCount(blocks), 10));
  const paket = chart(
    [...tallies.kecepatan.entries()]
      .sort((a, b) => (a[0] ?? Infinity) - (b[0] ?? Infinity))
      .map(([k, v]) => [k === null ? 'Tanpa Paket' : `${k} Mbps`, v]),
  );
  const growth = chart(growthMonths.map((m) => [monthName(m), tallies.bulan.get(m) ?? 0]));
  const status = chart(
    (['Aktif', 'Isolir', 'Berhenti'] as const).map((s) => [
      s === 'Isolir' ? 'Suspended' : s,
      tallies.status.get(s) ?? 0,
    ]),
  );
  const loyalitas = chart(repo.SEGMENTS.map((s) => [SEGMENT_LABELS[s], segments[s]]));
  const count = (p: string, ...statuses: string[]) =>
    statuses.reduce((s, st) => s + (invoices.get(p)?.get(st) ?? 0), 0);
  const invoiceSummary = {
    labels: periods.map(monthName),
    total: periods.map((p) => count(p, 'Draft', 'Menunggu Pembayaran', 'Lunas', 'Jatuh Tempo')),
    lunas: periods.map((p) => count(p, 'Lunas')),
    menunggu: periods.map((p) => count(p, 'Draft', 'Menunggu Pembayaran')),
    kadaluarsa: periods.map((p) => count(p, 'Jatuh Tempo')),
  };
  const breakdown = [...brands.map((b) => b.id_brand), ...(revenue.has(null) ? [null] : [])].map((id) => ({
    id_brand: id,
    brand: nameOf(id),
    revenue: revenue.get(id) ?? 0,
  }));
  const card = (title: string, value: number, icon: string, color: string) => ({ title, value, icon, color });
  return {
    stat_cards: [
      card('Total Pelanggan', tallies.total, 'users', 'primary'),
      ...brands.map((b) => card(`Pelanggan ${b.brand}`, tallies.brand.get(b.id_brand) ?? 0, 'users', 'info')),
      card('Pelanggan Aktif', tallies.status.get('Aktif') ?? 0, 'user-check', 'success'),
      card('Pelanggan Isolir', tallies.status.get('Isolir') ?? 0, 'user-x', 'warning'),
    ],
    revenue_summary: {
      total: breakdown.reduce((s, b) => s + b.revenue, 0),
      periode: `${MONTHS[Number(periode.slice(5, 7)) - 1]} ${periode.slice(0, 4)}`,
      breakdown,
      outstanding: owed,
    },
    charts: [
      { id: 'lokasi', title: 'Pelanggan per Lokasi', ...lokasi },
      { id: 'paket', title: 'Pelanggan per Paket', ...paket },
      { id: 'growth', title: 'Pelanggan Baru per Bulan', ...growth },
      { id: 'status_langganan', title: 'Status Langganan', ...status },
      { id: 'pelanggan_per_alamat', title: 'Pelanggan per Alamat', ...perAlamat },
      { id: 'loyalitas_pembayaran', title: 'Loyalitas Pembayaran', ...loyalitas },
    ],
    lokasi_chart: lokasi,
    paket_chart: paket,
    growth_chart: growth,
    status_langganan_chart: status,
    pelanggan_per_alamat_chart: perAlamat,
    loyalitas_pembayaran_chart: loyalitas,
    invoice_summary_chart: invoiceSummary,
  };
}
