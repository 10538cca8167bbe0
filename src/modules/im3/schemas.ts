// TypeBox schemas of the IM3 API: requests and the `data` of its answers (also the OpenAPI document).
import { type TSchema, Type } from 'typebox';

const Username = Type.String({ pattern: '^[a-zA-Z0-9_]{3,80}$', description: '3-80 letters, digits or _' });
const Password = Type.String({ minLength: 8, maxLength: 256 });
const Email = Type.String({ format: 'email', maxLength: 320 });
const Id = Type.Integer({ minimum: 1, maximum: 2_147_483_647 });
export const IdParams = Type.Object({ id: Id });
const Money = Type.Integer({ minimum: 1, maximum: 100_000_000 });

const PhoneInput = Type.String({ minLength: 6, maxLength: 24 });
export const Register = Type.Object({
  username: Username,
  password: Password,
  email: Type.Optional(Email),
  phone_number: Type.Optional(Type.Union([PhoneInput, Type.Null()])),
});
export const UpdateMe = Type.Object(
  {
    username: Type.Optional(Username),
    email: Type.Optional(Type.Union([Email, Type.Null()])),
    phone_number: Type.Optional(Type.Union([PhoneInput, Type.Null()])),
  },
  { minProperties: 1, additionalProperties: false },
);
/** `current_password` (the document's) or `old_password` (the original's); one of them is required. */
export const ChangePassword = Type.Object({
  current_password: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  old_password: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  new_password: Password,
});
const Otp = Type.String({ pattern: '^[0-9]{4,8}$' });
export const VerifyOtp = Type.Object({ code: Type.Optional(Otp), otp: Type.Optional(Otp) });
export const PackageBody = Type.Object({
  pvr_code: Type.String({ minLength: 1, maxLength: 100 }),
  keyword: Type.String({ minLength: 1, maxLength: 100 }),
  discount_price: Money,
  normal_price: Money,
  package_name: Type.String({ minLength: 1, maxLength: 200 }),
});
export const PackagePatch = Type.Partial(PackageBody, { minProperties: 1 });
export const Purchase = Type.Object({ package_id: Id });
export const Paging = Type.Object({
  page: Type.Integer({ minimum: 1, maximum: 100_000, default: 1 }),
  per_page: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
});

export const PackageSchema = Type.Object({
  id: Type.Integer(),
  pvr_code: Type.String(),
  keyword: Type.String(),
  discount_price: Type.Integer(),
  normal_price: Type.Integer(),
  package_name: Type.String(),
  created_at: Type.String(),
  updated_at: Type.String(),
});
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
export const TransactionSchema = Type.Object({
  id: Type.Integer(),
  user_id: Type.Integer(),
  package_id: Type.Integer(),
  task_id: Type.String(),
  status: Type.String(),
  qr_code: Nullable(Type.String()),
  qr_payload: Nullable(Type.String()),
  amount: Type.Integer(),
  phone_number: Type.String(),
  package_detail: Nullable(
    Type.Object({ id: Type.Integer(), package_name: Type.String(), discount_price: Type.Integer() }),
  ),
  package: Nullable(PackageSchema),
  error_message: Nullable(Type.String()),
  status_history: Type.Optional(Type.Array(Type.Object({ status: Type.String(), at: Type.String() }))),
  created_at: Type.String(),
  updated_at: Type.String(),
});
export const ProfileSchema = Type.Object({
  id: Type.Integer(),
  username: Nullable(Type.String()),
  email: Nullable(Type.String()),
  phone_number: Nullable(Type.String()),
  token_id: Nullable(Type.String()),
  created_at: Type.String(),
  updated_at: Type.String(),
});
export const PurchaseResult = Type.Object({
  transaction_id: Type.Integer(),
  task_id: Type.String(),
  package_detail: Type.Object({ id: Type.Integer(), package_name: Type.String(), discount_price: Type.Integer() }),
  package: PackageSchema,
  message: Type.String(),
  status: Type.String(),
});
export const ChangePasswordResult = Type.Object({
  access_token: Type.String(),
  token_type: Type.String(),
  expires_in: Type.Integer(),
  refresh_token: Type.String(),
  message: Type.String(),
});
export const RegisterResult = Type.Object({
  user_id: Type.Integer(),
  username: Type.String(),
  phone_number: Nullable(Type.String()),
  message: Type.String(),
});
export const OtpSent = Type.Object({ phone_number: Type.String(), message: Type.String() });
export const OtpVerified = Type.Object({
  verified: Type.Boolean(),
  phone_number: Type.String(),
  message: Type.String(),
});
/** Ours, beside the operator's own fields (`mob`, `fname`, …, whatever it answers), passed through. */
export const OperatorProfileSchema = Type.Object(
  {
    msisdn: Type.String(),
    name: Type.String(),
    balance: Type.Number(),
    status: Type.String(),
    active_until: Nullable(Type.String()),
  },
  { additionalProperties: true },
);
const Check = Type.Object({ status: Type.String(), error: Type.Optional(Type.String()) });
export const Health = Type.Object({ status: Type.String(), checks: Type.Record(Type.String(), Check) });
export const SimulatedPayment = Type.Object({ transaction_id: Type.Integer(), paid: Type.Boolean() });
