// QRIS: Indonesia's profile of the EMVCo merchant-presented QR code. A payload is a flat list of TLV elements
// (2-digit tag, 2-digit length, value); tags 26-51 (merchant accounts) and 62 (additional data) hold nested TLV
// lists of the same shape. The last element is always tag 63, a CRC over everything before its value.
// Pure: no I/O, so it can be tested alone and used by any module that shows or reads a QRIS code.
//
// Lengths are counted in UTF-16 code units (JavaScript string indices). Real payloads are ASCII, where that equals
// characters and bytes; `buildQris` refuses anything outside printable ASCII so its lengths are never ambiguous.

export interface TlvElement {
  tag: string;
  value: string;
}

export interface MerchantAccount {
  tag: string;
  /** Sub-tag 00: the reverse-domain id of who issued the account, e.g. 'ID.CO.QRIS.WWW'. */
  globalId: string;
  fields: Record<string, string>;
}

export interface ParsedQris {
  /** The CRC in the payload matches the one computed over it. */
  valid: boolean;
  crc: string;
  expectedCrc: string;
  pointOfInitiation: 'static' | 'dynamic';
  merchantAccounts: MerchantAccount[];
  merchantCategoryCode: string;
  currency: string;
  amount: number | undefined;
  countryCode: string;
  merchantName: string;
  merchantCity: string;
  postalCode?: string;
  additionalData?: Record<string, string>;
  reference?: string;
}

export interface BuildQrisInput {
  merchantName: string;
  merchantCity: string;
  /** Integer rupiah. */
  amount: number;
  reference: string;
  merchantId?: string;
  nmid?: string;
  mcc?: string;
  postalCode?: string;
  acquirerDomain?: string;
}

/** CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor) over UTF-8, as 4 uppercase hex digits. */
export function crc16ccittFalse(input: string): string {
  let crc = 0xffff;
  for (const byte of new TextEncoder().encode(input)) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
  }
  return crc.toString(16).toUpperCase().padStart(4, '0');
}

/** Splits one level of TLV. Throws on a truncated header, a non-numeric tag or length, or a value past the end. */
export function parseTlv(payload: string): TlvElement[] {
  const elements: TlvElement[] = [];
  let at = 0;
  while (at < payload.length) {
    const header = payload.slice(at, at + 4);
    if (header.length < 4) throw new Error(`TLV truncated at position ${at}: '${header}' is not a tag and length`);
    const tag = header.slice(0, 2);
    const lengthText = header.slice(2, 4);
    if (!/^\d{2}$/.test(tag)) throw new Error(`TLV tag at position ${at} is not two digits: '${tag}'`);
    if (!/^\d{2}$/.test(lengthText)) throw new Error(`TLV length of tag ${tag} at position ${at} is not two digits`);
    const length = Number(lengthText);
    const start = at + 4;
    if (start + length > payload.length) {
      throw new Error(
        `TLV tag ${tag} at position ${at} declares ${length} characters but only ${payload.length - start} remain`,
      );
    }
    elements.push({ tag, value: payload.slice(start, start + length) });
    at = start + length;
  }
  return elements;
}

const isMerchantAccountTag = (tag: string): boolean => tag >= '26' && tag <= '51';

function parseTemplate(tag: string, value: string): Record<string, string> {
  let elements: TlvElement[];
  try {
    elements = parseTlv(value);
  } catch (err) {
    throw new Error(`QRIS template ${tag}: ${(err as Error).message}`);
  }
  return toRecord(elements, `template ${tag}`);
}

/** Duplicate tags make a payload ambiguous (which amount is meant?), so they are refused rather than picked from. */
function toRecord(elements: TlvElement[], where: string): Record<string, string> {
  const record: Record<string, string> = {};
  for (const { tag, value } of elements) {
    if (Object.hasOwn(record, tag)) throw new Error(`QRIS ${where}: tag ${tag} appears twice`);
    record[tag] = value;
  }
  return record;
}

function required(record: Record<string, string>, tag: string, name: string): string {
  const value = record[tag];
  if (value === undefined) throw new Error(`QRIS has no ${name} (tag ${tag})`);
  return value;
}

/** Parses a QRIS payload. Throws when it is not structurally QRIS; a wrong CRC only makes `valid` false. */
export function parseQris(payload: string): ParsedQris {
  const elements = parseTlv(payload);
  const first = elements[0];
  const last = elements.at(-1);
  if (first?.tag !== '00' || first.value !== '01') throw new Error("QRIS must start with payload format '000201'");
  if (last?.tag !== '63' || last.value.length !== 4) throw new Error('QRIS must end with a 4-character CRC (tag 63)');
  const top = toRecord(elements, 'payload');

  const initiation = required(top, '01', 'point of initiation');
  if (initiation !== '11' && initiation !== '12')
    throw new Error(`QRIS point of initiation must be 11 or 12, not '${initiation}'`);

  const merchantAccounts: MerchantAccount[] = [];
  for (const { tag, value } of elements) {
    if (!isMerchantAccountTag(tag)) continue;
    const fields = parseTemplate(tag, value);
    merchantAccounts.push({ tag, globalId: required(fields, '00', `global id in template ${tag}`), fields });
  }

  let amount: number | undefined;
  if (top['54'] !== undefined) {
    if (!/^\d+(\.\d+)?$/.test(top['54'])) throw new Error(`QRIS amount (tag 54) is not a number: '${top['54']}'`);
    amount = Number(top['54']);
  }

  const additionalData = top['62'] === undefined ? undefined : parseTemplate('62', top['62']);
  // Sub-tag 05 is the reference label; issuers that only fill 01 (bill number) use that as the reference instead.
  const reference = additionalData?.['05'] ?? additionalData?.['01'];

  // The CRC covers everything up to and including '6304', so it is every character but the last four.
  const crc = last.value;
  const expectedCrc = crc16ccittFalse(payload.slice(0, -4));
  return {
    valid: crc.toUpperCase() === expectedCrc,
    crc,
    expectedCrc,
    pointOfInitiation: initiation === '11' ? 'static' : 'dynamic',
    merchantAccounts,
    merchantCategoryCode: required(top, '52', 'merchant category code'),
    currency: required(top, '53', 'currency'),
    amount,
    countryCode: required(top, '58', 'country code'),
    merchantName: required(top, '59', 'merchant name'),
    merchantCity: required(top, '60', 'merchant city'),
    ...(top['61'] === undefined ? {} : { postalCode: top['61'] }),
    ...(additionalData === undefined ? {} : { additionalData }),
    ...(reference === undefined ? {} : { reference }),
  };
}

/** 13 digits: the longest amount tag 54 can hold without decimals. */
export const QRIS_MAX_AMOUNT = 9_999_999_999_999;

function tlv(tag: string, value: string): string {
  // Two length digits: a longer value cannot be encoded at all, so refuse it instead of emitting a broken payload.
  if (value.length > 99) throw new Error(`QRIS tag ${tag} value is longer than 99 characters`);
  return `${tag}${String(value.length).padStart(2, '0')}${value}`;
}

function checked(name: string, value: string, pattern: RegExp, rule: string): string {
  if (!pattern.test(value)) throw new Error(`QRIS ${name} must be ${rule}`);
  return value;
}

// Printable ASCII only: a multi-byte character would make the character count and the UTF-8 bytes disagree,
// and scanners differ on which one the length means.
const PRINTABLE = /^[\x20-\x7e]+$/;

/** Builds a dynamic (one-payment) QRIS payload for an exact amount. Throws on any input it cannot encode faithfully. */
export function buildQris(input: BuildQrisInput): string {
  const { amount } = input;
  if (!Number.isSafeInteger(amount) || amount <= 0 || amount > QRIS_MAX_AMOUNT) {
    throw new Error(`QRIS amount must be a whole number of rupiah from 1 to ${QRIS_MAX_AMOUNT}, not ${amount}`);
  }
  const name = input.merchantName.trim();
  const city = input.merchantCity.trim();
  checked('merchant name', name, PRINTABLE, 'printable ASCII');
  checked('merchant city', city, PRINTABLE, 'printable ASCII');
  if (name.length > 25) throw new Error('QRIS merchant name must be at most 25 characters');
  if (city.length > 15) throw new Error('QRIS merchant city must be at most 15 characters');
  const reference = checked('reference', input.reference, /^[A-Za-z0-9-]{1,25}$/, '1-25 of A-Z, a-z, 0-9 and -');
  const merchantId = checked('merchant id', input.merchantId ?? '936000000000000001', /^\d{1,19}$/, '1-19 digits');
  const nmid = checked('NMID', input.nmid ?? 'ID1020000000001', /^[A-Za-z0-9]{1,15}$/, '1-15 letters or digits');
  const mcc = checked('MCC', input.mcc ?? '5814', /^\d{4}$/, '4 digits');
  const domain = checked(
    'acquirer domain',
    input.acquirerDomain ?? 'ID.LOKET.WWW',
    /^[A-Za-z0-9.-]{1,32}$/,
    'a 1-32 character reverse domain',
  );
  const postalCode =
    input.postalCode === undefined
      ? undefined
      : checked('postal code', input.postalCode, /^[A-Za-z0-9]{1,10}$/, '1-10 letters or digits');

  const body = [
    tlv('00', '01'),
    tlv('01', '12'), // dynamic: the code carries this payment's amount and reference and is shown once
    tlv('26', tlv('00', domain) + tlv('01', merchantId) + tlv('02', merchantId) + tlv('03', 'UMI')),
    tlv('51', tlv('00', 'ID.CO.QRIS.WWW') + tlv('02', nmid) + tlv('03', 'UMI')),
    tlv('52', mcc),
    tlv('53', '360'), // ISO 4217 numeric for IDR
    tlv('54', String(amount)),
    tlv('58', 'ID'),
    tlv('59', name),
    tlv('60', city),
    postalCode === undefined ? '' : tlv('61', postalCode),
    tlv('62', tlv('05', reference)),
  ].join('');
  // EMVCo defines the CRC over the whole payload including the CRC's own tag and length ('6304'), so a scanner can
  // check it by hashing everything but the last four characters.
  const withCrcHeader = `${body}6304`;
  return withCrcHeader + crc16ccittFalse(withCrcHeader);
}
