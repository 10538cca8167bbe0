// The demo-data generator: `loket billing seed --customers N --months M [--seed S]` fills an empty billing base with
// realistic customers (names, KTP, phones 08…, housing clusters with blok and unit, three brands and their packages,
// technical data with a unique address each, installations spread over the history and the two years before it,
// Aktif/Isolir/Berhenti) and M months of invoices up to this month, with the ledger journals the use-cases would
// have posted for them (issue, payment, cancellation), so the ledger balances and reports read real postings.
// Everything is set-based SQL (repo/seed.ts) in one transaction: all of it is written, or nothing.
import type { Core } from '../../../core/context.ts';
import { withTransaction } from '../../../core/db/transaction.ts';
import { AppError } from '../../../core/http/errors.ts';
import { postFromQuery } from '../../../core/ledger/ledger.ts';
import { jakartaDate } from '../dates.ts';
import * as repo from '../repo/seed.ts';

const BRANDS: repo.SeedBrand[] = [
  {
    id_brand: 'CITRANET',
    brand: 'Citra Net',
    pajak: 11,
    due_day: 10,
    invoice_days_before: 5,
    grace_days: 5,
    share: 50,
    packages: [
      { nama_paket: 'Citra Home 20Mbps', kecepatan: 20, harga: 166_500 },
      { nama_paket: 'Citra Home 50Mbps', kecepatan: 50, harga: 250_000 },
      { nama_paket: 'Citra Home 100Mbps', kecepatan: 100, harga: 400_000 },
      { nama_paket: 'Citra Gamer 300Mbps', kecepatan: 300, harga: 750_000 },
    ],
  },
  {
    id_brand: 'NUSAFIBER',
    brand: 'Nusa Fiber',
    pajak: 11,
    due_day: 5,
    invoice_days_before: 7,
    grace_days: 3,
    share: 30,
    packages: [
      { nama_paket: 'Nusa 30Mbps', kecepatan: 30, harga: 199_000 },
      { nama_paket: 'Nusa 75Mbps', kecepatan: 75, harga: 299_000 },
      { nama_paket: 'Nusa 150Mbps', kecepatan: 150, harga: 449_000 },
    ],
  },
  {
    id_brand: 'RTRWSEJAHTERA',
    brand: 'RT/RW Net Sejahtera',
    pajak: 0,
    due_day: 20,
    invoice_days_before: 5,
    grace_days: 7,
    share: 20,
    packages: [
      { nama_paket: 'Hemat 10Mbps', kecepatan: 10, harga: 110_000 },
      { nama_paket: 'Keluarga 25Mbps', kecepatan: 25, harga: 165_000 },
    ],
  },
];

const NAMES = {
  first: [
    'Budi',
    'Siti',
    'Agus',
    'Dewi',
    'Andi',
    'Sri',
    'Joko',
    'Rina',
    'Wahyu',
    'Nur',
    'Eko',
    'Fitri',
    'Hendra',
    'Ayu',
    'Rudi',
    'Indah',
    'Bambang',
    'Yuni',
    'Dedi',
    'Lestari',
    'Ahmad',
    'Putri',
    'Rizky',
    'Maya',
    'Fajar',
    'Ratna',
    'Hadi',
    'Wulan',
    'Arif',
    'Dian',
    'Teguh',
    'Intan',
    'Slamet',
    'Kartika',
    'Dimas',
    'Novi',
    'Yoga',
    'Anisa',
    'Bayu',
    'Sari',
    'Imam',
    'Rahmawati',
    'Gilang',
    'Mega',
    'Irfan',
    'Nabila',
    'Taufik',
    'Citra',
    'Reza',
    'Yanti',
  ],
  last: [
    'Santoso',
    'Wijaya',
    'Saputra',
    'Lestari',
    'Hidayat',
    'Pratama',
    'Kurniawan',
    'Setiawan',
    'Nugroho',
    'Susanto',
    'Wibowo',
    'Siregar',
    'Nasution',
    'Simanjuntak',
    'Hutapea',
    'Gunawan',
    'Purnomo',
    'Sulistyo',
    'Rahman',
    'Hakim',
    'Permana',
    'Firmansyah',
    'Kusuma',
    'Utomo',
    'Suryadi',
    'Halim',
    'Tanjung',
    'Harahap',
    'Lubis',
    'Sihombing',
    'Ramadhan',
    'Syahputra',
    'Maulana',
    'Anggraini',
    'Puspita',
    'Wulandari',
    'Handayani',
    'Suharto',
    'Prasetyo',
    'Yulianto',
  ],
};

const PLACES = {
  clusters: [
    'Perumahan Griya Asri',
    'Perumahan Bumi Indah',
    'Cluster Taman Sari',
    'Perumahan Puri Harmoni',
    'Perumahan Villa Mutiara',
    'Cluster Green Valley',
    'Perumahan Citra Raya',
    'Perumahan Graha Permai',
    'Perumahan Pondok Hijau',
    'Cluster Nusa Loka',
    'Perumahan Bukit Damai',
    'Perumahan Mekar Sari',
    'Perumahan Taman Cibodas',
    'Perumahan Kota Wisata',
    'Cluster Anggrek',
    'Perumahan Bintaro Jaya',
  ],
  streets: [
    'Jl. Melati',
    'Jl. Mawar',
    'Jl. Kenanga',
    'Jl. Anggrek',
    'Jl. Cempaka',
    'Jl. Flamboyan',
    'Jl. Dahlia',
    'Jl. Kamboja',
    'Jl. Teratai',
    'Jl. Seroja',
    'Jl. Nusa Indah',
    'Jl. Bougenville',
  ],
  domains: ['gmail.com', 'gmail.com', 'gmail.com', 'yahoo.co.id', 'yahoo.com', 'outlook.com', 'ymail.com'],
  prefixes: ['11', '12', '13', '21', '22', '23', '52', '53', '14', '15', '16', '55', '56', '57', '58', '77', '78'],
};

export interface SeedOptions {
  customers: number;
  months: number;
  seed: number;
}

function whole(options: Record<string, string>, name: string, min: number, max: number, fallback?: number): number {
  const raw = options[name];
  if (raw === undefined) {
    if (fallback !== undefined) return fallback;
    throw new AppError('VALIDATION_ERROR', `--${name} is required (a whole number from ${min} to ${max})`);
  }
  const n = /^\d{1,9}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= min && n <= max)) {
    throw new AppError('VALIDATION_ERROR', `--${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}

/** The command's options, checked (a wrong or unknown one is an error that names it). */
export function seedOptions(options: Record<string, string>): SeedOptions {
  const unknown = Object.keys(options).filter((k) => !['customers', 'months', 'seed'].includes(k));
  if (unknown.length > 0) throw new AppError('VALIDATION_ERROR', `unknown option --${unknown[0]}`);
  return {
    customers: whole(options, 'customers', 1, 2_000_000),
    months: whole(options, 'months', 1, 120),
    seed: whole(options, 'seed', 0, 999_999_999, 1),
  };
}

/** `count` periods (YYYY-MM) ending with the one `today` is in, oldest first. */
export function periodsUntil(today: string, count: number): string[] {
  const [y, m] = today.split('-').map(Number) as [number, number];
  return Array.from({ length: count }, (_, i) => new Date(Date.UTC(y, m - count + i, 1)).toISOString().slice(0, 7));
}

export interface SeedResult {
  customers: number;
  invoices: number;
  journals: number;
  seconds: number;
}

/**
 * Fills an empty billing base. A base that already has customers or invoices is refused and left as it is: the
 * generator writes a whole, consistent history (ids, invoice numbers, ledger) and does not mix it with real data.
 */
export async function seedBilling(
  core: Pick<Core, 'database' | 'now'>,
  opts: SeedOptions,
  out: (line: string) => void,
): Promise<SeedResult> {
  const { db } = core.database;
  const t0 = performance.now();
  const step = (what: string) => out(`${what} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  const now = core.now();
  const today = jakartaDate(now);
  const periods = periodsUntil(today, opts.months);
  const first = periods[0] ?? today.slice(0, 7);
  // Installations from two years before the history's first month up to yesterday.
  const installFrom = new Date(Date.UTC(Number(first.slice(0, 4)) - 2, Number(first.slice(5, 7)) - 1, 1))
    .toISOString()
    .slice(0, 10);
  const installTo = new Date(Date.parse(`${today}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
  return withTransaction(db, async (trx) => {
    const existing = await repo.billingRowCount(trx);
    if (existing.customers > 0 || existing.invoices > 0) {
      throw new AppError(
        'CONFLICT',
        `the billing base is not empty (${existing.customers} customers, ${existing.invoices} invoices): the generator only fills an empty one; use a fresh database`,
      );
    }
    const packages = await repo.ensureCatalogue(trx, BRANDS, now);
    await repo.insertCustomers(trx, {
      count: opts.customers,
      seed: opts.seed,
      installFrom,
      installTo,
      periods,
      brands: BRANDS.map((b, i) => ({ id_brand: b.id_brand, share: b.share, packages: packages[i] ?? [] })),
      names: NAMES,
      places: PLACES,
    });
    step(`${opts.customers} customers and their technical data`);
    await repo.insertInvoices(trx, { seed: opts.seed, periods, today, now });
    const invoices = (await repo.billingRowCount(trx)).invoices;
    step(`${invoices} invoices over ${periods[0]}…${periods.at(-1)}`);
    let journals = 0;
    for (const periode of periods) {
      const postings = repo.historyPostings(periode);
      journals += (await postFromQuery(trx, 'billing.invoice', postings.issue)).posted;
      journals += (await postFromQuery(trx, 'billing.payment', postings.payment)).posted;
      journals += (await postFromQuery(trx, 'billing.cancel', postings.cancel)).posted;
    }
    step(`${journals} ledger journals`);
    return { customers: opts.customers, invoices, journals, seconds: (performance.now() - t0) / 1000 };
  });
}
