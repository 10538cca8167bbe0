// TypeBox schemas of the PPOB API (also its OpenAPI document): the reseller API in the `{code, status, message,
// data}` envelope, and the catalogue admin API in the platform's.
import { type TSchema, Type } from 'typebox';
import { OrNull } from '../../core/http/types.ts';
import { PHONE_INPUT_PATTERN } from '../../core/phone.ts';
import { localTime } from '../../core/time.ts';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const Email = Type.String({ format: 'email', maxLength: 100 });
export const Hp = Type.String({
  pattern: PHONE_INPUT_PATTERN,
  description: 'an Indonesian mobile number: 08…, 628… or +628…, spaces and dashes allowed; stored as 08…',
});
export const KodeProduk = Type.String({ minLength: 1, maxLength: 20, pattern: '^[A-Za-z0-9_.-]+$' });
export const Nomor = Type.String({
  pattern: '^\\s*\\+?[0-9][0-9\\s-]{3,24}$',
  description:
    'meter or customer number (4–20 digits, kept as written), or a mobile number (08…, 628…, +628…, spaces and dashes allowed; stored as 08…)',
});

// ---- reseller API ----
export const RegisterBody = Type.Object({
  nama: Type.String({ minLength: 1, maxLength: 50, description: 'not blank' }),
  email: Email,
  hp: Type.Optional(OrNull(Hp)),
});
export const VerifyOtpBody = Type.Object({ email: Email, otp: Type.String({ minLength: 1, maxLength: 10 }) });
export const BuyBody = Type.Object({ kode_produk: KodeProduk, nomor_tujuan: Nomor });
export const DepositBody = Type.Object({ nominal: Type.Integer({ minimum: 10_000, maximum: 10_000_000 }) });
export const CallbackBody = Type.Object({ url: Type.String({ format: 'uri', pattern: '^https?://', maxLength: 500 }) });

export const ProductView = Type.Object({
  id: Type.Integer(),
  kode_produk: Type.String(),
  nama: Type.String(),
  harga: Type.Integer(),
  deskripsi: Nullable(Type.String()),
  plp: Nullable(Type.String()),
  plp_nomor: Nullable(Type.String()),
});
export const TransactionView = Type.Object({
  trx_id: Type.String(),
  produk_id: Type.Integer(),
  kode_produk: Type.String(),
  nama_produk: Type.String(),
  nomor_tujuan: Type.String(),
  nominal: Type.Integer(),
  status: Type.String(),
  hasil_eksekusi: Nullable(Type.String()),
  serial_number: Nullable(Type.String()),
  sisa_saldo: Nullable(Type.Integer()),
  waktu: Type.String(),
});
export const KeysView = Type.Object({
  api_key: Type.String(),
  private_key: Type.String(),
  'privat-key': Type.Optional(Type.String()),
  info: Type.Optional(Type.String()),
});
export const DepositView = Type.Object({
  id: Type.String(),
  nominal: Type.Integer(),
  status: Type.String(),
  qris_string: Nullable(Type.String()),
  qr_image_url: Nullable(Type.String()),
  expired_at: Nullable(Type.String()),
  paid_at: Nullable(Type.String()),
  created_at: Type.String(),
});
export const PurchaseView = Type.Object({
  id: Type.String(),
  'kode-produk': Type.String(),
  'nomor-tujuan': Type.String(),
  'nama-produk': Type.String(),
  status: Type.String(),
  harga: Type.Integer(),
  sisa_saldo: Type.Integer(),
  info: Type.String(),
});
export const BalanceView = Type.Object({
  saldo: Type.Integer(),
  nama: Type.String(),
  email: Nullable(Type.String()),
  hp: Nullable(Type.String()),
  callback_url: Nullable(Type.String()),
});
export const CallbackLogView = Type.Object({
  url: Nullable(Type.String()),
  deliveries: Type.Array(
    Type.Object({
      webhook_id: Type.String(),
      trx_id: Type.String(),
      url: Type.String(),
      attempts: Type.Integer(),
      last_status: Nullable(Type.Integer()),
      last_error: Nullable(Type.String()),
      delivered_at: Nullable(Type.String()),
      created_at: Type.String(),
    }),
  ),
});

export const productView = (p: {
  id: number;
  kode_produk: string;
  nama: string;
  harga: number;
  deskripsi: string | null;
  plp: string | null;
  plp_nomor: string | null;
}) => ({
  id: p.id,
  kode_produk: p.kode_produk,
  nama: p.nama,
  harga: p.harga,
  deskripsi: p.deskripsi,
  plp: p.plp,
  plp_nomor: p.plp_nomor,
});

export const transactionView = (t: {
  trx_id: string;
  produk_id: number;
  kode_produk: string;
  nama_produk: string;
  nomor_tujuan: string;
  harga: number;
  status: string;
  hasil_eksekusi: string | null;
  serial_number: string | null;
  sisa_saldo: number | null;
  waktu: Date | string;
}) => ({
  trx_id: t.trx_id,
  produk_id: t.produk_id,
  kode_produk: t.kode_produk,
  nama_produk: t.nama_produk,
  nomor_tujuan: t.nomor_tujuan,
  nominal: t.harga,
  status: t.status,
  hasil_eksekusi: t.hasil_eksekusi,
  serial_number: t.serial_number,
  sisa_saldo: t.sisa_saldo,
  waktu: localTime(t.waktu),
});

// ---- admin API (platform envelope) ----
const Maybe = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));
const productFields = {
  nama: Type.String({ minLength: 1, maxLength: 50 }),
  harga: Type.Integer({ minimum: 1, maximum: 100_000_000 }),
  deskripsi: Maybe(Type.String({ maxLength: 2000 })),
  plp: Maybe(Type.String({ maxLength: 20 })),
  plp_nomor: Maybe(Type.String({ maxLength: 20 })),
  provider_sku: Maybe(Type.String({ maxLength: 50 })),
  kategori: Maybe(Type.String({ maxLength: 50 })),
  brand: Maybe(Type.String({ maxLength: 50 })),
  aktif: Type.Optional(Type.Boolean()),
};
export const ProductCreate = Type.Object(
  { kode_produk: KodeProduk, ...productFields },
  { additionalProperties: false },
);
export const ProductUpdate = Type.Partial(Type.Object({ kode_produk: KodeProduk, ...productFields }), {
  additionalProperties: false,
  minProperties: 1,
});
export const AdminProduct = Type.Object(
  {
    id: Type.Integer(),
    kode_produk: Type.String(),
    nama: Type.String(),
    harga: Type.Integer(),
    aktif: Type.Boolean(),
  },
  { additionalProperties: true },
);
export const Adjustment = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: 320 }),
    amount: Type.Integer({ minimum: -100_000_000, maximum: 100_000_000, not: { const: 0 } }),
    reason: Type.String({ minLength: 3, maxLength: 500 }),
  },
  { additionalProperties: false },
);
export const AdjustmentView = Type.Object({
  reference: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  amount: Type.Integer(),
  saldo: Type.Integer(),
});
export const ProductIdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) });
export const SyncQuery = Type.Object({
  dry_run: Type.Optional(Type.Boolean({ description: 'answer what the sync would do and change nothing' })),
  force: Type.Optional(
    Type.Boolean({ description: 'retire what is missing even from an incomplete listing (after checking a dry run)' }),
  ),
});

const SyncedProduct = Type.Object({ kode_produk: Type.String(), nama: Type.String(), harga: Type.Integer() });

export const SyncSummary = Type.Object({
  provider: Type.String(),
  dry_run: Type.Boolean(),
  complete: Type.Boolean({ description: 'every entry of the listing was usable; only then are products retired' }),
  listed: Type.Integer(),
  skipped: Type.Integer(),
  created: Type.Integer(),
  updated: Type.Integer(),
  deactivated: Type.Integer(),
  added: Type.Array(SyncedProduct),
  changed: Type.Array(Type.Object({ kode_produk: Type.String(), fields: Type.Array(Type.String()) })),
  retired: Type.Array(Type.Object({ kode_produk: Type.String(), nama: Type.String() })),
  message: Type.String(),
});
