// Validation findings in words, one message per field, in the language of the module's envelope. The findings
// are Ajv's (and validation.ts's own); a module whose seed speaks Indonesian sets `words: INDONESIAN` in its
// envelope, the rest keep the English default.

export type Issue = {
  instancePath?: string;
  schemaPath?: string;
  keyword?: string;
  params?: Record<string, unknown>;
  message?: string;
};

export interface ValidationWords {
  /** The message of one finding. */
  say(issue: Issue): string;
  /** "must be A or B" for a value none of a union's types took. */
  types(types: string[]): string;
  /** The summary line: "Invalid body: nama is required". */
  invalid(where: string, summary: string): string;
  required: string;
  notAllowed: string;
}

export const ENGLISH: ValidationWords = {
  say: (issue) => issue.message ?? 'is invalid',
  types: (types) => `must be ${types.join(' or ')}`,
  invalid: (where, summary) => `Invalid ${where}: ${summary}`,
  required: 'is required',
  notAllowed: 'is not allowed',
};

const TYPE_ID: Record<string, string> = {
  string: 'teks',
  integer: 'bilangan bulat',
  number: 'angka',
  boolean: 'true atau false',
  object: 'objek',
  array: 'daftar',
  null: 'null',
};
const WHERE_ID: Record<string, string> = {
  body: 'Data',
  querystring: 'Parameter query',
  params: 'Parameter path',
  headers: 'Header',
};

const limitOf = (issue: Issue) => String(issue.params?.limit ?? '');

export const INDONESIAN: ValidationWords = {
  say(issue) {
    switch (issue.keyword) {
      case 'type': {
        const t = issue.params?.type;
        const list = Array.isArray(t) ? t.map(String) : [String(t)];
        return INDONESIAN.types(list);
      }
      case 'minLength':
        return `minimal ${limitOf(issue)} karakter`;
      case 'maxLength':
        return `maksimal ${limitOf(issue)} karakter`;
      case 'minimum':
      case 'exclusiveMinimum':
        return `minimal ${limitOf(issue)}`;
      case 'maximum':
      case 'exclusiveMaximum':
        return `maksimal ${limitOf(issue)}`;
      case 'minItems':
        return `minimal ${limitOf(issue)} item`;
      case 'maxItems':
        return `maksimal ${limitOf(issue)} item`;
      case 'pattern':
        return 'formatnya tidak valid';
      case 'format':
        return issue.params?.format === 'email' ? 'bukan alamat email yang valid' : 'formatnya tidak valid';
      case 'enum': {
        const allowed = issue.params?.allowedValues;
        return Array.isArray(allowed) ? `harus salah satu dari: ${allowed.join(', ')}` : 'nilainya tidak valid';
      }
      case 'controlCharacters':
        return 'tidak boleh berisi karakter kontrol';
      default:
        return 'nilainya tidak valid';
    }
  },
  types: (types) => `harus berupa ${types.map((t) => TYPE_ID[t] ?? t).join(' atau ')}`,
  invalid: (where, summary) => `${WHERE_ID[where] ?? 'Permintaan'} tidak valid: ${summary}`,
  required: 'wajib diisi',
  notAllowed: 'tidak dikenal',
};
