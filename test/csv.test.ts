// The core's CSV writer and reader: quoting, the formula guard and its inverse, delimiter detection, a round trip.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BOM, CsvError, csvLine, detectDelimiter, guard, parseCsv, unguard } from '../src/core/csv.ts';

describe('csv', () => {
  it('quotes cells holding the delimiter, quotes or line breaks, and leaves empty cells empty', () => {
    expect(csvLine(['a', 'b,c', 'say "hi"', 'two\nlines', null, 7])).toBe('a,"b,c","say ""hi""","two\nlines",,7\r\n');
    expect(csvLine(['b,c', 'd;e'], ';')).toBe('b,c;"d;e"\r\n');
  });

  it('guards cells a spreadsheet would run as a formula, and reading removes the guard', () => {
    for (const cell of ['=1+1', '+62812', '-5', '@SUM(A1)', '\tx']) {
      expect(guard(cell)).toBe(`'${cell}`);
      expect(unguard(guard(cell))).toBe(cell);
    }
    expect(csvLine(['=HYPERLINK("http://x")'])).toBe('"\'=HYPERLINK(""http://x"")"\r\n');
    expect(guard("O'Brien")).toBe("O'Brien");
    expect(unguard("'quoted")).toBe("'quoted");
  });

  it('reads quoted cells, CRLF and LF, a BOM, and stops at an unclosed quote with its record number', () => {
    expect(parseCsv(`${BOM}a,b\r\n"x,1","y""z"\n"multi\r\nline",\n`, ',')).toEqual([
      ['a', 'b'],
      ['x,1', 'y"z'],
      ['multi\r\nline', ''],
    ]);
    expect(parseCsv('a;b\n1;2', ';')).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
    const err = (() => {
      try {
        parseCsv('a\nb\n"open', ',');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(CsvError);
    expect(err).toMatchObject({ kind: 'unclosed-quote', record: 3 });
    expect(() => parseCsv('1\n2\n3\n', ',', 2)).toThrow(/more than 2 records/);
  });

  it('detects the delimiter from the header, outside quotes', () => {
    expect(detectDelimiter('Nama,No KTP,Email')).toBe(',');
    expect(detectDelimiter('Nama;No KTP;Email\n1,2,3,4,5')).toBe(';');
    expect(detectDelimiter('"a;b;c",d')).toBe(',');
  });

  it('reads back exactly what it wrote, for any cells', () => {
    const cell = fc.string({ unit: fc.constantFrom('a', 'Z', ' ', ',', ';', '"', '\n', '\r', '=', '-', "'", 'é') });
    fc.assert(
      fc.property(fc.array(fc.array(cell, { minLength: 2, maxLength: 5 }), { minLength: 1, maxLength: 5 }), (rows) => {
        for (const delimiter of [',', ';'] as const) {
          const text = BOM + rows.map((r) => csvLine(r, delimiter)).join('');
          expect(parseCsv(text, delimiter).map((r) => r.map(unguard))).toEqual(rows);
        }
      }),
    );
  });
});
