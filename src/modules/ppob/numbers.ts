// The reseller's numbers as people write them (CONTRACTS §6), stored in the document's form. `hp` is a mobile
// number: `08…`, `628…` or `+628…`, spaces and dashes allowed, stored as `08…`. `nomor_tujuan` is a phone, meter or
// customer number: written with `+`, spaces or dashes it must read as a mobile number and is stored as `08…`; plain
// digits are taken as written (a PLN meter or customer number may begin with 62 and must reach the provider intact).
import { AppError } from '../../core/http/errors.ts';
import { nationalPhone } from '../../core/phone.ts';

const invalid = (field: string, message: string) =>
  new AppError('VALIDATION_ERROR', `Data tidak valid: ${field} ${message}`, { details: { [field]: [message] } });

const NOT_A_PHONE = 'bukan nomor HP Indonesia yang valid (08…, 628… atau +628…)';

/** `08…`, null when none was given, or a 422 with one message. */
export function hpOf(raw: string | null | undefined): string | null {
  if (raw === undefined || raw === null) return null;
  const phone = nationalPhone(raw);
  if (phone === undefined) throw invalid('hp', NOT_A_PHONE);
  return phone;
}

/** The number to send the product to, in its stored form, or a 422 with one message. */
export function nomorTujuanOf(raw: string): string {
  const text = raw.trim();
  if (/^[0-9]{4,20}$/.test(text)) return text;
  const phone = /[+\s-]/.test(text) ? nationalPhone(text) : undefined;
  if (phone === undefined) {
    throw invalid('nomor_tujuan', 'harus 4–20 angka, atau nomor HP (08…, 628… atau +628…, boleh dengan spasi/strip)');
  }
  return phone;
}
