// Staff members: names trimmed, phones read as Indonesian mobile numbers and stored as `08…` (the document's
// form), the position must exist (400, as the original answered), PUT keeps the fields a client leaves out and
// ignores the ones it does not know; a member is read back with their position.
import type { Executor } from '../../../core/db/tables.ts';
import { AppError } from '../../../core/http/errors.ts';
import { nationalPhone } from '../../../core/phone.ts';
import { filledName, MESSAGES } from '../messages.ts';
import * as repo from '../repo.ts';

async function mustHavePosition(trx: Executor, id: number): Promise<void> {
  if (!(await repo.getJabatan(trx, id))) throw new AppError('BAD_REQUEST', MESSAGES.jabatanInvalid);
}

const INVALID_PHONE = 'bukan nomor HP Indonesia yang valid (08…, 628… atau +628…)';

/** `08…`, null, or a 422 naming the field once. */
function telepon(raw: string | null): string | null {
  if (raw === null) return null;
  const phone = nationalPhone(raw);
  if (phone === undefined)
    throw new AppError('VALIDATION_ERROR', INVALID_PHONE, { details: { telepon: [INVALID_PHONE] } });
  return phone;
}

async function readBack(trx: Executor, id: number): Promise<repo.StaffUser> {
  const user = await repo.getUser(trx, id);
  if (!user) throw new AppError('NOT_FOUND', MESSAGES.userNotFound);
  return user;
}

export async function createMember(
  trx: Executor,
  v: { nama: string; alamat?: string | null; telepon?: string | null; id_jabatan: number },
  now: Date,
): Promise<repo.StaffUser> {
  await mustHavePosition(trx, v.id_jabatan);
  const id = await repo.insertUser(
    trx,
    {
      nama: filledName('nama', v.nama),
      alamat: v.alamat ?? null,
      telepon: telepon(v.telepon ?? null),
      id_jabatan: v.id_jabatan,
    },
    now,
  );
  return readBack(trx, id);
}

export async function updateMember(
  trx: Executor,
  id: number,
  v: Partial<repo.UserFields>,
  now: Date,
): Promise<repo.StaffUser> {
  const fields: Partial<repo.UserFields> = {
    ...(v.nama !== undefined ? { nama: filledName('nama', v.nama) } : {}),
    ...(v.alamat !== undefined ? { alamat: v.alamat } : {}),
    ...(v.telepon !== undefined ? { telepon: telepon(v.telepon) } : {}),
    ...(v.id_jabatan !== undefined ? { id_jabatan: v.id_jabatan } : {}),
  };
  if (v.id_jabatan !== undefined) await mustHavePosition(trx, v.id_jabatan);
  if (Object.keys(fields).length > 0) await repo.updateUser(trx, id, fields, now);
  return readBack(trx, id);
}
