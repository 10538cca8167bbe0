// CSV as spreadsheets write and read it (RFC 4180): fields quoted when they hold the delimiter, a quote or a line
// break, quotes doubled inside; records end in CRLF (LF alone is read too). Files written here start with a UTF-8
// byte-order mark so that spreadsheet programs read them as UTF-8.
//
// Formula guard: a cell that starts with = + - @ (or a tab or carriage return) is run as a formula by spreadsheet
// programs ("CSV injection"). Written cells that start so are prefixed with an apostrophe, which the programs show as
// text; `unguard` removes that apostrophe again when such a file is read back, so an export imports unchanged.

export const BOM = '\uFEFF';
export const CRLF = '\r\n';

export type Delimiter = ',' | ';';

const FORMULA_START = /^[=+\-@\t\r]/;
const GUARDED = /^'+[=+\-@\t\r]/;

/** Whether a cell, read back, would lose a leading apostrophe to `unguard` (so `guard` must add one). */
const guarded = (value: string): boolean => GUARDED.test(value);

/**
 * The cell as written: with an apostrophe in front when a spreadsheet would run it as a formula, or when it
 * already starts with an apostrophe and a formula start (so that `unguard` gives it back exactly).
 */
export const guard = (value: string): string => (FORMULA_START.test(value) || guarded(value) ? `'${value}` : value);

/** The inverse of `guard`: an apostrophe followed by a formula start (or by a guarded cell) is dropped. */
export const unguard = (value: string): string => (guarded(value) ? value.slice(1) : value);

/** One record as text (CRLF-terminated); `null` and `undefined` are empty cells. Every cell is guarded. */
export function csvLine(cells: readonly (string | number | null | undefined)[], delimiter: Delimiter = ','): string {
  let out = '';
  for (let i = 0; i < cells.length; i++) {
    if (i > 0) out += delimiter;
    const cell = cells[i];
    if (cell === null || cell === undefined) continue;
    const text = guard(typeof cell === 'number' ? String(cell) : cell);
    out +=
      text.includes(delimiter) || text.includes('"') || text.includes('\n') || text.includes('\r')
        ? `"${text.replaceAll('"', '""')}"`
        : text;
  }
  return out + CRLF;
}

/**
 * A CSV text that cannot be read: an unterminated quote, or more records than the reader accepts. `record` is the
 * 1-based number of the record where reading stopped.
 */
export class CsvError extends Error {
  readonly kind: 'unclosed-quote' | 'too-many-records';
  readonly record: number;
  constructor(kind: CsvError['kind'], record: number, message: string) {
    super(message);
    this.name = 'CsvError';
    this.kind = kind;
    this.record = record;
  }
}

/**
 * The delimiter of a file, from its first record: the one of `,` and `;` that occurs more often outside quotes
 * (spreadsheets in Indonesian and other comma-decimal locales save with `;`). A tie is `,`.
 */
export function detectDelimiter(text: string): Delimiter {
  let commas = 0;
  let semicolons = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (!quoted) {
      if (c === '\n' || c === '\r') break;
      if (c === ',') commas++;
      else if (c === ';') semicolons++;
    }
  }
  return semicolons > commas ? ';' : ',';
}

/**
 * Every record of a CSV text as its cells (a leading BOM is ignored; a blank line is a record of one empty cell,
 * which callers usually skip). Cells are returned as written, not trimmed and not unguarded. `maxRecords` stops
 * reading with an error past that many records, so a huge file is not turned into arrays first.
 */
export function parseCsv(text: string, delimiter: Delimiter, maxRecords = Number.POSITIVE_INFINITY): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const end = text.length;
  const finishRecord = () => {
    record.push(cell);
    cell = '';
    records.push(record);
    record = [];
    if (records.length > maxRecords) {
      throw new CsvError('too-many-records', records.length, `more than ${maxRecords} records`);
    }
  };
  while (i < end) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      // Copy the run up to the next quote at once.
      const next = text.indexOf('"', i);
      if (next === -1) throw new CsvError('unclosed-quote', records.length + 1, 'a quoted cell is never closed');
      cell += text.slice(i, next);
      i = next;
      continue;
    }
    if (c === '"' && cell === '') {
      quoted = true;
      i++;
    } else if (c === delimiter) {
      record.push(cell);
      cell = '';
      i++;
    } else if (c === '\r' || c === '\n') {
      finishRecord();
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
    } else {
      // Copy the run of plain characters at once.
      let j = i + 1;
      while (j < end) {
        const d = text[j];
        if (d === delimiter || d === '\r' || d === '\n' || d === '"') break;
        j++;
      }
      cell += text.slice(i, j);
      i = j;
    }
  }
  if (quoted) throw new CsvError('unclosed-quote', records.length + 1, 'a quoted cell is never closed');
  if (cell !== '' || record.length > 0) finishRecord();
  return records;
}
