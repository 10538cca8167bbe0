// SQL for the demo-data generator (`loket billing seed`): customers, technical data and invoice history written with
// a handful of INSERT … SELECT statements over generate_series, whatever the size. Every random choice is a hash of
// (row, purpose) under the seed (`hashtextextended`, stable across PostgreSQL versions: hash partitioning relies on
// it), so one seed and one day give the same base. Work tables are temporary and dropped at commit.
import { type RawBuilder, sql } from 'kysely';
import type { Executor } from '../../../core/db/tables.ts';
import { ACCOUNTS, PPN_PAYABLE, REVENUE } from '../ledger.ts';

/** A non-negative pseudo-random integer (0…2^31-1) for `key` and `purpose` under `seed`. */
const hash = (key: RawBuilder<unknown>, purpose: string, seed: number) =>
  sql<number>`(hashtextextended(${key}::text || ${`:${purpose}`}::text, ${seed}::bigint) & 2147483647)::int`;

/** One of `values`, chosen by `h`. */
const pick = (values: readonly string[], h: RawBuilder<number>) =>
  sql<string>`(${values}::text[])[1 + ${h} % ${values.length}]`;

export async function billingRowCount(db: Executor): Promise<{ customers: number; invoices: number }> {
  const r = await sql<{ customers: number; invoices: number }>`
    SELECT (SELECT count(*) FROM billing_customers)::int AS customers,
           (SELECT count(*) FROM billing_invoices)::int AS invoices`.execute(db);
  return r.rows[0] ?? { customers: 0, invoices: 0 };
}

export interface SeedBrand {
  id_brand: string;
  brand: string;
  pajak: number;
  due_day: number;
  invoice_days_before: number;
  grace_days: number;
  /** Share of customers, percent. */
  share: number;
  packages: { nama_paket: string; kecepatan: number; harga: number }[];
}

/** The brands and their packages (kept when they exist); answers package ids per brand, in the given order. */
export async function ensureCatalogue(db: Executor, brands: SeedBrand[], now: Date): Promise<number[][]> {
  const out: number[][] = [];
  for (const b of brands) {
    await db
      .insertInto('billing_brands')
      .values({
        id_brand: b.id_brand,
        brand: b.brand,
        pajak: b.pajak,
        xendit_key_name: b.id_brand,
        due_day: b.due_day,
        invoice_days_before: b.invoice_days_before,
        grace_days: b.grace_days,
        isolation_profile: 'ISOLIR',
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('id_brand').doNothing())
      .execute();
    const ids: number[] = [];
    for (const p of b.packages) {
      const found = await db
        .selectFrom('billing_packages')
        .select('id')
        .where('id_brand', '=', b.id_brand)
        .where(sql`lower(nama_paket)`, '=', p.nama_paket.toLowerCase())
        .executeTakeFirst();
      const row =
        found ??
        (await db
          .insertInto('billing_packages')
          .values({ id_brand: b.id_brand, ...p, profile_pppoe: `${p.kecepatan}Mbps`, created_at: now, updated_at: now })
          .returning('id')
          .executeTakeFirstOrThrow());
      ids.push(row.id);
    }
    out.push(ids);
  }
  return out;
}

export interface CustomerPlan {
  count: number;
  seed: number;
  /** First and last day an installation may fall on (YYYY-MM-DD). */
  installFrom: string;
  installTo: string;
  /** The periods of history (YYYY-MM), oldest first. */
  periods: string[];
  /** Package ids of each brand and the brand's share of customers (percent, summing to 100). */
  brands: { id_brand: string; share: number; packages: number[] }[];
  names: { first: readonly string[]; last: readonly string[] };
  places: {
    clusters: readonly string[];
    streets: readonly string[];
    domains: readonly string[];
    prefixes: readonly string[];
  };
}

/**
 * Customers 1…count (ids taken as given: the base is empty) and their technical data. Status: 85 % Aktif, 7 % Isolir,
 * 8 % Berhenti (from a period after installation: `seed_customers.stop_idx`, the first period not billed).
 */
export async function insertCustomers(db: Executor, p: CustomerPlan): Promise<void> {
  const { seed } = p;
  const g = sql`g`;
  const h = (purpose: string) => hash(g, purpose, seed);
  // Brand by share: the brand whose cumulative share passes the customer's draw.
  const cumulative = p.brands.map((_, i) => p.brands.slice(0, i + 1).reduce((s, b) => s + b.share, 0));
  const brandNo = sql<number>`(SELECT min(i) FROM unnest(${cumulative}::int[]) WITH ORDINALITY AS s (c, i) WHERE ${h('brand')} % 100 < c)`;
  const months = p.periods.length;
  const catalogue = p.brands.flatMap((b, i) =>
    b.packages.map((id, k) => ({ brand: i + 1, pkg: k + 1, id, idBrand: b.id_brand, n: b.packages.length })),
  );
  await sql`CREATE TEMP TABLE seed_packages ON COMMIT DROP AS
    SELECT * FROM unnest(${catalogue.map((c) => c.brand)}::int[], ${catalogue.map((c) => c.pkg)}::int[],
                         ${catalogue.map((c) => c.id)}::int[], ${catalogue.map((c) => c.idBrand)}::text[],
                         ${catalogue.map((c) => c.n)}::int[]) AS s (brand_no, pkg_no, id, id_brand, n)`.execute(db);
  await sql`CREATE TEMP TABLE seed_customers ON COMMIT DROP AS
    SELECT r.*,
           CASE WHEN r.status = 'Berhenti' THEN
             -- the first period not billed: after the month of installation, within the history
             greatest(r.install_idx + 1, 1) + r.h_stop % greatest(${months}::int - greatest(r.install_idx + 1, 1) + 1, 1)
           END AS stop_idx
      FROM (
        SELECT g AS id, ${brandNo} AS brand_no,
               ${pick(p.names.first, h('first'))} AS first, ${pick(p.names.last, h('last'))} AS last,
               ${p.installFrom}::date + (${h('installed')} % (${p.installTo}::date - ${p.installFrom}::date + 1))::int
                 AS tanggal_instalasi,
               CASE WHEN ${h('status')} % 100 < 85 THEN 'Aktif' WHEN ${h('status')} % 100 < 92 THEN 'Isolir'
                    ELSE 'Berhenti' END AS status,
               ${h('package')} AS h_package, ${h('stop')} AS h_stop, ${h('phone')} AS h_phone,
               ${h('address')} AS h_address, ${h('ktp')} AS h_ktp, ${h('tech')} AS h_tech
          FROM generate_series(1, ${p.count}::int) AS g
      ) r0
      CROSS JOIN LATERAL (
        SELECT r0.*,
               -- 1-based index of the installation month among the periods (0 or less: before the history)
               (extract(year FROM r0.tanggal_instalasi)::int * 12 + extract(month FROM r0.tanggal_instalasi)::int)
                 - ${Number(p.periods[0]?.slice(0, 4)) * 12 + Number(p.periods[0]?.slice(5, 7))}::int + 1 AS install_idx
      ) r`.execute(db);
  await sql`ANALYZE seed_customers`.execute(db);
  // Popular packages first: the cheaper ones are chosen more often (0,0,0,1,1,1,1,2,2,3 of ten).
  await sql`
    INSERT INTO billing_customers (id, nama, no_ktp, email, no_telp, alamat, alamat_2, blok, unit, tanggal_instalasi,
                                   id_brand, paket_layanan_id, status, created_at, updated_at)
    SELECT c.id, c.first || ' ' || c.last,
           (${pick(['31', '32', '36', '35', '33', '51'], sql`c.h_ktp`)}) || lpad((c.h_ktp % 10000)::text, 4, '0')
             || to_char(date '1960-01-01' + (c.h_ktp % 16000)::int, 'DDMMYY') || lpad((c.id % 10000)::text, 4, '0'),
           lower(c.first) || '.' || lower(c.last) || c.id || '@' || ${pick(p.places.domains, sql`c.h_address`)},
           '08' || ${pick(p.places.prefixes, sql`c.h_phone`)} || lpad((c.h_phone % 100000000)::text, 8, '0'),
           ${pick(p.places.clusters, sql`(c.h_address / 7)`)},
           ${pick(p.places.streets, sql`(c.h_address / 131)`)} || ' No. ' || (1 + c.h_address % 150),
           chr(65 + (c.h_address / 17) % 8) || (1 + (c.h_address / 3) % 20), (1 + c.h_address % 40)::text,
           c.tanggal_instalasi, s.id_brand, s.id, c.status,
           (c.tanggal_instalasi + time '02:00') AT TIME ZONE 'UTC', (c.tanggal_instalasi + time '02:00') AT TIME ZONE 'UTC'
      FROM seed_customers c
      JOIN seed_packages s ON s.brand_no = c.brand_no
       AND s.pkg_no = 1 + least((ARRAY[0, 0, 0, 1, 1, 1, 1, 2, 2, 3])[1 + c.h_package % 10], s.n - 1)
     ORDER BY c.id`.execute(db);
  // Addresses 10.16.0.2 upwards, 250 to a /24: unique for the router pool they share.
  await sql`
    INSERT INTO billing_technical_data (pelanggan_id, mikrotik_server_id, ip_pelanggan, vlan, id_pelanggan,
                                        profile_pppoe, sn_ont, port_odp, port_olt, olt, pon, odc, odp_id, onu_power,
                                        status, created_at, updated_at)
    SELECT c.id, NULL,
           '10.' || (16 + (c.id - 1) / 64000) || '.' || ((c.id - 1) / 250 % 256) || '.' || ((c.id - 1) % 250 + 2),
           100 * c.brand_no + c.h_tech % 50, lower(cu.id_brand) || '-' || lpad(c.id::text, 6, '0'),
           CASE WHEN c.status = 'Isolir' THEN 'ISOLIR' ELSE pk.profile_pppoe END,
           'ZTEG' || upper(lpad(to_hex(c.h_tech), 8, '0')), (1 + c.h_tech % 16)::text,
           '1/1/' || (1 + c.h_tech / 16 % 16), 'OLT-' || upper(split_part(cu.alamat, ' ', 2)),
           (1 + c.h_tech / 16 % 16)::text, 'ODC-' || (1 + c.h_tech / 256 % 12),
           'ODP-' || cu.blok || '-' || (1 + c.h_tech / 4096 % 8), -(15 + (c.h_tech / 65536 % 120) / 10.0),
           c.status, cu.created_at, cu.created_at
      FROM seed_customers c
      JOIN billing_customers cu ON cu.id = c.id
      JOIN billing_packages pk ON pk.id = cu.paket_layanan_id
     ORDER BY c.id`.execute(db);
  for (const table of ['billing_customers', 'billing_technical_data']) {
    await sql`SELECT setval(pg_get_serial_sequence(${table}, 'id'), (SELECT max(id) FROM ${sql.table(table)}))`.execute(
      db,
    );
  }
}

export interface HistoryPlan {
  seed: number;
  periods: string[];
  /** Today in UTC+7 (YYYY-MM-DD): nothing is issued after it, and unpaid invoices due before it are overdue. */
  today: string;
  now: Date;
}

/**
 * Invoices of every period since installation (the first one prorated by days, as recurring billing does), until a
 * stopped customer's last period, issued on the brand's schedule and not after today. Their fate, per invoice:
 * 2.5 % cancelled, 4.5 % unpaid, 13 % paid after the due date, the rest paid between issue and due date; an Isolir
 * customer leaves the last two periods unpaid; a payment or cancellation that would fall after now has not
 * happened yet. Numbers INV-{YYYY}-{NNN} in order of issue, after the year's counter, which is moved past them.
 */
export async function insertInvoices(db: Executor, p: HistoryPlan): Promise<void> {
  const { seed } = p;
  const key = sql`(i.pelanggan_id || '/' || i.periode)`;
  const h = (purpose: string) => hash(key, purpose, seed);
  const last = p.periods.length;
  await sql`CREATE TEMP TABLE seed_invoices ON COMMIT DROP AS
    WITH periods AS (
      SELECT periode, o::int AS idx, to_date(periode || '-01', 'YYYY-MM-DD') AS first_day
        FROM unnest(${p.periods}::text[]) WITH ORDINALITY AS x (periode, o)
    ),
    base AS (
      SELECT c.id AS pelanggan_id, cu.id_brand, c.status, c.tanggal_instalasi AS installed, pr.periode, pr.idx,
             pk.nama_paket, pk.harga, b.pajak,
             extract(day FROM pr.first_day + interval '1 month' - interval '1 day')::int AS days,
             (pr.first_day + (b.due_day - 1))::date AS scheduled, b.invoice_days_before,
             to_char(c.tanggal_instalasi, 'YYYY-MM') = pr.periode AS first_month
        FROM seed_customers c
        JOIN billing_customers cu ON cu.id = c.id
        JOIN billing_packages pk ON pk.id = cu.paket_layanan_id
        JOIN billing_brands b ON b.id_brand = cu.id_brand
        JOIN periods pr ON pr.idx >= c.install_idx AND (c.stop_idx IS NULL OR pr.idx < c.stop_idx)
    ),
    priced AS (
      SELECT *,
             CASE WHEN first_month
                  THEN round(harga::numeric * (days - extract(day FROM installed)::int + 1) / days)::bigint
                  ELSE harga END AS subtotal,
             greatest(scheduled - invoice_days_before, installed) AS issued
        FROM base
    ),
    dated AS (
      SELECT i.*, greatest(i.scheduled, i.issued) AS due, round(i.subtotal * i.pajak / 100)::bigint AS ppn,
             ${h('fate')} % 1000 AS fate, ${h('time')} AS t
        FROM priced i
       WHERE i.issued <= ${p.today}::date AND i.subtotal > 0
    ),
    fated AS (
      SELECT d.*,
             CASE WHEN d.status = 'Isolir' AND d.idx >= ${last - 1}::int THEN NULL
                  WHEN d.fate < 25 THEN NULL
                  WHEN d.fate < 70 THEN NULL
                  WHEN d.fate < 200 THEN (d.due + 1 + (d.t % 25)::int + time '01:00') AT TIME ZONE 'UTC'
                                         + make_interval(hours => (d.t / 25 % 11)::int)
                  ELSE (d.issued + (d.t % (d.due - d.issued + 1))::int + time '01:00') AT TIME ZONE 'UTC'
                       + make_interval(hours => (d.t / 25 % 11)::int)
             END AS paid,
             CASE WHEN d.fate < 25 AND NOT (d.status = 'Isolir' AND d.idx >= ${last - 1}::int)
                  THEN (d.issued + 2 + time '03:00') AT TIME ZONE 'UTC' END AS cancelled
        FROM dated d
    ),
    settled AS (
      SELECT f.*,
             CASE WHEN f.paid <= ${p.now}::timestamptz THEN f.paid END AS paid_at,
             CASE WHEN f.cancelled <= ${p.now}::timestamptz THEN f.cancelled END AS cancelled_at,
             (f.issued + time '01:00') AT TIME ZONE 'UTC' AS created
        FROM fated f
    ),
    numbered AS (
      SELECT s.*,
             row_number() OVER (ORDER BY s.issued, s.pelanggan_id) AS n,
             extract(year FROM s.issued)::int AS year,
             row_number() OVER (PARTITION BY extract(year FROM s.issued) ORDER BY s.issued, s.pelanggan_id) AS seq
        FROM settled s
    )
    SELECT n.pelanggan_id, n.id_brand, n.periode, n.issued, n.due, n.subtotal, n.pajak, n.ppn,
           n.subtotal + n.ppn AS total, n.nama_paket, n.first_month, n.paid_at, n.cancelled_at, n.created, n.year,
           (SELECT coalesce(max(id), 0) FROM billing_invoices) + n.n AS id,
           'INV-' || n.year || '-' || lpad(x.num::text, greatest(3, length(x.num::text)), '0') AS nomor,
           x.num,
           CASE WHEN n.paid_at IS NOT NULL THEN 'Lunas' WHEN n.cancelled_at IS NOT NULL THEN 'Dibatalkan'
                WHEN n.due < ${p.today}::date THEN 'Jatuh Tempo' ELSE 'Menunggu Pembayaran' END AS status,
           CASE WHEN n.paid_at IS NULL THEN NULL WHEN n.t % 10 < 6 THEN 'Xendit' WHEN n.t % 10 < 9 THEN 'Transfer'
                ELSE 'Tunai' END AS metode
      FROM numbered n
      CROSS JOIN LATERAL (
        SELECT n.seq + coalesce((SELECT last FROM billing_invoice_counters WHERE year = n.year), 0) AS num
      ) x`.execute(db);
  await sql`ANALYZE seed_invoices`.execute(db);
  await sql`
    INSERT INTO billing_invoices (id, nomor_invoice, pelanggan_id, id_brand, periode, tanggal_invoice,
                                  tanggal_jatuh_tempo, subtotal, ppn_percent, ppn, total_harga, status_invoice,
                                  metode_pembayaran, paid_at, created_at, updated_at)
    SELECT id, nomor, pelanggan_id, id_brand, periode, issued, due, subtotal, pajak, ppn, total, status, metode,
           paid_at, created, coalesce(paid_at, cancelled_at, created)
      FROM seed_invoices ORDER BY id`.execute(db);
  await sql`
    INSERT INTO billing_invoice_items (invoice_id, deskripsi, jumlah, harga)
    SELECT id, nama_paket || ' ' || periode || CASE WHEN first_month THEN ' (prorata)' ELSE '' END, 1, subtotal
      FROM seed_invoices ORDER BY id`.execute(db);
  await sql`
    INSERT INTO billing_invoice_counters (year, last)
    SELECT year, max(num) FROM seed_invoices GROUP BY year
    ON CONFLICT (year) DO UPDATE SET last = greatest(billing_invoice_counters.last, excluded.last)`.execute(db);
  for (const table of ['billing_invoices', 'billing_invoice_items']) {
    await sql`SELECT setval(pg_get_serial_sequence(${table}, 'id'), (SELECT max(id) FROM ${sql.table(table)}))`.execute(
      db,
    );
  }
}

/**
 * The postings the invoice use-cases would have made for `periode`'s invoices, as bulk journals: the issue of every
 * one (cancelled ones too), then the payments, then the cancellations (billing/ledger.ts has the signs).
 */
export function historyPostings(periode: string) {
  const receivable = sql`${ACCOUNTS.receivablePrefix} || i.pelanggan_id`;
  const rk = ACCOUNTS.receivableKind;
  const { xendit, manual } = ACCOUNTS.cash;
  return {
    issue: sql`
      SELECT i.id, i.created, x.code, x.kind, x.amount FROM seed_invoices i
      CROSS JOIN LATERAL (VALUES (${receivable}, ${rk}, -i.total), (${REVENUE.code}, ${REVENUE.kind}, i.subtotal),
                                 (${PPN_PAYABLE.code}, ${PPN_PAYABLE.kind}, i.ppn)) AS x (code, kind, amount)
      WHERE i.periode = ${periode} AND x.amount <> 0`,
    payment: sql`
      SELECT i.id, i.paid_at, x.code, x.kind, x.amount FROM seed_invoices i
      CROSS JOIN LATERAL (VALUES (CASE WHEN i.metode = 'Xendit' THEN ${xendit.code} ELSE ${manual.code} END,
                                  ${xendit.kind}, -i.total), (${receivable}, ${rk}, i.total)) AS x (code, kind, amount)
      WHERE i.periode = ${periode} AND i.paid_at IS NOT NULL`,
    cancel: sql`
      SELECT i.id, i.cancelled_at, x.code, x.kind, x.amount FROM seed_invoices i
      CROSS JOIN LATERAL (VALUES (${receivable}, ${rk}, i.total), (${REVENUE.code}, ${REVENUE.kind}, -i.subtotal),
                                 (${PPN_PAYABLE.code}, ${PPN_PAYABLE.kind}, -i.ppn)) AS x (code, kind, amount)
      WHERE i.periode = ${periode} AND i.cancelled_at IS NOT NULL AND x.amount <> 0`,
  };
}
