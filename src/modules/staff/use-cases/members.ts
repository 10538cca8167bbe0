// Staff members: names trimmed, the position must exist (400, as the original answered), PUT keeps the fields a
// client leaves out; a member is read back with their position.
import type { Executor } from '../../../core/db/tables.ts';
import { AppError } from '../../../core/http/errors.ts';
import { MESSAGES } from '../messages.ts';
import * as repo from '../repo.ts';

async function mustHavePosition(trx: Executor, id: number): Promise<void> {
  if (!(await repo.getJabatan(trx, id))) throw new AppError('BAD_REQUEST', MESSAGES.jabatanInvalid);
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
    { nama: v.nama.trim(), alamat: v.alamat ?? null, telepon: v.telepon ?? null, id_jabatan: v.id_jabatan },
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
  if (v.id_jabatan !== undefined) await mustHavePosition(trx, v.id_jabatan);
  const fields = { ...v, ...(v.nama !== undefined ? { nama: v.nama.trim() } : {}) };
  if (Object.keys(fields).length > 0) await repo.updateUser(trx, id, fields, now);
  return readBack(trx, id);
}
