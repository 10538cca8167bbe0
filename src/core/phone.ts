// Indonesian phone numbers as people write them (CONTRACTS §6): `08…`, `628…`, `+628…`, with spaces, dashes, dots
// or parentheses. Stored in the national form (`08…`) unless a module documents another.

/** Characters a person may type between digits. */
const SEPARATORS = /[\s\-.()]/g;

/** The national form (`08…`, 10–15 digits), or undefined when the text is not an Indonesian mobile number. */
export function nationalPhone(raw: string): string | undefined {
  const compact = raw.trim().replace(SEPARATORS, '');
  let national: string;
  if (compact.startsWith('+62')) national = `0${compact.slice(3)}`;
  else if (compact.startsWith('62')) national = `0${compact.slice(2)}`;
  else national = compact;
  return /^08[0-9]{8,13}$/.test(national) ? national : undefined;
}

/** The pattern a schema uses to let such numbers reach `nationalPhone` (which has the last word). */
export const PHONE_INPUT_PATTERN = '^[+0-9][0-9\\s\\-.()]{5,24}$';
