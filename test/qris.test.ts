import { describe, expect, it } from 'vitest';
import { buildQris, crc16ccittFalse, parseQris, parseTlv } from '../src/core/payments/qris.ts';

// Two codes printed for real merchants: a Xendit dynamic code with an amount, and a DANA static code without one.
const XENDIT =
  '00020101021226650013CO.XENDIT.WWW01189360084800000054690215MTp47ZSspWsSQxG0303UME51370014ID.CO.QRIS.WWW0215ID20254267526685204509953033605405100005802ID5923PT ALWI KOBRA INDONESIA6006Bekasi61051715162290525xoizLQizgQUsgqK4tR4kMBcLc630475A5';
const DANA =
  '00020101021126570011ID.DANA.WWW011893600915302259148102090225914810303UMI51440014ID.CO.QRIS.WWW0215ID10200176114730303UMI5204581253033605802ID5922Warung Sayur Bu Sugeng6010Kab. Demak610559567630458C7';

const base = { merchantName: 'Warung Loket', merchantCity: 'Jakarta', amount: 15_000, reference: 'INV-2026-0001' };

/** A different character of the same kind, so the change is a value change rather than an obvious syntax error. */
const other = (c: string): string => (/\d/.test(c) ? String((Number(c) + 1) % 10) : c === 'X' ? 'Y' : 'X');

/** Deterministic PRNG (mulberry32) so a failing generated case can be reproduced. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe('crc16ccittFalse', () => {
  it('gives the standard check value for 123456789', () => {
    expect(crc16ccittFalse('123456789')).toBe('29B1');
  });

  it('gives FFFF (the initial value) for empty input and pads to four digits', () => {
    expect(crc16ccittFalse('')).toBe('FFFF');
    expect(crc16ccittFalse('A')).toMatch(/^[0-9A-F]{4}$/);
  });
});

describe('parseTlv', () => {
  it('splits tag, length and value', () => {
    expect(parseTlv('0002015903abc')).toEqual([
      { tag: '00', value: '01' },
      { tag: '59', value: 'abc' },
    ]);
    expect(parseTlv('')).toEqual([]);
  });

  it('refuses a non-numeric length, a value past the end and a truncated header', () => {
    expect(() => parseTlv('00x201')).toThrow(/length/);
    expect(() => parseTlv('5910abc')).toThrow(/declares 10 characters but only 3 remain/);
    expect(() => parseTlv('000201590')).toThrow(/truncated/);
  });
});

describe('parseQris', () => {
  it('reads a dynamic Xendit code with an amount', () => {
    const q = parseQris(XENDIT);
    expect(q).toMatchObject({
      valid: true,
      crc: '75A5',
      expectedCrc: '75A5',
      pointOfInitiation: 'dynamic', // tag 01 is '12'
      merchantCategoryCode: '5099',
      currency: '360',
      amount: 10_000,
      countryCode: 'ID',
      merchantName: 'PT ALWI KOBRA INDONESIA',
      merchantCity: 'Bekasi',
      postalCode: '17151',
      additionalData: { '05': 'xoizLQizgQUsgqK4tR4kMBcLc' },
      reference: 'xoizLQizgQUsgqK4tR4kMBcLc',
    });
    expect(q.merchantAccounts.map((a) => [a.tag, a.globalId])).toEqual([
      ['26', 'CO.XENDIT.WWW'],
      ['51', 'ID.CO.QRIS.WWW'],
    ]);
    expect(q.merchantAccounts[1]?.fields['02']).toBe('ID2025426752668');
  });

  it('reads a static DANA code without an amount', () => {
    const q = parseQris(DANA);
    expect(q).toMatchObject({
      valid: true,
      pointOfInitiation: 'static', // tag 01 is '11'
      merchantName: 'Warung Sayur Bu Sugeng',
      merchantCity: 'Kab. Demak',
      merchantCategoryCode: '5812',
      postalCode: '59567',
    });
    expect(q.amount).toBeUndefined();
    expect(q.reference).toBeUndefined();
    expect(q.additionalData).toBeUndefined();
    expect(q.merchantAccounts.find((a) => a.tag === '51')?.globalId).toBe('ID.CO.QRIS.WWW');
    expect(q.merchantAccounts.find((a) => a.tag === '26')?.fields['01']).toBe('936009153022591481');
  });

  it('marks a code invalid when any single character changes', () => {
    for (const payload of [XENDIT, DANA]) {
      expect(parseQris(payload.replace('Bekasi', 'Bekasu').replace('Demak', 'Demik')).valid).toBe(false);
      for (let i = 0; i < payload.length; i++) {
        const changed = payload.slice(0, i) + other(payload.charAt(i)) + payload.slice(i + 1);
        // A change that breaks the structure throws; every other change must fail the CRC.
        let valid: boolean;
        try {
          valid = parseQris(changed).valid;
        } catch {
          valid = false;
        }
        expect(valid, `position ${i}`).toBe(false);
      }
    }
  });

  it('accepts a lowercase CRC', () => {
    expect(parseQris(`${XENDIT.slice(0, -4)}75a5`).valid).toBe(true);
  });

  it('throws on payloads that are not QRIS', () => {
    expect(() => parseQris('')).toThrow(/000201/);
    expect(() => parseQris(XENDIT.slice(6))).toThrow(/000201/);
    expect(() => parseQris(XENDIT.slice(0, -8))).toThrow(/tag 63/);
    expect(() => parseQris(`${XENDIT.slice(0, -8)}630375A`)).toThrow(/tag 63/);
    expect(() => parseQris(XENDIT.slice(0, -1))).toThrow();
  });
});

describe('buildQris', () => {
  it('round-trips through parseQris as a valid dynamic code', () => {
    const payload = buildQris(base);
    expect(payload.slice(0, 12)).toBe('000201010212');
    expect(payload.slice(-8, -4)).toBe('6304');
    const q = parseQris(payload);
    expect(q).toMatchObject({
      valid: true,
      pointOfInitiation: 'dynamic',
      amount: 15_000,
      merchantName: 'Warung Loket',
      merchantCity: 'Jakarta',
      reference: 'INV-2026-0001',
      currency: '360',
      countryCode: 'ID',
      merchantCategoryCode: '5814',
    });
    expect(q.postalCode).toBeUndefined();
    expect(q.merchantAccounts.map((a) => [a.tag, a.globalId])).toEqual([
      ['26', 'ID.LOKET.WWW'],
      ['51', 'ID.CO.QRIS.WWW'],
    ]);
    expect(q.merchantAccounts[0]?.fields['03']).toBe('UMI');
  });

  it('uses the optional fields when given', () => {
    const q = parseQris(
      buildQris({
        ...base,
        merchantId: '936000000000000042',
        nmid: 'ID1020000000042',
        mcc: '5499',
        postalCode: '12190',
        acquirerDomain: 'ID.EXAMPLE.WWW',
      }),
    );
    expect(q).toMatchObject({ valid: true, merchantCategoryCode: '5499', postalCode: '12190' });
    expect(q.merchantAccounts[0]?.fields).toEqual({
      '00': 'ID.EXAMPLE.WWW',
      '01': '936000000000000042',
      '02': '936000000000000042',
      '03': 'UMI',
    });
    expect(q.merchantAccounts[1]?.fields['02']).toBe('ID1020000000042');
  });

  it('round-trips a few hundred generated payments', () => {
    const random = prng(20_261_101);
    const pick = (alphabet: string): string => alphabet.charAt(Math.floor(random() * alphabet.length));
    const alnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    const string = (alphabet: string, min: number, max: number): string =>
      Array.from({ length: min + Math.floor(random() * (max - min + 1)) }, () => pick(alphabet)).join('');
    for (let i = 0; i < 400; i++) {
      const amount = 1 + Math.floor(random() * 1_000_000_000);
      const reference = string(`${alnum}-`, 1, 25);
      // Words joined by single spaces, so nothing is trimmed away and the name comes back as given.
      const merchantName = Array.from({ length: 1 + Math.floor(random() * 4) }, () => string(alnum, 1, 5))
        .join(' ')
        .slice(0, 25)
        .trim();
      const merchantCity = string(alnum, 1, 15);
      const payload = buildQris({ merchantName, merchantCity, amount, reference });
      const q = parseQris(payload);
      expect(q, payload).toMatchObject({
        valid: true,
        pointOfInitiation: 'dynamic',
        amount,
        merchantName,
        merchantCity,
        reference,
      });
      expect(q.crc).toBe(crc16ccittFalse(payload.slice(0, -4)));
    }
  });

  it('accepts the largest amount tag 54 can hold and refuses anything that is not a positive whole rupiah', () => {
    expect(parseQris(buildQris({ ...base, amount: 9_999_999_999_999 })).amount).toBe(9_999_999_999_999);
    for (const amount of [0, -1, -15_000, 1.5, 0.1, Number.NaN, Number.POSITIVE_INFINITY, 10_000_000_000_000]) {
      expect(() => buildQris({ ...base, amount }), String(amount)).toThrow(/amount/);
    }
  });

  it('refuses names, cities and references that do not fit', () => {
    expect(() => buildQris({ ...base, merchantName: 'A'.repeat(25) })).not.toThrow();
    expect(() => buildQris({ ...base, merchantName: 'A'.repeat(26) })).toThrow(/name/);
    expect(() => buildQris({ ...base, merchantName: '   ' })).toThrow(/name/);
    expect(() => buildQris({ ...base, merchantName: 'Kopi Kenangan ☕' })).toThrow(/name/);
    expect(() => buildQris({ ...base, merchantCity: 'B'.repeat(16) })).toThrow(/city/);
    expect(() => buildQris({ ...base, reference: 'INV 0001' })).toThrow(/reference/);
    expect(() => buildQris({ ...base, reference: '' })).toThrow(/reference/);
    expect(() => buildQris({ ...base, reference: 'R'.repeat(26) })).toThrow(/reference/);
    expect(() => buildQris({ ...base, reference: 'INV6304' })).not.toThrow();
    expect(() => buildQris({ ...base, mcc: '58' })).toThrow(/MCC/);
    expect(() => buildQris({ ...base, merchantId: '93600A' })).toThrow(/merchant id/);
  });
});
