// CSV import of customers (the document's template, optionally followed by the original's `Alamat 2`, `Blok` and
// `Unit`). Every record is checked with the rules of `POST /api/pelanggan/` (the create's schema, then
// `checkCustomer`), packages matched by name within the row's brand and brands by id. A file with any bad row writes
// nothing (422, each problem as `{row, field, message}`) unless `skip_invalid` is asked; `dry_run` checks everything
// and writes nothing.
//
// Identity, so that importing a file again creates nobody twice: a customer is its e-mail (case-insensitive) when
// it has one, else its phone number (as stored, 08…), else its name and address (case-insensitive). A row whose
// identity is a live customer's, or an earlier row's in the same file, is skipped, not an error: an import never
// changes an existing customer, not even to fill an empty `alamat_2`, `blok` or `unit`.
//
// The checks against the catalogue, the duplicate search and the inserts (set-based, a few statements) run in one
// transaction, and imports take turns (an advisory lock), so two uploads of one file at once cannot both create.
import type { Static } from 'typebox';
import { type Actor, recordAction } from '../../../core/audit/audit.ts';
import type { Core } from '../../../core/context.ts';
import { CsvError, detectDelimiter, parseCsv, unguard } from '../../../core/csv.ts';
import { withTransaction } from '../../../core/db/transaction.ts';
import { compileCheck } from '../../../core/http/check.ts';
import { AppError } from '../../../core/http/errors.ts';
import { CSV_COLUMNS, type CsvField, CustomerImportRow, columnFor, MAX_CSV_ROWS } from '../customer-csv.ts';
import { RowErrors, type RowProblem } from '../envelope.ts';
import { importDone, notifyBilling } from '../notifications.ts';
import { customersSharing, insertCustomers, lockImports } from '../repo/customer-csv.ts';
import type { CustomerFields } from '../repo/customers.ts';
import { cachedCatalogue, checkCustomer, dbCatalogue, newCustomerFields } from './customers.ts';

export const MAX_IMPORT_BYTES = 20 * 1024 * 1024;

export interface ImportOptions {
  dryRun: boolean;
  skipInvalid: boolean;
}

export interface ImportAnswer {
  dry_run: boolean;
  total_rows: number;
  created: number;
  skipped: number;
  invalid: number;
  skipped_rows: { row: number; pelanggan_id: number | null; reason: string }[];
  errors: RowProblem[];
  ignored_columns: string[];
}

const checkRow = compileCheck(CustomerImportRow);
const HEADER_OF = new Map<string, string>(CSV_COLUMNS.map((c) => [c.field, c.header]));
const fileProblem = (message: string) =>
  new AppError('VALIDATION_ERROR', 'Validation failed', { details: { file: [message] } });

/** A customer's identity for the duplicate check (see the top of this file). */
export function identityOf(c: { nama: string; email: string | null; no_telp: string | null; alamat: string | null }) {
  if (c.email) return `email:${c.email.trim().toLowerCase()}`;
  if (c.no_telp) return `phone:${c.no_telp}`;
  return `name:${c.nama.trim().toLowerCase()}\n${(c.alamat ?? '').trim().toLowerCase()}`;
}

interface FileRow {
  row: number;
  values: Partial<Record<CsvField, string>>;
}

/** The file's records as field values, with the problems of its form (encoding, quotes, header). */
function readFile(bytes: Buffer): { rows: FileRow[]; ignored: string[] } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw fileProblem('is not UTF-8 text; save it as "CSV UTF-8"');
  }
  let records: string[][];
  try {
    records = parseCsv(text, detectDelimiter(text.replace(/^\uFEFF/, '')), 2 * MAX_CSV_ROWS + 1);
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    if (err.kind === 'too-many-records') throw tooLarge();
    throw new RowErrors([{ row: err.record, field: 'file', message: err.message }]);
  }
  const header = records[0];
  if (!header || header.every((h) => h.trim() === '')) throw fileProblem('is empty; use the template');
  const columns: ({ field: CsvField } | undefined)[] = [];
  const ignored: string[] = [];
  const seen = new Set<CsvField>();
  const problems: RowProblem[] = [];
  for (const cell of header) {
    const col = columnFor(cell);
    if (col && seen.has(col.field)) problems.push({ row: 1, field: cell.trim(), message: 'column appears twice' });
    if (col) seen.add(col.field);
    else if (cell.trim() !== '') ignored.push(cell.trim());
    columns.push(col);
  }
  if (!seen.has('nama')) problems.push({ row: 1, field: 'Nama', message: 'the header has no Nama column' });
  if (problems.length > 0) throw new RowErrors(problems);

  const rows: FileRow[] = [];
  for (let i = 1; i < records.length; i++) {
    const record = records[i] ?? [];
    if (record.every((c) => c.trim() === '')) continue;
    const values: FileRow['values'] = {};
    for (let j = 0; j < columns.length; j++) {
      const col = columns[j];
      const value = unguard((record[j] ?? '').trim());
      if (col && value !== '') values[col.field] = value;
    }
    rows.push({ row: i + 1, values });
  }
  if (rows.length === 0) throw fileProblem('has no customer rows under its header');
  if (rows.length > MAX_CSV_ROWS) throw tooLarge();
  return { rows, ignored };
}

const tooLarge = () =>
  new AppError('PAYLOAD_TOO_LARGE', `A file may hold at most ${MAX_CSV_ROWS.toLocaleString('en')} customers`);

const problemsOf = (row: number, errors: Record<string, string[]>): RowProblem[] =>
  Object.entries(errors).flatMap(([field, messages]) =>
    messages.map((message) => ({ row, field: HEADER_OF.get(field) ?? field, message })),
  );

export async function importCustomers(
  core: Pick<Core, 'database' | 'notifications'>,
  bytes: Buffer,
  opts: ImportOptions,
  actor: Actor,
  now: Date,
): Promise<ImportAnswer> {
  const { rows, ignored } = readFile(bytes);
  const errors: RowProblem[] = [];
  // Each row through the create's schema; a row with problems there still has its other cells checked against
  // the catalogue (without the refused cells), so one upload reports everything that is wrong with it.
  const shaped: { row: number; input: Static<typeof CustomerImportRow>; valid: boolean }[] = [];
  for (const r of rows) {
    const checked = checkRow(r.values);
    if (checked.ok) {
      shaped.push({ row: r.row, input: checked.value, valid: true });
      continue;
    }
    errors.push(...problemsOf(r.row, checked.errors));
    const rest = { ...r.values };
    for (const c of CSV_COLUMNS) if (checked.errors[c.field]) delete rest[c.field];
    const partial = checkRow(rest);
    if (partial.ok) shaped.push({ row: r.row, input: partial.value, valid: false });
  }

  return withTransaction(core.database.db, async (trx) => {
    if (!opts.dryRun) await lockImports(trx);
    const catalogue = cachedCatalogue(dbCatalogue(trx));
    const fresh: { row: number; fields: CustomerFields }[] = [];
    for (const { row, input, valid } of shaped) {
      const { fields, problems } = await checkCustomer(catalogue, input, undefined);
      if (problems) errors.push(...problemsOf(row, problems));
      else if (valid) fresh.push({ row, fields: newCustomerFields(input.nama, fields) });
    }
    errors.sort((a, b) => a.row - b.row);
    if (errors.length > 0 && !opts.skipInvalid) throw new RowErrors(errors);

    // Who is there already: found by e-mail, phone or name, then compared by identity.
    const existing = new Map<string, number>();
    const keys = { emails: new Set<string>(), phones: new Set<string>(), names: new Set<string>() };
    for (const { fields: f } of fresh) {
      if (f.email) keys.emails.add(f.email.toLowerCase());
      else if (f.no_telp) keys.phones.add(f.no_telp);
      else keys.names.add(f.nama.toLowerCase());
    }
    const found = await customersSharing(trx, {
      emails: [...keys.emails],
      phones: [...keys.phones],
      names: [...keys.names],
    });
    for (const c of found) if (!existing.has(identityOf(c))) existing.set(identityOf(c), c.id);

    const toCreate: CustomerFields[] = [];
    const skipped: ImportAnswer['skipped_rows'] = [];
    const firstRow = new Map<string, number>();
    for (const { row, fields } of fresh) {
      const id = identityOf(fields);
      const known = existing.get(id);
      const earlier = firstRow.get(id);
      if (known !== undefined) skipped.push({ row, pelanggan_id: known, reason: 'customer exists already' });
      else if (earlier !== undefined)
        skipped.push({ row, pelanggan_id: null, reason: `same customer as row ${earlier}` });
      else {
        firstRow.set(id, row);
        toCreate.push(fields);
      }
    }
    const answer: ImportAnswer = {
      dry_run: opts.dryRun,
      total_rows: rows.length,
      created: toCreate.length,
      skipped: skipped.length,
      invalid: new Set(errors.map((e) => e.row)).size,
      skipped_rows: skipped,
      errors,
      ignored_columns: ignored,
    };
    if (opts.dryRun) return answer;
    answer.created = await insertCustomers(trx, toCreate, now);
    await recordAction(trx, actor, 'billing.customer.imported', 'csv', now, {
      after: {
        total_rows: answer.total_rows,
        created: answer.created,
        skipped: answer.skipped,
        invalid: answer.invalid,
      },
    });
    await notifyBilling(core, trx, importDone(actor.accountId, answer));
    return answer;
  });
}
