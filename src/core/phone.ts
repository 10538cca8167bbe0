// Indonesian mobile numbers as people write them (CONTRACTS §6): `08…`, `628…`, `+628…` or `8…`, with spaces or
// dashes. One reading, two written forms: the national (`08…`) and the international without `+` (`628…`); each
// module stores the form its seed documents.

/** The subscriber digits after the country code or trunk prefix (`8` and 7–12 more), or undefined. */
function subscriberDigits(raw: string): string | undefined {
  const compact = raw.trim().replace(/[\s-]/g, '');
  let rest: string;
  if (/^\+62\d+$/.test(compact)) rest = compact.slice(3);
  else if (/^62\d+$/.test(compact)) rest = compact.slice(2);
  else if (/^0\d+$/.test(compact)) rest = compact.slice(1);
  else if (/^8\d+$/.test(compact)) rest = compact;
  else return undefined;
  return /^8\d{7,12}$/.test(rest) ? rest : undefined;
}

/** `08…`, or undefined when the text is not an Indonesian mobile number. */
export function nationalPhone(raw: string): string | undefined {
  const d = subscriberDigits(raw);
  return d === undefined ? undefined : `0${d}`;
}

/** `628…`, or undefined when the text is not an Indonesian mobile number. */
export function internationalPhone(raw: string): string | undefined {
  const d = subscriberDigits(raw);
  return d === undefined ? undefined : `62${d}`;
}

/** The pattern a schema uses to let such numbers reach these readers (which have the last word). */
export const PHONE_INPUT_PATTERN = '^[+0-9][0-9\\s-]{5,24}$';
