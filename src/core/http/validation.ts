// Request validation with the originals' rules (CONTRACTS §6: Pydantic v2 in lax mode, and nothing looser).
//
// - Query strings, path parameters and headers are text on the wire: they are coerced to the schema's types as
//   before (`?limit=10` is a number).
// - JSON bodies are not coerced, except one way: a string that is exactly a number ("10000", "-5", "1.5") is taken
//   where the schema wants a number, and exactly an integer where it wants an integer. A number is never turned
//   into text (a phone number sent as a number would lose its leading 0), a fraction is never an integer, a
//   boolean is never a number or an id.
// - Text anywhere in a request is refused when it holds NUL or another control character (tab, line feed and
//   carriage return excepted): PostgreSQL refuses NUL, and no field of any module means to store the others.
// - Arrays in a body are bounded (MAX_ITEMS unless the schema says otherwise), and JSON nesting is bounded before
//   the body is parsed (see jsonDepthExceeds).
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyServerOptions } from 'fastify';

type ValidatorFactory = NonNullable<
  NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildValidator']
>;

/** Deepest JSON nesting a body may have; the deepest body of any module is far below it. */
export const MAX_JSON_DEPTH = 32;
/** Largest array a body may carry where its schema does not set `maxItems`. */
export const MAX_ITEMS = 1000;

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
const INTEGER_TEXT = /^-?\d{1,15}$/;
const NUMBER_TEXT = /^-?\d{1,15}(\.\d{1,15})?$/;

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
  maxItems?: number;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
};

const typesOf = (schema: Schema): string[] => {
  const own = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  const branches = [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])];
  return [...own, ...branches.flatMap(typesOf)];
};

/** What a numeric string in this place should become, if anything. */
function numericTarget(schema: Schema): 'integer' | 'number' | undefined {
  const types = typesOf(schema);
  if (types.includes('string')) return undefined;
  if (types.includes('number')) return 'number';
  if (types.includes('integer')) return 'integer';
  return undefined;
}

/** Takes numeric strings as numbers where the schema wants a number; returns the (possibly replaced) value. */
function laxNumbers(schema: Schema | undefined, value: unknown): unknown {
  if (!schema || typeof schema !== 'object') return value;
  if (typeof value === 'string') {
    const target = numericTarget(schema);
    if (target === 'integer' && INTEGER_TEXT.test(value)) return Number(value);
    if (target === 'number' && NUMBER_TEXT.test(value)) return Number(value);
    return value;
  }
  if (Array.isArray(value)) {
    const items = schema.items ?? schema.anyOf?.find((s) => s.items)?.items;
    if (items) for (let i = 0; i < value.length; i++) value[i] = laxNumbers(items, value[i]);
    return value;
  }
  if (value !== null && typeof value === 'object') {
    const objectSchema = schema.properties ? schema : schema.anyOf?.find((s) => s.properties);
    const props = objectSchema?.properties;
    if (props) {
      const record = value as Record<string, unknown>;
      for (const [key, sub] of Object.entries(props)) {
        if (Object.hasOwn(record, key)) record[key] = laxNumbers(sub, record[key]);
      }
    }
  }
  return value;
}

function issue(instancePath: string, keyword: string, message: string): ErrorObject {
  return { instancePath, schemaPath: `#/${keyword}`, keyword, params: {}, message };
}

/** Control characters in any text, and arrays over the bound; the first finding per field. */
function hostileText(value: unknown, path: string, schema: Schema | undefined, out: ErrorObject[]): void {
  if (out.length >= 20) return;
  if (typeof value === 'string') {
    if (CONTROL.test(value)) out.push(issue(path, 'controlCharacters', 'must not contain control characters'));
    return;
  }
  if (Array.isArray(value)) {
    const limit = schema?.maxItems ?? MAX_ITEMS;
    if (value.length > limit) {
      out.push(issue(path, 'maxItems', `must NOT have more than ${limit} items`));
      return;
    }
    for (let i = 0; i < value.length; i++) hostileText(value[i], `${path}/${i}`, schema?.items, out);
    return;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, sub] of Object.entries(value)) {
      const escaped = key.replaceAll('~', '~0').replaceAll('/', '~1');
      if (CONTROL.test(key)) {
        out.push(issue(`${path}/${escaped}`, 'controlCharacters', 'must not contain control characters'));
        continue;
      }
      hostileText(sub, `${path}/${escaped}`, schema?.properties?.[key], out);
    }
  }
}

type FastifyValidate = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

function wrap(compiled: () => ValidateFunction, schema: Schema, lax: boolean): FastifyValidate {
  const run: FastifyValidate = (data: unknown) => {
    if (lax) data = laxNumbers(schema, data);
    const found: ErrorObject[] = [];
    hostileText(data, '', schema, found);
    if (found.length > 0) {
      run.errors = found;
      return false;
    }
    const validate = compiled();
    const ok = validate(data);
    run.errors = ok ? null : validate.errors;
    return ok;
  };
  return run;
}

/**
 * Validators not compiled yet. Ajv turns a schema into code on its first use, not when the route is registered:
 * compiling the few hundred route schemas up front was about 0.3 s of every start (docs/PERFORMANCE.md). A server
 * that has started compiles the rest in the background (`compilePendingValidators`), so that no request waits.
 */
const pending = new Set<() => ValidateFunction>();

function lazy(ajv: Ajv, schema: object): () => ValidateFunction {
  let validate: ValidateFunction | undefined;
  const compile = () => {
    if (!validate) {
      validate = ajv.compile(schema);
      pending.delete(compile);
    }
    return validate;
  };
  pending.add(compile);
  return compile;
}

/**
 * Compiles every validator not compiled yet, one per turn of the event loop so that requests arriving meanwhile are
 * served between them; answers how many it compiled. Throws the first schema Ajv refuses.
 */
export async function compilePendingValidators(): Promise<number> {
  let count = 0;
  for (const compile of [...pending]) {
    compile();
    count++;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return count;
}

interface RouteSchema {
  schema: object;
  httpPart?: string;
}

/**
 * For `Fastify({ schemaController: { compilersFactory: { buildValidator } } })`: one Ajv that coerces (query,
 * params, headers) and one that does not (bodies), each wrapped with the checks above.
 */
function makeValidator(_externalSchemas?: unknown, options?: { customOptions?: object }) {
  const base = {
    useDefaults: true,
    removeAdditional: false,
    allErrors: true,
    addUsedSchema: false,
    strict: false,
    ...(options?.customOptions ?? {}),
  } as const;
  const coercing = new Ajv({ ...base, coerceTypes: 'array' });
  const exact = new Ajv({ ...base, coerceTypes: false });
  addFormats.default(coercing);
  addFormats.default(exact);
  return ({ schema, httpPart }: RouteSchema) => {
    const isBody = httpPart === 'body';
    return wrap(lazy(isBody ? exact : coercing, schema), schema as Schema, isBody);
  };
}

/**
 * A body validator for one schema outside a request (for example each record of an uploaded file), with exactly
 * the rules a JSON body gets; its `errors` are Ajv's findings, for `fieldErrors`.
 */
export function bodyValidator(schema: object): FastifyValidate {
  standalone ??= makeValidator();
  return standalone({ schema, httpPart: 'body' });
}
let standalone: ReturnType<typeof makeValidator> | undefined;

/**
 * Whether a JSON text nests deeper than `max` (arrays and objects), found in one pass without parsing, so a
 * hostile body is refused before anything recursive touches it.
 */
export function jsonDepthExceeds(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) return true;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return false;
}

/**
 * The factory in Fastify's terms. Its published type describes a compile function taking a bare schema; Fastify
 * calls it with the route's `{schema, httpPart, …}`, which is what the function above reads.
 */
export const buildValidator = makeValidator as unknown as ValidatorFactory;
