// Request and response shapes of the billing module (seed 003 and its original web frontend).
import { Type } from 'typebox';
import { OrNull } from '../../core/http/types.ts';
import { PHONE_INPUT_PATTERN } from '../../core/phone.ts';

const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });

export const IdBrand = Type.String({
  pattern: '^\\s*[A-Za-z0-9_-]{1,50}\\s*$',
  description: 'the brand code, e.g. JAKINET (letters, digits, dash, underscore)',
});

export const BrandSchema = Type.Object({
  id_brand: Type.String(),
  brand: Type.String(),
  pajak: Type.Number({ description: 'PPN, percent' }),
  xendit_key_name: Type.Union([Type.String(), Type.Null()]),
  due_day: Type.Integer({ description: 'day of the month invoices fall due' }),
  invoice_days_before: Type.Integer({ description: 'days before the due day an invoice is generated' }),
  grace_days: Type.Integer({ description: 'days after the due day before a customer is isolated' }),
  isolation_profile: Type.String({ description: 'PPPoE profile of an isolated customer' }),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

const rules = {
  pajak: Type.Number({ minimum: 0, maximum: 100 }),
  xendit_key_name: OrNull(Type.String({ maxLength: 50, pattern: '^[A-Za-z0-9_]*$' })),
  due_day: Type.Integer({ minimum: 1, maximum: 28 }),
  invoice_days_before: Type.Integer({ minimum: 0, maximum: 28 }),
  grace_days: Type.Integer({ minimum: 0, maximum: 60 }),
  isolation_profile: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' }),
};

const BrandRules = Type.Partial(Type.Object(rules));

export const BrandCreate = Type.Object({ id_brand: IdBrand, brand: Name, ...BrandRules.properties });
export const BrandUpdate = Type.Object({ brand: Type.Optional(Name), ...BrandRules.properties });

export const BrandParams = Type.Object({ id_brand: IdBrand });

/** The frontend's list paging: a `limit` above the maximum is clamped, not refused (CONTRACTS §4). */
export const ListQuery = Type.Object({
  skip: Type.Integer({ minimum: 0, default: 0 }),
  limit: Type.Integer({ minimum: 1, default: 100 }),
});

export const MAX_LIMIT = 100;

// ---- packages (paket_layanan) ------------------------------------------------------------------------------------

export const PackageSchema = Type.Object({
  id: Type.Integer(),
  id_brand: Type.String(),
  nama_paket: Type.String(),
  kecepatan: Type.Integer({ description: 'Mbps' }),
  harga: Type.Integer({ description: 'rupiah a month, before PPN' }),
  profile_pppoe: Type.Union([Type.String(), Type.Null()], { description: 'the PPPoE profile on the router' }),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

const Profile = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' });
const packageRules = {
  nama_paket: Name,
  kecepatan: Type.Integer({ minimum: 1, maximum: 100_000 }),
  harga: Type.Integer({ minimum: 0, maximum: 1_000_000_000 }),
  profile_pppoe: OrNull(Profile),
};

export const PackageCreate = Type.Object({
  id_brand: IdBrand,
  nama_paket: packageRules.nama_paket,
  kecepatan: packageRules.kecepatan,
  harga: packageRules.harga,
  profile_pppoe: Type.Optional(packageRules.profile_pppoe),
});

export const PackageUpdate = Type.Partial(PackageCreate);

export const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) });

export const PackageQuery = Type.Object({
  skip: Type.Integer({ minimum: 0, default: 0 }),
  limit: Type.Integer({ minimum: 1, default: 100 }),
  id_brand: Type.Optional(Type.String({ maxLength: 50 })),
});

// ---- customers (pelanggan) ---------------------------------------------------------------------------------------

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => OrNull(t);
const DateOnly = Type.String({ format: 'date', description: 'YYYY-MM-DD' });
const Phone = Type.String({
  pattern: PHONE_INPUT_PATTERN,
  description: '08…, 628… or +628…; spaces and dashes allowed',
});
export const CUSTOMER_STATUS = ['Aktif', 'Isolir', 'Berhenti'] as const;
const CustomerStatus = Type.Union(CUSTOMER_STATUS.map((s) => Type.Literal(s)));

export const HargaLayanan = Type.Object(
  {
    id: Type.Integer(),
    nama_paket: Type.String(),
    harga: Type.Integer(),
    kecepatan: Type.Integer(),
    id_brand: Type.Union([Type.String(), Type.Null()]),
    brand: Type.Union([Type.String(), Type.Null()]),
    pajak: Type.Number(),
    xendit_key_name: Type.Union([Type.String(), Type.Null()]),
  },
  { description: "the customer's package with its brand (the original frontend reads both from here)" },
);

const customerFields = {
  id: Type.Integer(),
  nama: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  no_telp: Type.Union([Type.String(), Type.Null()]),
  no_ktp: Type.Union([Type.String(), Type.Null()]),
  alamat: Type.Union([Type.String(), Type.Null()]),
  alamat_2: Type.Union([Type.String(), Type.Null()]),
  blok: Type.Union([Type.String(), Type.Null()]),
  unit: Type.Union([Type.String(), Type.Null()]),
  tanggal_instalasi: Type.Union([Type.String(), Type.Null()]),
  tgl_instalasi: Type.Union([Type.String(), Type.Null()], { description: "the original frontend's name" }),
  id_brand: Type.Union([Type.String(), Type.Null()]),
  paket_layanan_id: Type.Union([Type.Integer(), Type.Null()]),
  layanan: Type.Union([Type.String(), Type.Null()], { description: 'the package name' }),
  status: Type.String(),
  harga_layanan: Type.Union([HargaLayanan, Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
};

export const CustomerSchema = Type.Object({
  ...customerFields,
  data_teknis: Type.Optional(
    Type.Union([Type.Unknown(), Type.Null()], { description: 'the technical data (detail only)' }),
  ),
});

/** A list row: every field, or the ones `fields` asked for (the id always). */
export const CustomerListItem = Type.Partial(Type.Object(customerFields));

export const CustomerList = Type.Object({
  data: Type.Array(CustomerListItem),
  total_count: Type.Integer(),
  skip: Type.Integer(),
  limit: Type.Integer(),
});

const customerInput = {
  email: Type.Optional(OrNull(Type.String({ format: 'email', maxLength: 320 }))),
  no_telp: Type.Optional(OrNull(Phone)),
  no_ktp: Type.Optional(OrNull(Type.String({ pattern: '^[0-9]{16}$', description: '16 digits' }))),
  alamat: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
  alamat_2: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
  blok: Type.Optional(Nullable(Type.String({ maxLength: 50 }))),
  unit: Type.Optional(Nullable(Type.String({ maxLength: 50 }))),
  tanggal_instalasi: Type.Optional(OrNull(DateOnly)),
  tgl_instalasi: Type.Optional(Type.Union([DateOnly, Type.Null()], { description: 'alias of tanggal_instalasi' })),
  id_brand: Type.Optional(OrNull(IdBrand)),
  paket_layanan_id: Type.Optional(OrNull(Type.Integer({ minimum: 1, maximum: 2_147_483_647 }))),
  layanan: Type.Optional(
    Type.Union([Type.String({ maxLength: 100 }), Type.Null()], { description: 'the package by name (alias)' }),
  ),
  status: Type.Optional(CustomerStatus),
};

export const CustomerCreate = Type.Object({ nama: Name, ...customerInput });
export const CustomerUpdate = Type.Object({ nama: Type.Optional(Name), ...customerInput });

export const CustomerQuery = Type.Object({
  skip: Type.Integer({ minimum: 0, default: 0 }),
  limit: Type.Integer({ minimum: 1, default: 15 }),
  search: Type.Optional(
    Type.String({
      maxLength: 100,
      description: 'in nama, email and no_telp; a phone number also as 628…, +628…, with spaces or dashes',
    }),
  ),
  alamat: Type.Optional(Type.String({ maxLength: 500, description: 'exact address' })),
  id_brand: Type.Optional(Type.String({ maxLength: 50 })),
  status: Type.Optional(CustomerStatus),
  fields: Type.Optional(Type.String({ maxLength: 500, description: 'comma-separated fields to return' })),
  for_invoice_selection: Type.Optional(Type.Boolean({ description: 'every row, id and name only' })),
});

// ---- technical data (data_teknis) --------------------------------------------------------------------------------

const Short = (max: number) => Type.String({ maxLength: max });
/** The original frontend sends these as numbers after editing, the document as text. */
const NumberOrText = (max: number) => Type.Union([Type.String({ maxLength: max }), Type.Number()]);
const IPv4 = Type.String({ format: 'ipv4', description: 'dotted IPv4 address' });
const Vlan = Type.Integer({ minimum: 1, maximum: 4094 });

export const TechnicalSchema = Type.Object({
  id: Type.Integer(),
  pelanggan_id: Type.Integer(),
  mikrotik_server_id: Type.Union([Type.Integer(), Type.Null()]),
  ip_pelanggan: Type.Union([Type.String(), Type.Null()]),
  vlan: Type.Union([Type.Integer(), Type.Null()]),
  id_vlan: Type.Union([Type.Integer(), Type.Null()], { description: 'alias of vlan' }),
  id_pelanggan: Type.Union([Type.String(), Type.Null()], { description: 'the PPPoE secret name' }),
  password_pppoe: Type.Null({ description: 'write-only: always null when read' }),
  profile_pppoe: Type.Union([Type.String(), Type.Null()]),
  sn_ont: Type.Union([Type.String(), Type.Null()]),
  sn: Type.Union([Type.String(), Type.Null()], { description: 'alias of sn_ont' }),
  port_odp: Type.Union([Type.String(), Type.Null()]),
  port_olt: Type.Union([Type.String(), Type.Null()]),
  olt: Type.Union([Type.String(), Type.Null()]),
  olt_custom: Type.Union([Type.String(), Type.Null()]),
  pon: Type.Union([Type.String(), Type.Null()]),
  otb: Type.Union([Type.String(), Type.Null()]),
  odc: Type.Union([Type.String(), Type.Null()]),
  odp_id: Type.Union([Type.String(), Type.Null()]),
  onu_power: Type.Union([Type.Number(), Type.Null()]),
  speedtest_proof: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

const technicalInput = {
  mikrotik_server_id: Type.Optional(OrNull(Type.Integer({ minimum: 1, maximum: 2_147_483_647 }))),
  ip_pelanggan: Type.Optional(OrNull(IPv4)),
  vlan: Type.Optional(OrNull(Vlan)),
  id_vlan: Type.Optional(OrNull(Vlan)),
  id_pelanggan: Type.Optional(OrNull(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.@-]+$' }))),
  password_pppoe: Type.Optional(OrNull(Type.String({ minLength: 1, maxLength: 128 }))),
  profile_pppoe: Type.Optional(OrNull(Profile)),
  sn_ont: Type.Optional(OrNull(Short(64))),
  sn: Type.Optional(Type.Union([Short(64), Type.Null()], { description: 'alias of sn_ont' })),
  port_odp: Type.Optional(Type.Union([NumberOrText(64), Type.Null()])),
  port_olt: Type.Optional(OrNull(Short(64))),
  olt: Type.Optional(OrNull(Short(100))),
  olt_custom: Type.Optional(OrNull(Short(100))),
  pon: Type.Optional(Type.Union([NumberOrText(32), Type.Null()])),
  otb: Type.Optional(Type.Union([NumberOrText(32), Type.Null()])),
  odc: Type.Optional(Type.Union([NumberOrText(32), Type.Null()])),
  odp_id: Type.Optional(OrNull(Short(64))),
  onu_power: Type.Optional(OrNull(Type.Number({ minimum: -100, maximum: 100 }))),
  speedtest_proof: Type.Optional(OrNull(Short(500))),
  status: Type.Optional(Short(20)),
};

export const TechnicalCreate = Type.Object({
  pelanggan_id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }),
  ...technicalInput,
});
export const TechnicalUpdate = Type.Object({
  pelanggan_id: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647 })),
  ...technicalInput,
});

export const TechnicalQuery = Type.Object({
  skip: Type.Integer({ minimum: 0, default: 0 }),
  limit: Type.Integer({ minimum: 1, default: 15 }),
  search: Type.Optional(Type.String({ maxLength: 100 })),
  olt: Type.Optional(Type.String({ maxLength: 100 })),
  profile: Type.Optional(Type.String({ maxLength: 64 })),
  vlan: Type.Optional(Vlan),
  onu_power_min: Type.Optional(Type.Number()),
  onu_power_max: Type.Optional(Type.Number()),
});

export const TechnicalList = Type.Object({
  data: Type.Array(TechnicalSchema),
  total_count: Type.Integer(),
  skip: Type.Integer(),
  limit: Type.Integer(),
});

export const CustomerIdParams = Type.Object({ pelanggan_id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) });

// ---- invoices ----------------------------------------------------------------------------------------------------

export const Periode = Type.String({ pattern: '^[0-9]{4}-(0[1-9]|1[0-2])$', description: 'YYYY-MM' });

const InvoiceItemSchema = Type.Object({
  deskripsi: Type.String({ minLength: 1, maxLength: 255, pattern: '\\S' }),
  jumlah: Type.Integer({ minimum: 1, maximum: 10_000 }),
  harga: Type.Integer({ minimum: 0, maximum: 1_000_000_000 }),
});

export const InvoiceSchema = Type.Object({
  id: Type.Integer(),
  nomor_invoice: Type.String(),
  invoice_number: Type.String({ description: 'alias of nomor_invoice' }),
  pelanggan_id: Type.Integer(),
  id_pelanggan: Type.Integer({ description: 'alias of pelanggan_id' }),
  pelanggan_nama: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  no_telp: Type.Union([Type.String(), Type.Null()]),
  id_brand: Type.Union([Type.String(), Type.Null()]),
  periode: Type.String(),
  tanggal_invoice: Type.String(),
  tgl_invoice: Type.String(),
  tanggal_jatuh_tempo: Type.String(),
  tgl_jatuh_tempo: Type.String(),
  subtotal: Type.Integer(),
  ppn_percent: Type.Number(),
  ppn: Type.Integer(),
  total_harga: Type.Integer(),
  status_invoice: Type.String(),
  payment_link: Type.Union([Type.String(), Type.Null()]),
  payment_reference: Type.Union([Type.String(), Type.Null()], { description: "the current link's payment reference" }),
  payment_link_status: Type.String({ description: "the link's state in the original's words" }),
  metode_pembayaran: Type.Union([Type.String(), Type.Null()]),
  paid_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  items: Type.Array(InvoiceItemSchema),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

export const InvoiceCreate = Type.Object({
  pelanggan_id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }),
  periode: Periode,
  tanggal_invoice: Type.Optional(DateOnly),
  tanggal_jatuh_tempo: Type.Optional(DateOnly),
  items: Type.Array(InvoiceItemSchema, { minItems: 1, maxItems: 100 }),
  status_invoice: Type.Optional(Type.Union([Type.Literal('Draft'), Type.Literal('Menunggu Pembayaran')])),
});

/** The statuses a client may filter by: the document's, and the original frontend's words. */
export const InvoiceQuery = Type.Object({
  skip: Type.Integer({ minimum: 0, default: 0 }),
  limit: Type.Integer({ minimum: 1, default: 15 }),
  pelanggan_id: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647 })),
  status_invoice: Type.Optional(Type.String({ maxLength: 30 })),
  periode: Type.Optional(Periode),
  search: Type.Optional(Type.String({ maxLength: 100 })),
  start_date: Type.Optional(DateOnly),
  end_date: Type.Optional(DateOnly),
});

/** How a payment was made (any text); null, as a client sends an empty field (CONTRACTS §6), is the default, Tunai. */
const PaymentMethod = Type.Optional(
  OrNull(Type.String({ minLength: 1, maxLength: 50, description: 'null or left out: Tunai' })),
);

export const InvoiceStatusChange = Type.Object({
  status_invoice: Type.Union(['Menunggu Pembayaran', 'Lunas', 'Jatuh Tempo', 'Dibatalkan'].map((s) => Type.Literal(s))),
  metode_pembayaran: PaymentMethod,
});

export const MarkAsPaid = Type.Object({ metode_pembayaran: PaymentMethod });

export const GenerateRequest = Type.Object({
  periode: Type.Optional(Periode),
  pelanggan_id: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647 })),
  langganan_id: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: "the customer's subscription (one per customer)" }),
  ),
});

export const GenerateAnswer = Type.Object({
  periode: Type.String(),
  created: Type.Array(
    Type.Object({
      id: Type.Integer(),
      nomor_invoice: Type.String(),
      pelanggan_id: Type.Integer(),
      total_harga: Type.Integer(),
    }),
  ),
  skipped: Type.Array(Type.Object({ pelanggan_id: Type.Integer(), reason: Type.String() })),
});
