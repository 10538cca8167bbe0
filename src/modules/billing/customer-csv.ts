// The customers' CSV file (seed 003, "CSV Template"): its columns in the document's order, the field each one
// fills, and the template's example row. The export writes these headers, so an exported file imports again.
import type { CsvCustomer } from './repo/customer-csv.ts';

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
];

export const CSV_HEADERS = CSV_COLUMNS.map((c) => c.header);

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
