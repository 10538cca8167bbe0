// Request and response shapes of the photobox module (seed 001), with the document's field names (ml_, mp_, tr_).
// Times are ISO 8601 in LOKET_TIMEZONE with its offset (`2025-12-15T09:37:29+07:00`, CONTRACTS §6), so a kiosk in any zone counts down right.
import { type TSchema, Type } from 'typebox';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Id = Type.Integer({ minimum: 1, maximum: 2_147_483_647 });
const Time = Type.String({ description: 'ISO 8601 with the offset of LOKET_TIMEZONE' });
export const Status = Type.Union([
  Type.Literal('PENDING'),
  Type.Literal('COMPLETED'),
  Type.Literal('FAILED'),
  Type.Literal('EXPIRED'),
]);

// A name must hold something besides spaces; it is stored trimmed.
const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });
const Email = Type.String({ format: 'email', maxLength: 320 });
const MachineCode = Type.String({ pattern: '^[A-Za-z0-9_-]{1,50}$', description: 'letters, digits, - and _' });
const Amount = Type.Integer({ minimum: 1, maximum: 100_000_000, description: 'rupiah' });

// ---- paging ---------------------------------------------------------------------------------------------------

export const ListQuery = Type.Object({
  search: Type.Optional(Type.String({ maxLength: 100 })),
  skip: Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: 0 }),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  is_active: Type.Optional(Type.Boolean()),
});

export const TransactionListQuery = Type.Object({
  search: Type.Optional(Type.String({ maxLength: 100 })),
  skip: Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: 0 }),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  status: Type.Optional(Type.String({ maxLength: 100, description: 'comma-separated: PENDING,COMPLETED,…' })),
  location_id: Type.Optional(Id),
});

export const CountQuery = Type.Object({
  status: Type.Optional(Type.String({ maxLength: 100, description: 'comma-separated: "COMPLETED,PENDING"' })),
});

/** The document's list envelope: `{success, message, data: [...], total, page, size, pages}`. */
export const pagedSchema = <T extends TSchema>(item: T) =>
  Type.Object({
    success: Type.Literal(true),
    message: Type.String(),
    data: Type.Array(item),
    total: Type.Integer(),
    page: Type.Integer(),
    size: Type.Integer(),
    pages: Type.Integer(),
  });

// ---- locations ------------------------------------------------------------------------------------------------

export const LocationView = Type.Object({
  ml_id: Type.Integer(),
  ml_name: Type.String(),
  ml_address: Nullable(Type.String()),
  ml_machine_code: Nullable(Type.String()),
  ml_is_active: Type.Boolean(),
  ml_created_at: Time,
  ml_updated_at: Time,
});

export const LocationCreate = Type.Object(
  {
    ml_name: Name,
    ml_address: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
    ml_machine_code: Type.Optional(Nullable(MachineCode)),
    ml_is_active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const LocationUpdate = Type.Partial(LocationCreate, { additionalProperties: false, minProperties: 1 });

export const LocationParams = Type.Object({ id: Id });

// ---- prices ---------------------------------------------------------------------------------------------------

export const PriceView = Type.Object({
  mp_id: Type.Integer(),
  mp_name: Type.String(),
  mp_amount: Type.Integer(),
  mp_quota: Nullable(Type.Integer({ description: 'null: unlimited' })),
  remaining_quota: Nullable(
    Type.Integer({ description: 'quota minus COMPLETED and still-valid PENDING sessions; null: unlimited' }),
  ),
  mp_is_active: Type.Boolean(),
  mp_created_at: Time,
  mp_updated_at: Time,
});

export const PriceCreate = Type.Object(
  {
    mp_name: Name,
    mp_amount: Amount,
    mp_quota: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 1_000_000_000 }))),
    mp_is_active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const PriceUpdate = Type.Partial(PriceCreate, { additionalProperties: false, minProperties: 1 });

export const PriceParams = Type.Object({ id: Id });

// ---- transactions ---------------------------------------------------------------------------------------------

export const TransactionCreate = Type.Object({
  location_id: Id,
  price_id: Type.Optional(Nullable(Id)),
  email: Type.Optional(Nullable(Email)),
  send_invoice: Type.Optional(Type.Boolean({ description: 'e-mail a receipt to `email` once paid' })),
});

export const TransactionCreated = Type.Object({
  tr_id: Type.Integer(),
  tr_external_id: Type.String(),
  tr_location_id: Type.Integer(),
  tr_price_id: Nullable(Type.Integer()),
  tr_amount: Type.Integer(),
  tr_status: Status,
  tr_qris_string: Nullable(Type.String()),
  tr_qris_url: Nullable(Type.String()),
  tr_email: Nullable(Type.String()),
  tr_send_invoice: Type.Boolean(),
  tr_expired_at: Time,
  tr_created_at: Time,
});

export const TransactionStatusView = Type.Object({
  tr_id: Type.Integer(),
  tr_external_id: Type.String(),
  tr_status: Status,
  tr_paid_at: Nullable(Time),
  tr_amount: Type.Integer(),
  tr_expired_at: Time,
});

export const TransactionRow = Type.Object({
  tr_id: Type.Integer(),
  tr_external_id: Type.String(),
  tr_status: Status,
  tr_amount: Type.Integer(),
  tr_location_id: Type.Integer(),
  tr_price_id: Nullable(Type.Integer()),
  tr_email: Nullable(Type.String()),
  tr_paid_at: Nullable(Time),
  tr_expired_at: Time,
  tr_created_at: Time,
  photo_count: Type.Integer(),
  location: Type.Object({ ml_id: Type.Integer(), ml_name: Type.String() }),
});

export const ExternalIdParams = Type.Object({ external_id: Type.String({ minLength: 1, maxLength: 64 }) });

/** The document's photos body: not in the success envelope. */
export const GalleryView = Type.Object({
  external_id: Type.String(),
  photo_count: Type.Integer(),
  email_sent_at: Time,
  expiry_date: Time,
  photos: Type.Array(Type.Object({ url: Type.String() })),
});

export const UploadResult = Type.Object({
  external_id: Type.String(),
  uploaded: Type.Integer(),
  photo_count: Type.Integer(),
  email_sent_at: Time,
  expiry_date: Time,
  photos: Type.Array(Type.Object({ url: Type.String() })),
});

/** What the two kiosk reads answer when ENCRYPTION_ENABLED=on (plus the x-loket-signature header). */
export const Encrypted = Type.Object({ data: Type.String({ description: 'base64 of AES-256-CBC(JSON)' }) });

// ---- kiosks ---------------------------------------------------------------------------------------------------

export const KioskCreate = Type.Object({ name: Name }, { additionalProperties: false });

export const KioskView = Type.Object({
  kiosk_id: Type.Integer(),
  name: Type.String(),
  username: Nullable(Type.String()),
  active: Type.Boolean(),
  key_prefix: Nullable(Type.String()),
  key_created_at: Nullable(Time),
  created_at: Time,
});

export const KioskKey = Type.Object({
  kiosk_id: Type.Integer(),
  name: Type.String(),
  api_key: Type.String({ description: 'shown once; send it as x-api-key' }),
  key_prefix: Type.String(),
});

export const KioskParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) });

// ---- late payments (paid after the transaction expired or was cancelled) ---------------------------------------

export const LatePaymentView = Type.Object({
  id: Type.Integer(),
  tr_external_id: Type.String(),
  amount: Type.Integer(),
  reason: Type.Union([Type.Literal('after_expiry'), Type.Literal('after_cancel')]),
  status: Type.Union([Type.Literal('TO_REFUND'), Type.Literal('REFUNDED')]),
  xendit_payment_id: Nullable(Type.String()),
  paid_at: Time,
  refunded_at: Nullable(Time),
  created_at: Time,
});

export const LatePaymentQuery = Type.Object({
  status: Type.Optional(Type.Union([Type.Literal('TO_REFUND'), Type.Literal('REFUNDED')])),
  skip: Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: 0 }),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
});

export const LatePaymentParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) });
