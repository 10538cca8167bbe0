// Request and response shapes of the staff module (seed 002), as FastAPI's Pydantic models described them.
import { Type } from 'typebox';

export const JabatanSchema = Type.Object({
  id_jabatan: Type.Integer(),
  nama_jabatan: Type.String(),
  deskripsi: Type.Union([Type.String(), Type.Null()]),
});

export const JabatanCreate = Type.Object(
  {
    nama_jabatan: Type.String({ minLength: 1, maxLength: 100 }),
    deskripsi: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
  },
  { additionalProperties: false },
);

export const JabatanUpdate = Type.Object(
  {
    nama_jabatan: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    deskripsi: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
  },
  { additionalProperties: false },
);

export const UserSchema = Type.Object({
  id_user: Type.Integer(),
  nama: Type.String(),
  alamat: Type.Union([Type.String(), Type.Null()]),
  telepon: Type.Union([Type.String(), Type.Null()]),
  id_jabatan: Type.Integer(),
  jabatan: JabatanSchema,
});

const Telepon = Type.String({ pattern: '^[0-9]{6,20}$', description: 'digits only, 6-20' });
const IdJabatan = Type.Integer({ minimum: 1, maximum: 2_147_483_647 });

export const UserCreate = Type.Object(
  {
    nama: Type.String({ minLength: 1, maxLength: 255 }),
    alamat: Type.Optional(Type.Union([Type.String({ maxLength: 1000 }), Type.Null()])),
    telepon: Type.Optional(Type.Union([Telepon, Type.Null()])),
    id_jabatan: IdJabatan,
  },
  { additionalProperties: false },
);

export const UserUpdate = Type.Object(
  {
    nama: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    alamat: Type.Optional(Type.Union([Type.String({ maxLength: 1000 }), Type.Null()])),
    telepon: Type.Optional(Type.Union([Telepon, Type.Null()])),
    id_jabatan: Type.Optional(IdJabatan),
  },
  { additionalProperties: false },
);

export const Paging = Type.Object({
  skip: Type.Integer({ minimum: 0, default: 0 }),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
});

export const JabatanParams = Type.Object({ jabatan_id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) });
export const UserParams = Type.Object({ user_id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) });

const OtpId = Type.Union(
  [Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }), Type.String({ minLength: 1, maxLength: 64 })],
  {
    description: 'a number or a string, as the document allows',
  },
);

export const OtpGenerate = Type.Object({ id: OtpId });
export const OtpVerify = Type.Object({ id: OtpId, otp: Type.String({ minLength: 1, maxLength: 32 }) });
export const Detail = Type.Object({ detail: Type.String() });
export const Message = Type.Object({ message: Type.String() });
