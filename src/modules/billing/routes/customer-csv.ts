// Customers as CSV (seed 003): the import template (every billing user), the export (operators, level 10; the
// list's filters, streamed) and the import (administrators, level 50; multipart field `file`). Export and import
// carry the document's hourly limits.
import { Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Actor } from '../../../core/audit/audit.ts';
import { originOf } from '../../../core/audit/audit.ts';
import type { Core } from '../../../core/context.ts';
import { BOM, csvLine } from '../../../core/csv.ts';
import { AppError } from '../../../core/http/errors.ts';
import { createRouter, type Router } from '../../../core/http/route.ts';
import {
  CustomerExportQuery,
  ImportAnswer,
  ImportQuery,
  MAX_CSV_ROWS,
  TEMPLATE_EXAMPLE,
  TEMPLATE_HEADERS,
} from '../customer-csv.ts';
import { BILLING_LIMITS } from '../limits.ts';
import { exportChunks, startExport } from '../use-cases/export-customers.ts';
import { importCustomers, MAX_IMPORT_BYTES } from '../use-cases/import-customers.ts';

const CSV_TYPE = 'text/csv; charset=utf-8';
const attachment = (name: string) => `attachment; filename="${name}"`;

const actorOf = (req: { auth: { accountId: number }; id: string; ip: string }): Actor => ({
  accountId: req.auth.accountId,
  origin: originOf(req),
});

const codeOf = (err: unknown) =>
  typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;

/** The uploaded file's bytes (the field `file`), with the multipart parser's errors as 4xx in billing's words. */
async function uploadedFile(req: Pick<FastifyRequest, 'parts'>): Promise<Buffer> {
  let file: Buffer | undefined;
  try {
    const parts = req.parts({ limits: { fileSize: MAX_IMPORT_BYTES, files: 1, parts: 10, fields: 5 } });
    for await (const part of parts) {
      if (part.type === 'file' && part.fieldname === 'file' && file === undefined) file = await part.toBuffer();
      else if (part.type === 'file') await part.toBuffer();
    }
  } catch (err) {
    switch (codeOf(err)) {
      case 'FST_REQ_FILE_TOO_LARGE':
        throw new AppError('PAYLOAD_TOO_LARGE', `The file is larger than ${MAX_IMPORT_BYTES / 1024 / 1024} MB`);
      case 'FST_FILES_LIMIT':
        throw new AppError('BAD_REQUEST', 'Send one file, in the field "file"');
      case 'FST_PARTS_LIMIT':
      case 'FST_FIELDS_LIMIT':
        throw new AppError('PAYLOAD_TOO_LARGE', 'The upload has too many parts');
    }
    if (err instanceof Error && /multipart|boundary|Unexpected end|Malformed/i.test(err.message)) {
      throw new AppError('BAD_REQUEST', 'The multipart body is malformed or incomplete');
    }
    throw err;
  }
  if (!file) {
    throw new AppError('VALIDATION_ERROR', 'Validation failed', { details: { file: ['is required (a CSV file)'] } });
  }
  return file;
}

export async function registerCustomerCsvRoutes(router: Router, core: Core): Promise<void> {
  const { db } = core.database;
  const { general } = BILLING_LIMITS;

  router.get(
    '/api/pelanggan/template/csv',
    {
      auth: { level: 1 },
      limits: [general],
      schema: {
        summary: "The customer import template (the document's columns and its example row), UTF-8 with BOM",
        produces: ['text/csv'],
        response: { 200: Type.String({ description: 'CSV text' }) },
      },
    },
    (_req, reply) =>
      reply
        .type(CSV_TYPE)
        .header('content-disposition', attachment('template-pelanggan.csv'))
        .send(BOM + csvLine(TEMPLATE_HEADERS) + csvLine(TEMPLATE_EXAMPLE)),
  );

  router.get(
    '/api/pelanggan/export/csv',
    {
      auth: { level: 10 },
      limits: [general, BILLING_LIMITS.export],
      schema: {
        summary:
          "Export customers as CSV (the list's filters, up to 50,000 rows, streamed; the template's " +
          'eight columns then Alamat 2, Blok, Unit). ' +
          'No match is a file with the header row only; X-Total-Count gives the number of rows.',
        querystring: CustomerExportQuery,
        produces: ['text/csv'],
        response: { 200: Type.String({ description: 'CSV text, UTF-8 with BOM' }) },
      },
    },
    async (req, reply) => {
      const q = req.query;
      const request = {
        filter: {
          search: q.search?.trim() || undefined,
          alamat: q.alamat,
          idBrand: q.id_brand?.trim() || undefined,
          status: q.status,
        },
        skip: q.skip,
        limit: Math.min(q.limit, MAX_CSV_ROWS),
      };
      const rows = await startExport(db, request, actorOf(req), core.now());
      const day = core.now().toISOString().slice(0, 10).replaceAll('-', '');
      const body = Readable.from(exportChunks(db, request));
      body.on('error', (err) => req.log.error({ err }, 'customer export stopped'));
      return reply
        .type(CSV_TYPE)
        .header('content-disposition', attachment(`pelanggan-${day}.csv`))
        .header('x-total-count', rows)
        .header('cache-control', 'no-store')
        .send(body);
    },
  );

  // The multipart parser lives in this scope only, so no other billing route accepts multipart bodies.
  await router.app.register(async (scope) => {
    await scope.register(multipart, { throwFileSizeLimit: true });
    const scoped = createRouter(scope, core, { module: router.module, envelope: router.envelope });
    scoped.post(
      '/api/pelanggan/import',
      {
        auth: { level: 50 },
        limits: [general, BILLING_LIMITS.import],
        errors: [400, 413, 415],
        schema: {
          summary:
            'Import customers from the CSV template (multipart "file"; delimiter , or ;; Alamat 2, Blok and Unit ' +
            'columns optional). A file with bad rows writes ' +
            'nothing (422, each problem as {row, field, message}) unless skip_invalid; dry_run writes nothing; rows ' +
            'naming an existing customer (e-mail, else phone, else name and address) are skipped',
          querystring: ImportQuery,
          consumes: ['multipart/form-data'],
          response: { 200: ImportAnswer },
        },
      },
      async (req) => {
        if (!req.isMultipart()) {
          throw new AppError(
            'UNSUPPORTED_MEDIA_TYPE',
            'Send multipart/form-data with the CSV file in the field "file"',
          );
        }
        const bytes = await uploadedFile(req);
        return importCustomers(
          core,
          bytes,
          { dryRun: req.query.dry_run, skipInvalid: req.query.skip_invalid },
          actorOf(req),
          core.now(),
        );
      },
    );
  });
}
