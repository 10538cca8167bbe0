// The customers' CSV file (seed 003, "CSV Template"): its columns in the document's order, then the three the
// original system's files add (`Alamat 2`, `Blok`, `Unit`, optional on import), the field each one fills, the
// template's example row, and the request and answer shapes of the export and the import. The export writes all
// eleven headers, so an exported file imports again with nothing lost; the template stays the document's eight.
import { Type } from 'typebox';
import type { CsvCustomer } from './repo/customer-csv.ts';
import { CustomerCreate, CustomerQuery } from './schemas.ts';

export type CsvField = Exclude<keyof CsvCustomer, 'id'>;

export const CSV_COLUMNS: readonly { header: string; field: CsvField; aliases?: string[] }[] = [
  { header: 'Nama', field: 'nama' },
  { header: 'No KTP', field: 'no_ktp' },
  { header: 'Email', field: 'email' },
  { header: 'No Telepon', field: 'no_telp' },
  { header: 'Layanan', field: 'layanan' },
  { header: 'Alamat', field: 'alamat' },
  { header: 'Tanggal Instalasi (YYYY-MM-DD)', field: 'tanggal_instalasi', aliases: ['Tanggal Instalasi'] },
  { header: 'ID Brand', field: 'id_brand' },
  // The original's additions (billing-frontend.md §2): a file may have them or not.
  { header: 'Alamat 2', field: 'alamat_2' },
  { header: 'Blok', field: 'blok' },
  { header: 'Unit', field: 'unit' },
];

/** The export's header row: every column. */
export const CSV_HEADERS = CSV_COLUMNS.map((c) => c.header);

/** The template's header row: the document's eight columns. */
export const TEMPLATE_HEADERS = CSV_HEADERS.slice(0, 8);

/** The document's example row. */
export const TEMPLATE_EXAMPLE = [
  'John Doe',
  '1234567890123456',
  'john@example.com',
  '08123456789',
  'Internet 50Mbps',
  'Jl. Example No. 123',
  '2024-01-15',
  'JAKINET',
];

/** A header cell as matched: case, surrounding spaces and repeated spaces do not matter. */
export const headerKey = (s: string) => s.trim().replace(/\s+/g, ' ').toLowerCase();

const BY_HEADER = new Map(
  CSV_COLUMNS.flatMap((c) => [c.header, ...(c.aliases ?? [])].map((h) => [headerKey(h), c] as const)),
);

export const columnFor = (headerCell: string) => BY_HEADER.get(headerKey(headerCell));

/** A customer's cells in the columns' order. */
export const csvCells = (c: CsvCustomer) => CSV_COLUMNS.map((col) => c[col.field]);

export const MAX_CSV_ROWS = 50_000;

export const CustomerExportQuery = Type.Object({
  skip: Type.Integer({ minimum: 0, default: 0 }),
  limit: Type.Integer({
    minimum: 1,
    default: MAX_CSV_ROWS,
    description: `at most ${MAX_CSV_ROWS.toLocaleString('en')}; a larger limit is clamped (CONTRACTS §4)`,
  }),
  search: CustomerQuery.properties.search,
  alamat: CustomerQuery.properties.alamat,
  id_brand: CustomerQuery.properties.id_brand,
  status: CustomerQuery.properties.status,
});

/** One CSV record as a create's body: the same rules as `POST /api/pelanggan/` for the file's columns. */
export const CustomerImportRow = Type.Pick(CustomerCreate, [
  'nama',
  'no_ktp',
  'email',
  'no_telp',
  'layanan',
  'alamat',
  'tanggal_instalasi',
  'id_brand',
  'alamat_2',
  'blok',
  'unit',
]);

export const ImportQuery = Type.Object({
  dry_run: Type.Boolean({ default: false, description: 'check everything, write nothing' }),
  skip_invalid: Type.Boolean({ default: false, description: 'import the good rows of a file that has bad ones' }),
});

const RowProblem = Type.Object({ row: Type.Integer(), field: Type.String(), message: Type.String() });

export const ImportAnswer = Type.Object({
  dry_run: Type.Boolean(),
  total_rows: Type.Integer({ description: 'data rows in the file (blank lines not counted)' }),
  created: Type.Integer({ description: 'customers created (in a dry run: that would be created)' }),
  skipped: Type.Integer({ description: 'rows naming a customer that exists already, or repeating an earlier row' }),
  invalid: Type.Integer({ description: 'rows left out for their errors (only with skip_invalid)' }),
  skipped_rows: Type.Array(
    Type.Object({
      row: Type.Integer(),
      pelanggan_id: Type.Union([Type.Integer(), Type.Null()]),
      reason: Type.String(),
    }),
  ),
  errors: Type.Array(RowProblem),
  ignored_columns: Type.Array(Type.String(), { description: 'header cells that are not import columns' }),
});
