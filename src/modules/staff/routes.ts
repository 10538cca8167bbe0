// HTTP for the staff module: plain JSON objects and `{"detail": …}` errors, as the FastAPI original answered.
// Positions and staff members are two resources of the one shape; the OTP endpoints are public and limited.
import { Type } from 'typebox';
import type { Core } from '../../core/context.ts';
import { resource } from '../../core/http/resource.ts';
import type { Router } from '../../core/http/route.ts';
import { STAFF_LIMITS } from './limits.ts';
import { MESSAGES } from './messages.ts';
import * as repo from './repo.ts';
import {
  Detail,
  JabatanCreate,
  JabatanParams,
  JabatanSchema,
  JabatanUpdate,
  Message,
  OtpGenerate,
  OtpVerify,
  Paging,
  UserCreate,
  UserParams,
  UserSchema,
  UserUpdate,
} from './schemas.ts';
import { createMember, updateMember } from './use-cases/members.ts';
import type { OtpUseCases } from './use-cases/otp.ts';
import { createPosition, deletePosition, updatePosition } from './use-cases/positions.ts';

const access = { read: { level: 1 }, write: { level: 50 } };
const same = <T>(row: T) => row;

export function registerStaffRoutes(router: Router, core: Core, otp: OtpUseCases) {
  const { db } = core.database;
  const { now } = core;
  const limits = [STAFF_LIMITS.general];

  resource(router, {
    db,
    now,
    collection: '/jabatan/',
    item: '/jabatan/:jabatan_id',
    params: JabatanParams,
    idOf: (p) => p.jabatan_id,
    access,
    limits,
    audit: 'staff.jabatan',
    notFound: MESSAGES.jabatanNotFound,
    find: repo.getJabatan,
    rowId: (j) => j.id_jabatan,
    list: {
      summary: 'List positions',
      query: Paging,
      response: Type.Array(JabatanSchema),
      run: (db, q) => repo.listJabatan(db, q.skip, q.limit),
    },
    get: { summary: 'One position', response: JabatanSchema, reply: same },
    create: {
      summary: 'Create a position',
      status: 200,
      body: JabatanCreate,
      response: JabatanSchema,
      run: (trx, v) => createPosition(trx, v, now()),
      reply: same,
    },
    update: {
      summary: 'Change a position (fields left out stay as they are)',
      body: JabatanUpdate,
      response: JabatanSchema,
      run: (trx, id, v) => updatePosition(trx, id, v, now()),
      reply: same,
    },
    remove: {
      summary: 'Delete a position (409 while a staff member still holds it); returns the deleted position',
      response: JabatanSchema,
      errors: [409],
      run: async (trx, id, before) => {
        await deletePosition(trx, id);
        return { row: before, outcome: 'deleted' };
      },
      reply: (r) => r.row,
    },
  });

  resource(router, {
    db,
    now,
    collection: '/users/',
    item: '/users/:user_id',
    params: UserParams,
    idOf: (p) => p.user_id,
    access,
    limits,
    audit: 'staff.user',
    notFound: MESSAGES.userNotFound,
    find: repo.getUser,
    rowId: (u) => u.id_user,
    list: {
      summary: 'List staff members',
      query: Paging,
      response: Type.Array(UserSchema),
      run: (db, q) => repo.listUsers(db, q.skip, q.limit),
    },
    get: { summary: 'One staff member', response: UserSchema, reply: same },
    create: {
      summary: 'Create a staff member',
      status: 200,
      errors: [400],
      body: UserCreate,
      response: UserSchema,
      run: (trx, v) => createMember(trx, v, now()),
      reply: same,
    },
    update: {
      summary: 'Change a staff member (fields left out stay as they are)',
      errors: [400],
      body: UserUpdate,
      response: UserSchema,
      run: (trx, id, v) => updateMember(trx, id, v, now()),
      reply: same,
    },
    remove: {
      summary: 'Delete a staff member; returns the deleted member',
      response: UserSchema,
      run: async (trx, id, before) => {
        await repo.deleteUser(trx, id);
        return { row: before, outcome: 'deleted' };
      },
      reply: (r) => r.row,
    },
  });

  // ---- OTP (public, rate limited) ----------------------------------------------------------------------------
  router.post(
    '/otp/generate',
    {
      auth: 'public',
      limits: [STAFF_LIMITS.otpGenerate],
      errors: [404],
      schema: {
        summary: 'Generate a 6-digit OTP for an id (returned outside production; sent by SMS in production)',
        body: OtpGenerate,
        response: { 200: Type.Union([Type.Object({ otp: Type.String() }), Message]) },
      },
    },
    (req) => otp.generate(req.body.id),
  );
  router.post(
    '/otp/verify',
    {
      auth: 'public',
      limits: [STAFF_LIMITS.otpVerify],
      errors: [404],
      schema: {
        summary: 'Verify an OTP: 400 wrong, 404 missing or expired, 429 after three wrong tries (the OTP is reset)',
        body: OtpVerify,
        response: { 200: Message, 400: Detail },
      },
    },
    (req) => otp.verify(req.body.id, req.body.otp),
  );
}
