// HTTP for the photobox module: the document's paths under /api/v1 and its `{success, message, data}` envelope.
// Reads need photobox level 1, writes level 50; the kiosk's routes also take a kiosk's x-api-key; polling, the
// gallery and the photo files are public (the photo URLs carry an unguessable token).
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type TSchema, Type } from 'typebox';
import { originOf } from '../../core/audit/audit.ts';
import type { Core } from '../../core/context.ts';
import { errorResponses } from '../../core/http/envelopes.ts';
import { AppError } from '../../core/http/errors.ts';
import { rateLimit } from '../../core/limits/limiter.ts';
import { type ResponseSealer, SIGNATURE_HEADER } from './encryption.ts';
import { photoboxEnvelope, photoboxOk, photoboxOkSchema } from './envelope.ts';
import { STATUSES, type TransactionStatus } from './repo.ts';
import {
  CountQuery,
  Encrypted,
  ExternalIdParams,
  GalleryView,
  KioskCreate,
  KioskKey,
  KioskParams,
  KioskView,
  ListQuery,
  LocationCreate,
  LocationParams,
  LocationUpdate,
  LocationView,
  PriceCreate,
  PriceParams,
  PriceUpdate,
  PriceView,
  pagedSchema,
  TransactionCreate,
  TransactionCreated,
  TransactionListQuery,
  TransactionRow,
  TransactionStatusView,
  UploadResult,
} from './schemas.ts';
import { MAX_PHOTO_BYTES, MODULE, type PhotoboxService, type UploadPart } from './service.ts';

const READ = 1;
const WRITE = 50;
const config = { envelope: photoboxEnvelope };
const bearerOnly = [{ bearer: [] }];
const eitherAuth: Record<string, string[]>[] = [{ bearer: [] }, { apiKey: [] }];
const errors = (...codes: number[]) => errorResponses(photoboxEnvelope, codes);
const ok = <T extends TSchema>(data: T) => photoboxOkSchema(data);

/** "COMPLETED,PENDING" → the statuses, or a 422 naming the bad one. */
function parseStatuses(raw: string | undefined): TransactionStatus[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const list = [...new Set(raw.split(',').map((s) => s.trim().toUpperCase()))].filter((s) => s !== '');
  const bad = list.filter((s) => !(STATUSES as readonly string[]).includes(s));
  if (bad.length > 0) {
    throw new AppError('VALIDATION_ERROR', `Unknown status ${bad.join(', ')}; use ${STATUSES.join(', ')}`, {
      details: { status: [`must be a comma-separated list of ${STATUSES.join(', ')}`] },
    });
  }
  return list as TransactionStatus[];
}

/** The multipart parser's errors in the module's words (a 4xx each); anything else is left as it is. */
function uploadError(err: unknown, maxFiles: number, filename?: string): unknown {
  if (err instanceof AppError) return err;
  switch ((err as { code?: string }).code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return new AppError(
        'PAYLOAD_TOO_LARGE',
        `${JSON.stringify((filename ?? 'A file').slice(0, 80))} is larger than 10 MB`,
      );
    case 'FST_FILES_LIMIT':
      return new AppError('BUSINESS_LOGIC_ERROR', `Too many files: at most ${maxFiles} photos per upload`);
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new AppError('PAYLOAD_TOO_LARGE', 'The upload has too many parts');
    case 'FST_PROTO_VIOLATION':
    case 'FST_INVALID_JSON_FIELD_ERROR':
      return new AppError('BAD_REQUEST', 'The multipart body has a field that is not allowed');
  }
  // busboy's own complaints (a missing boundary, a body that ends mid-part) are plain Errors.
  if (err instanceof Error && /multipart|boundary|Unexpected end|Malformed/i.test(err.message)) {
    return new AppError('BAD_REQUEST', 'The multipart body is malformed or incomplete');
  }
  return err;
}

/** The multipart body as the service reads it, with the parser's errors in the module's words. */
async function* uploadParts(request: FastifyRequest, maxFiles: number): AsyncGenerator<UploadPart> {
  try {
    const parts = request.parts({
      limits: { fileSize: MAX_PHOTO_BYTES, files: maxFiles + 1, parts: maxFiles + 20, fields: 10, fieldSize: 1024 },
    });
    for await (const part of parts) {
      if (part.type === 'file') {
        yield {
          type: 'file',
          field: part.fieldname,
          filename: part.filename,
          read: async () => {
            try {
              return await part.toBuffer();
            } catch (err) {
              throw uploadError(err, maxFiles, part.filename);
            }
          },
        };
      } else {
        yield { type: 'field', name: part.fieldname, value: String(part.value ?? '') };
      }
    }
  } catch (err) {
    throw uploadError(err, maxFiles);
  }
}

export async function registerPhotoboxRoutes(
  app: FastifyInstance,
  core: Core,
  service: PhotoboxService,
  sealer: ResponseSealer | undefined,
) {
  const { guards } = core.identity;
  const reader = guards.bearer(MODULE, READ);
  const writer = guards.bearer(MODULE, WRITE);
  const kiosk = guards.bearerOrKey(MODULE, READ);
  const limitsOn = core.config.rateLimits;
  // Kiosks poll every 3 seconds, often many behind one address: the public limit is generous.
  const publicLimit = rateLimit(core.limiter, limitsOn, {
    name: 'photobox-public',
    max: 600,
    windowMs: 60_000,
    by: 'ip',
  });
  const general = rateLimit(core.limiter, limitsOn, {
    name: 'photobox-general',
    max: 600,
    windowMs: 60_000,
    by: 'account',
  });
  const actor = (req: FastifyRequest) => ({ accountId: req.auth!.accountId, origin: originOf(req) });
  const exposeSignature = core.config.corsOrigins.length > 0;

  // A polling answer served from the status cache is the same object each time: its text (and ciphertext) is
  // computed once per cached answer.
  const rendered = new WeakMap<object, { body: string; signature?: string }>();
  /** The two kiosk reads: plain JSON, or the document's `{"data": base64}` plus the HMAC header. */
  function sendKioskRead(reply: FastifyReply, body: unknown, memo?: object) {
    let out = memo ? rendered.get(memo) : undefined;
    if (!out) {
      const json = JSON.stringify(body);
      out = sealer ? sealer.seal(json) : { body: json };
      if (memo) rendered.set(memo, out);
    }
    reply.type('application/json; charset=utf-8').header('cache-control', 'no-store');
    if (!out.signature) return reply.send(out.body);
    const sealed = out as { body: string; signature: string };
    reply.header(SIGNATURE_HEADER, sealed.signature);
    if (exposeSignature)
      reply.header('access-control-expose-headers', `x-request-id, retry-after, ${SIGNATURE_HEADER}`);
    return reply.send(sealed.body);
  }

  const tags = ['photobox'];

  // ---- transactions --------------------------------------------------------------------------------------------
  app.post(
    '/api/v1/transactions',
    {
      config,
      onRequest: [kiosk, general],
      schema: {
        tags,
        summary: 'Create a transaction and its QRIS (valid 15 minutes); amount = the price, or PHOTOBOX_AMOUNT',
        security: eitherAuth,
        body: TransactionCreate,
        response: { 201: ok(TransactionCreated), ...errors(401, 403, 404, 409, 422, 429, 502) },
      },
    },
    async (req, reply) => {
      const data = await service.createTransaction(
        req.body as { location_id: number; price_id?: number | null; email?: string | null; send_invoice?: boolean },
        { accountId: req.auth!.accountId },
      );
      return reply.code(201).send(photoboxOk(data, 'Transaction created successfully'));
    },
  );

  app.get(
    '/api/v1/transactions/external/:external_id',
    {
      config,
      onRequest: [publicLimit],
      schema: {
        tags,
        summary: 'Poll a transaction by external id (public; encrypted when ENCRYPTION_ENABLED=on)',
        params: ExternalIdParams,
        response: {
          200: Type.Union([ok(TransactionStatusView), Encrypted]),
          ...errors(404, 422, 429),
        },
      },
    },
    async (req, reply) => {
      const data = await service.status((req.params as { external_id: string }).external_id);
      return sendKioskRead(reply, photoboxOk(data, 'Transaction retrieved successfully'), data);
    },
  );

  app.get(
    '/api/v1/transactions/count',
    {
      config,
      onRequest: [reader, general],
      schema: {
        tags,
        summary: 'Count transactions, optionally of some statuses ("COMPLETED,PENDING")',
        security: bearerOnly,
        querystring: CountQuery,
        response: { 200: ok(Type.Object({ count: Type.Integer() })), ...errors(401, 403, 422, 429) },
      },
    },
    async (req) => {
      const count = await service.count(parseStatuses((req.query as { status?: string }).status));
      return photoboxOk({ count }, 'Transaction count retrieved successfully');
    },
  );

  app.get(
    '/api/v1/transactions',
    {
      config,
      onRequest: [reader, general],
      schema: {
        tags,
        summary: 'List transactions, newest first; search by external id or location name',
        security: bearerOnly,
        querystring: TransactionListQuery,
        response: { 200: pagedSchema(TransactionRow), ...errors(401, 403, 422, 429) },
      },
    },
    async (req) => {
      const q = req.query as { search?: string; skip: number; limit: number; status?: string; location_id?: number };
      const page = await service.listTransactions({
        search: q.search?.trim() || undefined,
        statuses: parseStatuses(q.status),
        locationId: q.location_id,
        skip: q.skip,
        limit: q.limit,
      });
      return { success: true as const, message: 'Transactions retrieved successfully', ...page };
    },
  );

  // ---- photos --------------------------------------------------------------------------------------------------
  app.get(
    '/api/v1/transactions/:external_id/photos',
    {
      config,
      onRequest: [publicLimit],
      schema: {
        tags,
        summary: 'The gallery of a transaction (public; 404 until the gallery e-mail is sent and after it expires)',
        params: ExternalIdParams,
        response: { 200: Type.Union([GalleryView, Encrypted]), ...errors(404, 422, 429) },
      },
    },
    async (req, reply) =>
      sendKioskRead(reply, await service.gallery((req.params as { external_id: string }).external_id)),
  );

  app.get(
    '/api/v1/photos/:token',
    {
      config,
      onRequest: [publicLimit],
      schema: {
        tags,
        summary: 'One photo (JPEG or PNG); the URL comes from the gallery and stops working when it expires',
        params: Type.Object({ token: Type.String({ maxLength: 64 }) }),
        produces: ['image/jpeg', 'image/png'],
        response: { 200: Type.Unknown({ description: 'the image' }), ...errors(404, 429, 503) },
      },
    },
    async (req, reply) => {
      const photo = await service.openPhoto((req.params as { token: string }).token);
      return (
        reply
          .type(photo.contentType)
          .header('content-length', photo.size)
          .header('cache-control', 'private, max-age=86400')
          // Meant to be shown anywhere the link goes (a gallery page on another origin, a mail client).
          .header('cross-origin-resource-policy', 'cross-origin')
          .header('content-disposition', `inline; filename="${photo.filename}"`)
          .send(photo.body)
      );
    },
  );

  // Uploads are multipart: the parser lives in this scope only, so no other route accepts multipart bodies.
  const maxFiles = core.config.photoboxMaxFilesPerUpload;
  await app.register(async (scope) => {
    await scope.register(multipart, { throwFileSizeLimit: true });
    scope.post(
      '/api/v1/transactions/:external_id/photos',
      {
        config,
        onRequest: [kiosk, general],
        schema: {
          tags,
          summary: `Upload photos of a COMPLETED transaction (multipart "files", JPEG/PNG, ≤ 10 MB each, ≤ ${maxFiles} per upload); the first upload e-mails the gallery link`,
          security: eitherAuth,
          params: ExternalIdParams,
          consumes: ['multipart/form-data'],
          response: { 201: ok(UploadResult), ...errors(400, 401, 403, 404, 409, 413, 415, 422, 429, 503) },
        },
      },
      async (req, reply) => {
        if (!req.isMultipart()) {
          throw new AppError(
            'UNSUPPORTED_MEDIA_TYPE',
            'Send multipart/form-data with the photos in the field "files" (and optionally "email")',
          );
        }
        const { external_id } = req.params as { external_id: string };
        const data = await service.addPhotos(external_id, uploadParts(req, maxFiles));
        return reply.code(201).send(photoboxOk(data, 'Photos uploaded successfully'));
      },
    );
  });

  // ---- locations -----------------------------------------------------------------------------------------------
  app.get(
    '/api/v1/locations',
    {
      config,
      onRequest: [kiosk, general],
      schema: {
        tags,
        summary: 'List locations (search by name; is_active to filter)',
        security: eitherAuth,
        querystring: ListQuery,
        response: { 200: pagedSchema(LocationView), ...errors(401, 403, 422, 429) },
      },
    },
    async (req) => {
      const q = req.query as { search?: string; skip: number; limit: number; is_active?: boolean };
      const page = await service.listLocations({
        search: q.search?.trim() || undefined,
        isActive: q.is_active,
        skip: q.skip,
        limit: q.limit,
      });
      return { success: true as const, message: 'Locations retrieved successfully', ...page };
    },
  );

  app.get(
    '/api/v1/locations/:id',
    {
      config,
      onRequest: [kiosk, general],
      schema: {
        tags,
        summary: 'One location',
        security: eitherAuth,
        params: LocationParams,
        response: { 200: ok(LocationView), ...errors(401, 403, 404, 422, 429) },
      },
    },
    async (req) =>
      photoboxOk(await service.getLocation((req.params as { id: number }).id), 'Location retrieved successfully'),
  );

  app.post(
    '/api/v1/locations',
    {
      config,
      onRequest: [writer, general],
      schema: {
        tags,
        summary: 'Create a location (names are unique, case-insensitively)',
        security: bearerOnly,
        body: LocationCreate,
        response: { 201: ok(LocationView), ...errors(401, 403, 409, 422, 429) },
      },
    },
    async (req, reply) => {
      const l = await service.createLocation(req.body as { ml_name: string }, actor(req));
      return reply.code(201).send(photoboxOk(l, 'Location created successfully'));
    },
  );

  app.put(
    '/api/v1/locations/:id',
    {
      config,
      onRequest: [writer, general],
      schema: {
        tags,
        summary: 'Change a location (fields left out stay as they are)',
        security: bearerOnly,
        params: LocationParams,
        body: LocationUpdate,
        response: { 200: ok(LocationView), ...errors(401, 403, 404, 409, 422, 429) },
      },
    },
    async (req) =>
      photoboxOk(
        await service.updateLocation((req.params as { id: number }).id, req.body as object, actor(req)),
        'Location updated successfully',
      ),
  );

  app.delete(
    '/api/v1/locations/:id',
    {
      config,
      onRequest: [writer, general],
      schema: {
        tags,
        summary: 'Delete a location; one with transactions is deactivated instead, keeping its history',
        security: bearerOnly,
        params: LocationParams,
        response: { 200: ok(LocationView), ...errors(401, 403, 404, 422, 429) },
      },
    },
    async (req) => {
      const r = await service.deleteLocation((req.params as { id: number }).id, actor(req));
      return photoboxOk(
        r.location,
        r.result === 'deleted'
          ? 'Location deleted successfully'
          : 'Location has transactions, so it was deactivated instead of deleted',
      );
    },
  );

  // ---- prices --------------------------------------------------------------------------------------------------
  app.get(
    '/api/v1/prices',
    {
      config,
      onRequest: [kiosk, general],
      schema: {
        tags,
        summary: 'List prices with their remaining quota',
        security: eitherAuth,
        querystring: ListQuery,
        response: { 200: pagedSchema(PriceView), ...errors(401, 403, 422, 429) },
      },
    },
    async (req) => {
      const q = req.query as { search?: string; skip: number; limit: number; is_active?: boolean };
      const page = await service.listPrices({
        search: q.search?.trim() || undefined,
        isActive: q.is_active,
        skip: q.skip,
        limit: q.limit,
      });
      return { success: true as const, message: 'Prices retrieved successfully', ...page };
    },
  );

  app.get(
    '/api/v1/prices/:id',
    {
      config,
      onRequest: [kiosk, general],
      schema: {
        tags,
        summary: 'One price',
        security: eitherAuth,
        params: PriceParams,
        response: { 200: ok(PriceView), ...errors(401, 403, 404, 422, 429) },
      },
    },
    async (req) =>
      photoboxOk(await service.getPrice((req.params as { id: number }).id), 'Price retrieved successfully'),
  );

  app.post(
    '/api/v1/prices',
    {
      config,
      onRequest: [writer, general],
      schema: {
        tags,
        summary: 'Create a price (mp_quota: how many sessions may be sold at it; null or absent: unlimited)',
        security: bearerOnly,
        body: PriceCreate,
        response: { 201: ok(PriceView), ...errors(401, 403, 422, 429) },
      },
    },
    async (req, reply) => {
      const p = await service.createPrice(req.body as { mp_name: string; mp_amount: number }, actor(req));
      return reply.code(201).send(photoboxOk(p, 'Price created successfully'));
    },
  );

  app.put(
    '/api/v1/prices/:id',
    {
      config,
      onRequest: [writer, general],
      schema: {
        tags,
        summary: 'Change a price (fields left out stay as they are)',
        security: bearerOnly,
        params: PriceParams,
        body: PriceUpdate,
        response: { 200: ok(PriceView), ...errors(401, 403, 404, 422, 429) },
      },
    },
    async (req) =>
      photoboxOk(
        await service.updatePrice((req.params as { id: number }).id, req.body as object, actor(req)),
        'Price updated successfully',
      ),
  );

  app.delete(
    '/api/v1/prices/:id',
    {
      config,
      onRequest: [writer, general],
      schema: {
        tags,
        summary: 'Delete a price; one that transactions used is deactivated instead',
        security: bearerOnly,
        params: PriceParams,
        response: { 200: ok(PriceView), ...errors(401, 403, 404, 422, 429) },
      },
    },
    async (req) => {
      const r = await service.deletePrice((req.params as { id: number }).id, actor(req));
      return photoboxOk(
        r.price,
        r.result === 'deleted'
          ? 'Price deleted successfully'
          : 'Price was used by transactions, so it was deactivated instead of deleted',
      );
    },
  );

  // ---- kiosks (photobox admins) --------------------------------------------------------------------------------
  app.post(
    '/api/v1/kiosks',
    {
      config,
      onRequest: [writer, general],
      schema: {
        tags,
        summary: 'Register a kiosk: an account with photobox level 1 and an API key (shown once; send as x-api-key)',
        security: bearerOnly,
        body: KioskCreate,
        response: { 201: ok(KioskKey), ...errors(401, 403, 409, 422, 429) },
      },
    },
    async (req, reply) => {
      const k = await service.createKiosk((req.body as { name: string }).name, actor(req));
      return reply.code(201).send(photoboxOk(k, 'Kiosk created; store the API key now, it is shown only once'));
    },
  );

  app.get(
    '/api/v1/kiosks',
    {
      config,
      onRequest: [writer, general],
      schema: {
        tags,
        summary: 'List kiosks (no secrets: only the first characters of each key)',
        security: bearerOnly,
        response: { 200: ok(Type.Array(KioskView)), ...errors(401, 403, 429) },
      },
    },
    async () => photoboxOk(await service.listKiosks(), 'Kiosks retrieved successfully'),
  );

  app.post(
    '/api/v1/kiosks/:id/key',
    {
      config,
      onRequest: [writer, general],
      schema: {
        tags,
        summary: "Rotate a kiosk's API key: the new key is shown once, the old one stops working at once",
        security: bearerOnly,
        params: KioskParams,
        response: { 201: ok(KioskKey), ...errors(401, 403, 404, 422, 429) },
      },
    },
    async (req, reply) => {
      const k = await service.rotateKioskKey((req.params as { id: number }).id, actor(req));
      return reply.code(201).send(photoboxOk(k, 'New kiosk key issued; store it now, it is shown only once'));
    },
  );

  app.delete(
    '/api/v1/kiosks/:id',
    {
      config,
      onRequest: [writer, general],
      schema: {
        tags,
        summary: 'Remove a kiosk: its key stops working and its account is disabled',
        security: bearerOnly,
        params: KioskParams,
        response: {
          200: ok(Type.Object({ kiosk_id: Type.Integer(), name: Type.String() })),
          ...errors(401, 403, 404, 422, 429),
        },
      },
    },
    async (req) =>
      photoboxOk(await service.deleteKiosk((req.params as { id: number }).id, actor(req)), 'Kiosk removed'),
  );
}
