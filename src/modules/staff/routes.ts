// HTTP for the staff module: plain JSON objects and `{"detail": …}` errors, as the FastAPI original answered.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { originOf } from '../../core/audit/audit.ts';
import type { Core } from '../../core/context.ts';
import { errorResponses } from '../../core/http/envelopes.ts';
import { rateLimit } from '../../core/limits/limiter.ts';
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
import type { StaffService } from './service.ts';

const READ = 1;
const WRITE = 50;

export function registerStaffRoutes(app: FastifyInstance, core: Core, service: StaffService) {
  const { guards } = core.identity;
  const read = guards.bearer('staff', READ);
  const write = guards.bearer('staff', WRITE);
  const limitsOn = core.config.rateLimits;
  const general = rateLimit(core.limiter, limitsOn, {
    name: 'staff-general',
    max: 100,
    windowMs: 60_000,
    by: 'account',
  });
  const otpGenerateLimit = rateLimit(core.limiter, limitsOn, {
    name: 'staff-otp-generate',
    max: 10,
    windowMs: 60_000,
    by: 'ip',
  });
  const otpVerifyLimit = rateLimit(core.limiter, limitsOn, {
    name: 'staff-otp-verify',
    max: 30,
    windowMs: 60_000,
    by: 'ip',
  });
  const config = { envelope: 'staff' as const };
  const security = [{ bearer: [] }];
  const actor = (req: FastifyRequest) => ({ accountId: req.auth!.accountId, origin: originOf(req) });
  const errors = (...codes: number[]) => errorResponses('staff', codes);

  // ---- jabatan -----------------------------------------------------------------------------------------------
  app.get(
    '/jabatan/',
    {
      config,
      onRequest: [read, general],
      schema: {
        tags: ['staff'],
        summary: 'List positions',
        security,
        querystring: Paging,
        response: { 200: Type.Array(JabatanSchema), ...errors(401, 403, 422) },
      },
    },
    async (req) => {
      const q = req.query as { skip: number; limit: number };
      return service.listJabatan(q.skip, q.limit);
    },
  );
  app.get(
    '/jabatan/:jabatan_id',
    {
      config,
      onRequest: [read, general],
      schema: {
        tags: ['staff'],
        summary: 'One position',
        security,
        params: JabatanParams,
        response: { 200: JabatanSchema, ...errors(401, 403, 404, 422) },
      },
    },
    async (req) => service.getJabatan((req.params as { jabatan_id: number }).jabatan_id),
  );
  app.post(
    '/jabatan/',
    {
      config,
      onRequest: [write, general],
      schema: {
        tags: ['staff'],
        summary: 'Create a position',
        security,
        body: JabatanCreate,
        response: { 200: JabatanSchema, ...errors(401, 403, 422) },
      },
    },
    async (req) => service.createJabatan(req.body as { nama_jabatan: string; deskripsi?: string | null }, actor(req)),
  );
  app.put(
    '/jabatan/:jabatan_id',
    {
      config,
      onRequest: [write, general],
      schema: {
        tags: ['staff'],
        summary: 'Change a position (fields left out stay as they are)',
        security,
        params: JabatanParams,
        body: JabatanUpdate,
        response: { 200: JabatanSchema, ...errors(401, 403, 404, 422) },
      },
    },
    async (req) =>
      service.updateJabatan((req.params as { jabatan_id: number }).jabatan_id, req.body as object, actor(req)),
  );
  app.delete(
    '/jabatan/:jabatan_id',
    {
      config,
      onRequest: [write, general],
      schema: {
        tags: ['staff'],
        summary: 'Delete a position (409 while a staff member still holds it); returns the deleted position',
        security,
        params: JabatanParams,
        response: { 200: JabatanSchema, ...errors(401, 403, 404, 409, 422) },
      },
    },
    async (req) => service.deleteJabatan((req.params as { jabatan_id: number }).jabatan_id, actor(req)),
  );

  // ---- users -------------------------------------------------------------------------------------------------
  app.post(
    '/users/',
    {
      config,
      onRequest: [write, general],
      schema: {
        tags: ['staff'],
        summary: 'Create a staff member',
        security,
        body: UserCreate,
        response: { 200: UserSchema, ...errors(400, 401, 403, 422) },
      },
    },
    async (req) => service.createUser(req.body as { nama: string; id_jabatan: number }, actor(req)),
  );
  app.get(
    '/users/',
    {
      config,
      onRequest: [read, general],
      schema: {
        tags: ['staff'],
        summary: 'List staff members',
        security,
        querystring: Paging,
        response: { 200: Type.Array(UserSchema), ...errors(401, 403, 422) },
      },
    },
    async (req) => {
      const q = req.query as { skip: number; limit: number };
      return service.listUsers(q.skip, q.limit);
    },
  );
  app.get(
    '/users/:user_id',
    {
      config,
      onRequest: [read, general],
      schema: {
        tags: ['staff'],
        summary: 'One staff member',
        security,
        params: UserParams,
        response: { 200: UserSchema, ...errors(401, 403, 404, 422) },
      },
    },
    async (req) => service.getUser((req.params as { user_id: number }).user_id),
  );
  app.put(
    '/users/:user_id',
    {
      config,
      onRequest: [write, general],
      schema: {
        tags: ['staff'],
        summary: 'Change a staff member (fields left out stay as they are)',
        security,
        params: UserParams,
        body: UserUpdate,
        response: { 200: UserSchema, ...errors(400, 401, 403, 404, 422) },
      },
    },
    async (req) => service.updateUser((req.params as { user_id: number }).user_id, req.body as object, actor(req)),
  );
  app.delete(
    '/users/:user_id',
    {
      config,
      onRequest: [write, general],
      schema: {
        tags: ['staff'],
        summary: 'Delete a staff member; returns the deleted member',
        security,
        params: UserParams,
        response: { 200: UserSchema, ...errors(401, 403, 404, 422) },
      },
    },
    async (req) => service.deleteUser((req.params as { user_id: number }).user_id, actor(req)),
  );

  // ---- OTP (public, rate limited) ----------------------------------------------------------------------------
  app.post(
    '/otp/generate',
    {
      config,
      onRequest: [otpGenerateLimit],
      schema: {
        tags: ['staff'],
        summary: 'Generate a 6-digit OTP for an id (returned outside production; sent by SMS in production)',
        body: OtpGenerate,
        response: { 200: Type.Union([Type.Object({ otp: Type.String() }), Message]), ...errors(404, 422, 429) },
      },
    },
    async (req) => service.generateOtp((req.body as { id: number | string }).id),
  );
  app.post(
    '/otp/verify',
    {
      config,
      onRequest: [otpVerifyLimit],
      schema: {
        tags: ['staff'],
        summary: 'Verify an OTP: 400 wrong, 404 missing or expired, 429 after three wrong tries (the OTP is reset)',
        body: OtpVerify,
        response: { 200: Message, 400: Detail, ...errors(404, 422, 429) },
      },
    },
    async (req) => {
      const b = req.body as { id: number | string; otp: string };
      return service.verifyOtp(b.id, b.otp);
    },
  );
}
