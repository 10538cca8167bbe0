// Request and response shapes of the billing module (seed 003 and its original web frontend).
import { Type } from 'typebox';
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
  xendit_key_name: Type.Union([Type.String({ maxLength: 50, pattern: '^[A-Za-z0-9_]*$' }), Type.Null()]),
  due_day: Type.Integer({ minimum: 1, maximum: 28 }),
  invoice_days_before: Type.Integer({ minimum: 0, maximum: 28 }),
  grace_days: Type.Integer({ minimum: 0, maximum: 60 }),
  isolation_profile: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' }),
};

export const BrandCreate = Type.Object({
  id_brand: IdBrand,
  brand: Name,
  pajak: Type.Optional(rules.pajak),
  xendit_key_name: Type.Optional(rules.xendit_key_name),
  due_day: Type.Optional(rules.due_day),
  invoice_days_before: Type.Optional(rules.invoice_days_before),
  grace_days: Type.Optional(rules.grace_days),
  isolation_profile: Type.Optional(rules.isolation_profile),
});

export const BrandUpdate = Type.Object({
  brand: Type.Optional(Name),
  pajak: Type.Optional(rules.pajak),
  xendit_key_name: Type.Optional(rules.xendit_key_name),
  due_day: Type.Optional(rules.due_day),
  invoice_days_before: Type.Optional(rules.invoice_days_before),
  grace_days: Type.Optional(rules.grace_days),
  isolation_profile: Type.Optional(rules.isolation_profile),
});

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
  profile_pppoe: Type.Union([Profile, Type.Null()]),
};

export const PackageCreate = Type.Object({
  id_brand: IdBrand,
  nama_paket: packageRules.nama_paket,
  kecepatan: packageRules.kecepatan,
  harga: packageRules.harga,
  profile_pppoe: Type.Optional(packageRules.profile_pppoe),
});

export const PackageUpdate = Type.Object({
  id_brand: Type.Optional(IdBrand),
  nama_paket: Type.Optional(packageRules.nama_paket),
  kecepatan: Type.Optional(packageRules.kecepatan),
  harga: Type.Optional(packageRules.harga),
  profile_pppoe: Type.Optional(packageRules.profile_pppoe),
});

export const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) });

export const PackageQuery = Type.Object({
  skip: Type.Integer({ minimum: 0, default: 0 }),
  limit: Type.Integer({ minimum: 1, default: 100 }),
  id_brand: Type.Optional(Type.String({ maxLength: 50 })),
});

// ---- customers (pelanggan) ---------------------------------------------------------------------------------------

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
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

export const CustomerSchema = Type.Object(customerFields);

/** A list row: every field, or the ones `fields` asked for (the id always). */
export const CustomerListItem = Type.Partial(Type.Object(customerFields));

export const CustomerList = Type.Object({
  data: Type.Array(CustomerListItem),
  total_count: Type.Integer(),
  skip: Type.Integer(),
  limit: Type.Integer(),
});

const customerInput = {
  email: Type.Optional(Type.Union([Type.String({ format: 'email', maxLength: 320 }), Type.Null()])),
  no_telp: Type.Optional(Type.Union([Phone, Type.Null()])),
  no_ktp: Type.Optional(Type.Union([Type.String({ pattern: '^[0-9]{16}$', description: '16 digits' }), Type.Null()])),
  alamat: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
  alamat_2: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
  blok: Type.Optional(Nullable(Type.String({ maxLength: 50 }))),
  unit: Type.Optional(Nullable(Type.String({ maxLength: 50 }))),
  tanggal_instalasi: Type.Optional(Type.Union([DateOnly, Type.Null()])),
  tgl_instalasi: Type.Optional(Type.Union([DateOnly, Type.Null()], { description: 'alias of tanggal_instalasi' })),
  id_brand: Type.Optional(Type.Union([IdBrand, Type.Null()])),
  paket_layanan_id: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 2_147_483_647 }), Type.Null()])),
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
  search: Type.Optional(Type.String({ maxLength: 100, description: 'in nama, email and no_telp' })),
  alamat: Type.Optional(Type.String({ maxLength: 500, description: 'exact address' })),
  id_brand: Type.Optional(Type.String({ maxLength: 50 })),
  status: Type.Optional(CustomerStatus),
  fields: Type.Optional(Type.String({ maxLength: 500, description: 'comma-separated fields to return' })),
  for_invoice_selection: Type.Optional(Type.Boolean({ description: 'every row, id and name only' })),
});
