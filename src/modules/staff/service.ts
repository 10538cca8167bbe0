// Business rules of the staff module: positions and staff members, and the OTP flow of the seed document.

import { type Actor, recordAction } from '../../core/audit/audit.ts';
import type { Core } from '../../core/context.ts';
import type { Executor } from '../../core/db/tables.ts';
import { withTransaction } from '../../core/db/transaction.ts';
import { AppError } from '../../core/http/errors.ts';
import type { StaffOtpStore } from './otp.ts';
import * as repo from './repo.ts';

export const MESSAGES = {
  jabatanNotFound: 'Jabatan tidak ditemukan',
  userNotFound: 'User tidak ditemukan',
  jabatanInvalid: 'jabatan tidak valid',
  jabatanInUse: 'Jabatan masih dipakai oleh user; pindahkan user tersebut terlebih dahulu',
  otpMissing: 'OTP tidak ditemukan atau sudah kedaluwarsa.',
  otpWrong: 'OTP wrong',
  otpLocked: 'Percobaan verifikasi OTP melebihi batas. OTP telah direset.',
  otpOk: 'OTP berhasil diverifikasi.',
  otpSent: 'OTP telah dikirim ke nomor telepon yang terdaftar.',
} as const;

export function createStaffService(
  core: Pick<Core, 'database' | 'now' | 'outbox' | 'config'>,
  otpStore: StaffOtpStore,
) {
  const { db } = core.database;
  const audit = (trx: Executor, actor: Actor, action: string, id: number | string, before?: unknown, after?: unknown) =>
    recordAction(trx, actor, action, id, core.now(), { before, after });

  async function mustGetUser(id: number) {
    const user = await repo.getUser(db, id);
    if (!user) throw new AppError('NOT_FOUND', MESSAGES.userNotFound);
    return user;
  }

  return {
    listJabatan: (skip: number, limit: number) => repo.listJabatan(db, skip, limit),

    async getJabatan(id: number) {
      const j = await repo.getJabatan(db, id);
      if (!j) throw new AppError('NOT_FOUND', MESSAGES.jabatanNotFound);
      return j;
    },

    createJabatan: (v: { nama_jabatan: string; deskripsi?: string | null }, actor: Actor) =>
      withTransaction(db, async (trx) => {
        const j = await repo.insertJabatan(
          trx,
          { nama_jabatan: v.nama_jabatan.trim(), deskripsi: v.deskripsi ?? null },
          core.now(),
        );
        await audit(trx, actor, 'staff.jabatan.created', j.id_jabatan, undefined, j);
        return j;
      }),

    updateJabatan: (id: number, v: { nama_jabatan?: string; deskripsi?: string | null }, actor: Actor) =>
      withTransaction(db, async (trx) => {
        const before = await repo.getJabatan(trx, id);
        if (!before) throw new AppError('NOT_FOUND', MESSAGES.jabatanNotFound);
        const j = await repo.updateJabatan(
          trx,
          id,
          { ...v, ...(v.nama_jabatan ? { nama_jabatan: v.nama_jabatan.trim() } : {}) },
          core.now(),
        );
        await audit(trx, actor, 'staff.jabatan.updated', id, before, j);
        return j as repo.Jabatan;
      }),

    deleteJabatan: (id: number, actor: Actor) =>
      withTransaction(db, async (trx) => {
        const before = await repo.getJabatan(trx, id);
        if (!before) throw new AppError('NOT_FOUND', MESSAGES.jabatanNotFound);
        if (await repo.jabatanInUse(trx, id)) throw new AppError('CONFLICT', MESSAGES.jabatanInUse);
        await repo.deleteJabatan(trx, id);
        await audit(trx, actor, 'staff.jabatan.deleted', id, before);
        return before;
      }),

    listUsers: (skip: number, limit: number) => repo.listUsers(db, skip, limit),
    getUser: mustGetUser,

    async createUser(
      v: { nama: string; alamat?: string | null; telepon?: string | null; id_jabatan: number },
      actor: Actor,
    ) {
      const id = await withTransaction(db, async (trx) => {
        if (!(await repo.getJabatan(trx, v.id_jabatan))) throw new AppError('BAD_REQUEST', MESSAGES.jabatanInvalid);
        const newId = await repo.insertUser(
          trx,
          { nama: v.nama.trim(), alamat: v.alamat ?? null, telepon: v.telepon ?? null, id_jabatan: v.id_jabatan },
          core.now(),
        );
        await audit(trx, actor, 'staff.user.created', newId, undefined, { ...v });
        return newId;
      });
      return mustGetUser(id);
    },

    /** PUT with the document's meaning: fields left out stay as they are. */
    async updateUser(id: number, v: Partial<repo.UserFields>, actor: Actor) {
      await withTransaction(db, async (trx) => {
        const before = await repo.getUser(trx, id);
        if (!before) throw new AppError('NOT_FOUND', MESSAGES.userNotFound);
        if (v.id_jabatan !== undefined && !(await repo.getJabatan(trx, v.id_jabatan))) {
          throw new AppError('BAD_REQUEST', MESSAGES.jabatanInvalid);
        }
        const fields = { ...v, ...(v.nama !== undefined ? { nama: v.nama.trim() } : {}) };
        if (Object.keys(fields).length > 0) await repo.updateUser(trx, id, fields, core.now());
        await audit(trx, actor, 'staff.user.updated', id, before, fields);
      });
      return mustGetUser(id);
    },

    /** Deletes and returns the deleted user, as the document does. */
    deleteUser: (id: number, actor: Actor) =>
      withTransaction(db, async (trx) => {
        const before = await repo.getUser(trx, id);
        if (!before) throw new AppError('NOT_FOUND', MESSAGES.userNotFound);
        await repo.deleteUser(trx, id);
        await audit(trx, actor, 'staff.user.deleted', id, before);
        return before;
      }),

    /**
     * Outside production the code is returned, as the document's flow does. In production it goes to the staff
     * member's phone through the outbox (so `id` must be a staff member with a phone) and is never returned.
     */
    async generateOtp(rawId: number | string): Promise<{ otp: string } | { message: string }> {
      const id = String(rawId).trim();
      if (core.config.env !== 'production') return { otp: await otpStore.issue(db, id) };
      const userId = Number(id);
      const user = Number.isSafeInteger(userId) ? await repo.getUser(db, userId) : undefined;
      if (!user?.telepon) throw new AppError('NOT_FOUND', MESSAGES.userNotFound);
      await withTransaction(db, async (trx) => {
        const code = await otpStore.issue(trx, id);
        await core.outbox.send(trx, {
          channel: 'sms',
          to: user.telepon as string,
          body: `Kode OTP Anda: ${code}. Berlaku 5 menit.`,
        });
      });
      return { message: MESSAGES.otpSent };
    },

    async verifyOtp(rawId: number | string, code: string): Promise<{ message: string }> {
      const result = await otpStore.verify(String(rawId).trim(), code.trim());
      switch (result) {
        case 'ok':
          return { message: MESSAGES.otpOk };
        case 'wrong':
          throw new AppError('BAD_REQUEST', MESSAGES.otpWrong);
        case 'locked':
          throw new AppError('RATE_LIMITED', MESSAGES.otpLocked);
        default:
          throw new AppError('NOT_FOUND', MESSAGES.otpMissing);
      }
    },
  };
}

export type StaffService = ReturnType<typeof createStaffService>;
