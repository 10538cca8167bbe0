// Request and response shapes of the staff module (seed 002), as FastAPI's Pydantic models described them.
import { Type } from 'typebox';
import { OrNull } from '../../core/http/types.ts';
import { PHONE_INPUT_PATTERN } from '../../core/phone.ts';

// A name must not be blank after trimming (CONTRACTS §6): the use-cases refuse it with a 422 that says so.
const Name = (maxLength: number) => Type.String({ minLength: 1, maxLength, description: 'not blank' });
// Bodies ignore fields they do not know (a client sends back what a GET returned, `id_user` and `jabatan`
// included): the use-cases take only the fields below, so nothing else is ever stored.
const lenient = { additionalProperties: true } as const;

export const JabatanSchema = Type.Object({
  id_jabatan: Type.Integer(),
  nama_jabatan: Type.String(),
  deskripsi: Type.Union([Type.String(), Type.Null()]),
});

export const JabatanCreate = Type.Object(
  {
    nama_jabatan: Name(100),
    deskripsi: Type.Optional(OrNull(Type.String({ maxLength: 2000 }))),
  },
  lenient,
);

export const JabatanUpdate = Type.Object(
  {
    nama_jabatan: Type.Optional(Name(100)),
    deskripsi: Type.Optional(OrNull(Type.String({ maxLength: 2000 }))),
  },
  lenient,
);

export const UserSchema = Type.Object({
  id_user: Type.Integer(),
  nama: Type.String(),
  alamat: Type.Union([Type.String(), Type.Null()]),
  telepon: Type.Union([Type.String(), Type.Null()]),
  id_jabatan: Type.Integer(),
  jabatan: JabatanSchema,
});

const Telepon = Type.String({
  pattern: PHONE_INPUT_PATTERN,
  description: 'an Indonesian mobile number: 08…, 628… or +628…, spaces and dashes allowed; stored as 08…',
});
const IdJabatan = Type.Integer({ minimum: 1, maximum: 2_147_483_647 });

export const UserCreate = Type.Object(
  {
    nama: Name(255),
    alamat: Type.Optional(OrNull(Type.String({ maxLength: 1000 }))),
    telepon: Type.Optional(OrNull(Telepon)),
    id_jabatan: IdJabatan,
  },
  lenient,
);

export const UserUpdate = Type.Object(
  {
    nama: Type.Optional(Name(255)),
    alamat: Type.Optional(OrNull(Type.String({ maxLength: 1000 }))),
    telepon: Type.Optional(OrNull(Telepon)),
    id_jabatan: Type.Optional(IdJabatan),
  },
  lenient,
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
