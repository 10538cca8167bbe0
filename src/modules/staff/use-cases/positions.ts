// Positions (jabatan): names trimmed, fields a client does not know ignored; a position still held by a staff member cannot be deleted.
import type { Executor } from '../../../core/db/tables.ts';
import { AppError } from '../../../core/http/errors.ts';
import { filledName, MESSAGES } from '../messages.ts';
import * as repo from '../repo.ts';

export const createPosition = (trx: Executor, v: { nama_jabatan: string; deskripsi?: string | null }, now: Date) =>
  repo.insertJabatan(
    trx,
    { nama_jabatan: filledName('nama_jabatan', v.nama_jabatan), deskripsi: v.deskripsi ?? null },
    now,
  );

export async function updatePosition(
  trx: Executor,
  id: number,
  v: { nama_jabatan?: string; deskripsi?: string | null },
  now: Date,
): Promise<repo.Jabatan> {
  const fields = {
    ...(v.nama_jabatan !== undefined ? { nama_jabatan: filledName('nama_jabatan', v.nama_jabatan) } : {}),
    ...(v.deskripsi !== undefined ? { deskripsi: v.deskripsi } : {}),
  };
  const updated = await repo.updateJabatan(trx, id, fields, now);
  if (!updated) throw new AppError('NOT_FOUND', MESSAGES.jabatanNotFound);
  return updated;
}

export async function deletePosition(trx: Executor, id: number): Promise<void> {
  if (await repo.jabatanInUse(trx, id)) throw new AppError('CONFLICT', MESSAGES.jabatanInUse);
  await repo.deleteJabatan(trx, id);
}
