// Checking a value against a request schema where no request carries it (a record of an uploaded CSV file): the
// same validator and the same messages a JSON body would get.
import type { Static, TSchema } from 'typebox';
import type { FieldErrors } from './errors.ts';
import { fieldErrors } from './plugin.ts';
import { bodyValidator } from './validation.ts';
import { ENGLISH, type ValidationWords } from './words.ts';

export type Checked<T> = { ok: true; value: T } | { ok: false; errors: FieldErrors };

/** `check(value)`: the value as its schema's type when it fits, else one message per field. */
export function compileCheck<T extends TSchema>(
  schema: T,
  words: ValidationWords = ENGLISH,
): (value: unknown) => Checked<Static<T>> {
  const validate = bodyValidator(schema);
  const fits = (value: unknown): value is Static<T> => validate(value);
  return (value) =>
    fits(value) ? { ok: true, value } : { ok: false, errors: fieldErrors(validate.errors ?? [], 'body', words) };
}
