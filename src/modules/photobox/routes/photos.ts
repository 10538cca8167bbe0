// Photos: a kiosk uploads them for a COMPLETED transaction (multipart); the gallery and the photo files are public
// (the photo URLs carry an unguessable token).
import multipart from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Core } from '../../../core/context.ts';
import { AppError } from '../../../core/http/errors.ts';
import { createRouter, type Router } from '../../../core/http/route.ts';
import { MAX_PHOTO_BYTES } from '../constants.ts';
import { photoboxOkSchema as ok, photoboxOk } from '../envelope.ts';
import { PHOTOBOX_LIMITS } from '../limits.ts';
import { Encrypted, ExternalIdParams, GalleryView, UploadResult } from '../schemas.ts';
import { gallery } from '../use-cases/gallery.ts';
import { openPhoto } from '../use-cases/open-photo.ts';
import { type UploadPart, uploadPhotos } from '../use-cases/upload-photos.ts';
import type { PhotoboxDeps } from '../wire.ts';
import type { kioskReader } from './kiosk-read.ts';

const codeOf = (err: unknown) =>
  typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;

/** The multipart parser's errors in the module's words (a 4xx each); anything else is left as it is. */
function uploadError(err: unknown, maxFiles: number, filename?: string): unknown {
  if (err instanceof AppError) return err;
  switch (codeOf(err)) {
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

/** The multipart body as the use case reads it, with the parser's errors in the module's words. */
async function* uploadParts(request: Pick<FastifyRequest, 'parts'>, maxFiles: number): AsyncGenerator<UploadPart> {
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

export async function photoRoutes(
  router: Router,
  deps: PhotoboxDeps,
  core: Core,
  sendKioskRead: ReturnType<typeof kioskReader>,
) {
  const { general, public: open } = PHOTOBOX_LIMITS;

  router.get(
    '/api/v1/transactions/:external_id/photos',
    {
      auth: 'public',
      limits: [open],
      errors: [404],
      schema: {
        summary: 'The gallery of a transaction (public; 404 until the gallery e-mail is sent and after it expires)',
        params: ExternalIdParams,
        response: { 200: Type.Union([GalleryView, Encrypted]) },
      },
    },
    async (req, reply) => sendKioskRead(reply, await gallery(deps, req.params.external_id)),
  );

  router.get(
    '/api/v1/photos/:token',
    {
      auth: 'public',
      limits: [open],
      errors: [404, 503],
      schema: {
        summary: 'One photo (JPEG or PNG); the URL comes from the gallery and stops working when it expires',
        params: Type.Object({ token: Type.String({ maxLength: 64 }) }),
        produces: ['image/jpeg', 'image/png'],
        response: { 200: Type.Unknown({ description: 'the image' }) },
      },
    },
    async (req, reply) => {
      const photo = await openPhoto(deps, req.params.token);
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
  const maxFiles = deps.config.photoboxMaxFilesPerUpload;
  await router.app.register(async (scope) => {
    await scope.register(multipart, { throwFileSizeLimit: true });
    const scoped = createRouter(scope, core, { module: router.module, envelope: router.envelope });
    scoped.post(
      '/api/v1/transactions/:external_id/photos',
      {
        auth: { level: 1, apiKey: true },
        limits: [general],
        errors: [400, 404, 409, 413, 415, 503],
        schema: {
          summary: `Upload photos of a COMPLETED transaction (multipart "files", JPEG/PNG, ≤ 10 MB each, ≤ ${maxFiles} per upload); the first upload e-mails the gallery link`,
          params: ExternalIdParams,
          consumes: ['multipart/form-data'],
          response: { 201: ok(UploadResult) },
        },
      },
      async (req, reply) => {
        if (!req.isMultipart()) {
          throw new AppError(
            'UNSUPPORTED_MEDIA_TYPE',
            'Send multipart/form-data with the photos in the field "files" (and optionally "email")',
          );
        }
        const data = await uploadPhotos(deps, req.params.external_id, uploadParts(req, maxFiles));
        return reply.code(201).send(photoboxOk(data, 'Photos uploaded successfully'));
      },
    );
  });
}
