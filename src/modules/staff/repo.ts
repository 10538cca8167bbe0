// SQL for the staff module. Every function takes the handle it runs on.
import type { Generated, Selectable } from 'kysely';
import type { Executor, Timestamp } from '../../core/db/tables.ts';

interface StaffJabatanTable {
  id_jabatan: Generated<number>;
  nama_jabatan: string;
  deskripsi: string | null;
  created_at: Generated<Date>;
  updated_at: Timestamp;
}

interface StaffUsersTable {
  id_user: Generated<number>;
  nama: string;
  alamat: string | null;
  telepon: string | null;
  id_jabatan: number;
  created_at: Generated<Date>;
  updated_at: Timestamp;
}

declare module '../../core/db/tables.ts' {
  interface Tables {
    staff_jabatan: StaffJabatanTable;
    staff_users: StaffUsersTable;
  }
}

export type JabatanRow = Selectable<StaffJabatanTable>;

export interface Jabatan {
  id_jabatan: number;
  nama_jabatan: string;
  deskripsi: string | null;
}

export interface StaffUser {
  id_user: number;
  nama: string;
  alamat: string | null;
  telepon: string | null;
  id_jabatan: number;
  jabatan: Jabatan;
}

const jabatanOf = (r: Jabatan): Jabatan => ({
  id_jabatan: r.id_jabatan,
  nama_jabatan: r.nama_jabatan,
  deskripsi: r.deskripsi,
});

export const listJabatan = (db: Executor, skip: number, limit: number) =>
  db
    .selectFrom('staff_jabatan')
    .select(['id_jabatan', 'nama_jabatan', 'deskripsi'])
    .orderBy('id_jabatan')
    .offset(skip)
    .limit(limit)
    .execute();

export const getJabatan = (db: Executor, id: number) =>
  db
    .selectFrom('staff_jabatan')
    .select(['id_jabatan', 'nama_jabatan', 'deskripsi'])
    .where('id_jabatan', '=', id)
    .executeTakeFirst();

export const insertJabatan = (db: Executor, v: { nama_jabatan: string; deskripsi: string | null }, now: Date) =>
  db
    .insertInto('staff_jabatan')
    .values({ ...v, updated_at: now })
    .returning(['id_jabatan', 'nama_jabatan', 'deskripsi'])
    .executeTakeFirstOrThrow();

export const updateJabatan = (
  db: Executor,
  id: number,
  v: { nama_jabatan?: string; deskripsi?: string | null },
  now: Date,
) =>
  db
    .updateTable('staff_jabatan')
    .set({ ...v, updated_at: now })
    .where('id_jabatan', '=', id)
    .returning(['id_jabatan', 'nama_jabatan', 'deskripsi'])
    .executeTakeFirst();

export const deleteJabatan = (db: Executor, id: number) =>
  db
    .deleteFrom('staff_jabatan')
    .where('id_jabatan', '=', id)
    .returning(['id_jabatan', 'nama_jabatan', 'deskripsi'])
    .executeTakeFirst();

export async function jabatanInUse(db: Executor, id: number): Promise<boolean> {
  const row = await db
    .selectFrom('staff_users')
    .select('id_user')
    .where('id_jabatan', '=', id)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

const userColumns = [
  'staff_users.id_user',
  'staff_users.nama',
  'staff_users.alamat',
  'staff_users.telepon',
  'staff_users.id_jabatan',
  'staff_jabatan.nama_jabatan',
  'staff_jabatan.deskripsi',
] as const;

type UserJoinRow = {
  id_user: number;
  nama: string;
  alamat: string | null;
  telepon: string | null;
  id_jabatan: number;
  nama_jabatan: string;
  deskripsi: string | null;
};

const userOf = (r: UserJoinRow): StaffUser => ({
  id_user: r.id_user,
  nama: r.nama,
  alamat: r.alamat,
  telepon: r.telepon,
  id_jabatan: r.id_jabatan,
  jabatan: jabatanOf(r),
});

const usersQuery = (db: Executor) =>
  db
    .selectFrom('staff_users')
    .innerJoin('staff_jabatan', 'staff_jabatan.id_jabatan', 'staff_users.id_jabatan')
    .select(userColumns);

export async function listUsers(db: Executor, skip: number, limit: number): Promise<StaffUser[]> {
  const rows = await usersQuery(db).orderBy('staff_users.id_user').offset(skip).limit(limit).execute();
  return rows.map(userOf);
}

export async function getUser(db: Executor, id: number): Promise<StaffUser | undefined> {
  const row = await usersQuery(db).where('staff_users.id_user', '=', id).executeTakeFirst();
  return row ? userOf(row) : undefined;
}

export interface UserFields {
  nama: string;
  alamat: string | null;
  telepon: string | null;
  id_jabatan: number;
}

export async function insertUser(db: Executor, v: UserFields, now: Date): Promise<number> {
  const row = await db
    .insertInto('staff_users')
    .values({ ...v, updated_at: now })
    .returning('id_user')
    .executeTakeFirstOrThrow();
  return row.id_user;
}

export async function updateUser(db: Executor, id: number, v: Partial<UserFields>, now: Date): Promise<boolean> {
  const res = await db
    .updateTable('staff_users')
    .set({ ...v, updated_at: now })
    .where('id_user', '=', id)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

export async function deleteUser(db: Executor, id: number): Promise<void> {
  await db.deleteFrom('staff_users').where('id_user', '=', id).execute();
}
