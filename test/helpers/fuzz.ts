// The fuzz run over the whole API (issue 17, "What to build" 7): every operation of the service's one OpenAPI
// document gets hostile input, generated with fast-check from the operation's own schemas, sent as a signed-in
// owner, as another user and anonymously. After every request: no 5xx; an error answer is in the envelope of the
// route that answered (the route table's `envelope`, the same one the shared security suite checks); and an answer
// of 4xx wrote nothing (row counts of every table and the ledger's sums, `snapshot`).
//
// Used by test/fuzz.test.ts (fixed seed, bounded) and bench/fuzz.ts (longer, FUZZ_RUNS and FUZZ_SEED). Nothing
// here imports the test runner, so that the bench can run it as a plain script.
import fc from 'fast-check';
import { sql } from 'kysely';
import type { App } from '../../src/app.ts';
import { ALL_MODULES } from '../../src/config.ts';
import { PLATFORM } from '../../src/core/identity/accounts.ts';
import type { AnyModule } from '../../src/core/module.ts';
import { makeAccount, type TestAccount } from './identity.ts';
import {
  envelopeProblems,
  type JsonSchema,
  type Method,
  type Protection,
  protectionOf,
  snapshot,
  type WalkedRoute,
} from './routes.ts';
import { jobsSettled } from './until.ts';

// ---- the operations, from /openapi.json ---------------------------------------------------------------------------

/** A JSON schema as the OpenAPI 3.0 document writes it (`nullable` instead of a null branch). */
export interface OpenApiSchema extends JsonSchema {
  nullable?: boolean;
  oneOf?: OpenApiSchema[];
  items?: OpenApiSchema;
  maxItems?: number;
}

interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: OpenApiSchema;
}

interface OpenApiOperation {
  parameters?: OpenApiParameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: OpenApiSchema }> };
}

interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
}

export interface Operation {
  /** `METHOD /path/{param}`, as the OpenAPI document names it. */
  key: string;
  method: Method;
  path: string;
  /** The route that serves it: its envelope and declared access. */
  route: WalkedRoute;
  protection: Protection;
  params: OpenApiParameter[];
  body: { contentTypes: string[]; schema: OpenApiSchema } | undefined;
}

const OPENAPI_METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);

/**
 * Every operation of `/openapi.json`, joined with the route table (by method and path; `{x}` is `:x`). A core
 * route registered without the kit (health, readiness, metrics) answers errors in its path's envelope and is
 * fuzzed as public; it is listed in `offKit`. An operation without any route is listed in `unmatched`.
 */
export async function operationsOf(app: App, routes: WalkedRoute[]) {
  const res = await app.inject({ method: 'GET', url: '/openapi.json' });
  if (res.statusCode !== 200) throw new Error(`/openapi.json answered ${res.statusCode}`);
  const doc = res.json() as OpenApiDocument;
  const byKey = new Map(routes.map((r) => [`${r.method} ${r.url}`, r]));
  const operations: Operation[] = [];
  const unmatched: string[] = [];
  const offKit: WalkedRoute[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [m, op] of Object.entries(item)) {
      if (!OPENAPI_METHODS.has(m)) continue;
      const method = m.toUpperCase() as Method;
      const key = `${method} ${path}`;
      const found = byKey.get(`${method} ${path.replace(/\{([^}]+)\}/g, ':$1')}`);
      if (!found) {
        unmatched.push(key);
        continue;
      }
      let route = found;
      if (!found.access) {
        offKit.push(found);
        route = { ...found, envelope: found.envelope ?? app.loket.prefixes.envelopeFor(found.url) };
      }
      const content = op.requestBody?.content ?? {};
      const contentTypes = Object.keys(content);
      const schema = contentTypes.map((c) => content[c]?.schema).find((s) => s !== undefined);
      operations.push({
        key,
        method,
        path,
        route,
        protection: protectionOf(route) ?? { kind: 'public' },
        params: (op.parameters ?? []).filter((p) => p.in !== 'cookie'),
        body: schema ? { contentTypes, schema } : undefined,
      });
    }
  }
  return { operations, unmatched, offKit };
}

/**
 * What a refusal may write, by design, per operation: the payments webhook keeps every delivery that carried the
 * right token, the refused ones too (unrecognised body, unknown reference, amount mismatch), as the evidence an
 * operator needs; it changes no money. Every other 4xx must leave every table as it was.
 */
export function recordedRefusals(modules: AnyModule[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of modules) {
    for (const path of m.webhook?.paths ?? []) out.set(`POST ${path}`, ['rows in webhook_deliveries']);
  }
  return out;
}

// ---- hostile values ---------------------------------------------------------------------------------------------

const MB = 'x'.repeat(1 << 20);

/** Nested arrays `levels` deep, as a value (the parser's bound is checked with text, see RAW_BODIES). */
const nested = (levels: number): unknown => {
  let v: unknown = 'bottom';
  for (let i = 0; i < levels; i++) v = i % 2 ? [v] : { a: v };
  return v;
};

/** Text a careless or hostile client sends: control characters, huge, emoji and right-to-left, SQL, HTML. */
const HOSTILE_TEXT = [
  'a\u0000b',
  '\u0000',
  'ab\u0007c',
  '\u001b[31mred',
  '\u007f',
  '\u0085next line',
  'tab\there',
  'line\r\nbreak',
  MB,
  'é'.repeat(200_000),
  'x'.repeat(10_001),
  '😀',
  '👩🏽‍💻 Budi Santoso',
  'مرحبا بالعالم',
  'שלום',
  '\u202Eexe.txt',
  '\u200F\u200E\u200B',
  '\uFEFF',
  '\uD800',
  'Ṩ̤͔ͧ̑ä͖̭̈̇l̲',
  "' OR '1'='1",
  "'; DROP TABLE accounts; --",
  '1; SELECT pg_sleep(10)',
  '%',
  '_',
  '%_%',
  '\\',
  "\\'",
  '$1',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template injection probe, sent as text on purpose
  '${jndi:ldap://127.0.0.1/x}',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  '{{7*7}}',
  '',
  ' ',
  'null',
  'undefined',
  'NaN',
  'Infinity',
  'true',
  '0',
  '-1',
  '-0',
  '1e309',
  '10000',
  '1.5',
  '0x10',
  '1_000',
  ' 10000 ',
  '１２３',
  '081234567890',
  '2024-02-30',
  '9999-12-31T23:59:59Z',
  '0000-00-00',
  '../../etc/passwd',
  '%00',
  '%2e%2e%2f',
  'http://169.254.169.254/latest/meta-data/',
  'http://127.0.0.1:8000/health',
  'file:///etc/passwd',
  '__proto__',
  'constructor',
];

const hostileText: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_TEXT) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
);

/** Amounts and ids a careless or hostile client sends: negative, huge, fractional, at every 2^n edge. */
const HOSTILE_NUMBERS = [
  -1,
  0,
  -0,
  0.5,
  1.5,
  -0.01,
  0.1 + 0.2,
  1e308,
  -1e308,
  5e-324,
  2 ** 31 - 1,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 53 - 1,
  2 ** 53 + 2,
  2 ** 63,
  1e21,
];

const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_NUMBERS) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
);

/** Any JSON value that is wrong somewhere: text, numbers as text, numbers, booleans, null, containers, nesting. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileText },
  { weight: 3, arbitrary: hostileNumber },
  { weight: 1, arbitrary: hostileNumber.map(String) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(true, false, null, [], {}, [1, 2], { a: 1 }) },
  { weight: 1, arbitrary: fc.constantFrom(nested(31), nested(33), nested(500)) },
  { weight: 1, arbitrary: fc.constant(JSON.parse('{"__proto__": {"admin": true}, "constructor": {"prototype": 1}}')) },
  { weight: 1, arbitrary: fc.array(hostileText, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.constant(Array.from({ length: 1001 }, (_, i) => i)) },
);

// ---- values shaped by a schema ----------------------------------------------------------------------------------

const typesOf = (s: OpenApiSchema): string[] => (s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type]);

const FORMAT_VALUES: Record<string, string[]> = {
  date: ['2024-02-29', '1970-01-01', '9999-12-31', '0001-01-01', '2023-02-29', '2026-12-05'],
  'date-time': [
    '2026-12-05T07:00:00Z',
    '1970-01-01T00:00:00Z',
    '9999-12-31T23:59:59.999Z',
    '2026-12-05T07:00:00+14:00',
  ],
  time: ['00:00:00', '23:59:59', '24:00:00'],
  email: ['a@b.co', 'budi.santoso+tag@example.co.id', '"<script>"@example.com', 'x@127.0.0.1'],
  uri: ['https://example.com/hook', 'http://127.0.0.1:8000/health', 'http://169.254.169.254/', 'http://[::1]/'],
  uuid: ['00000000-0000-0000-0000-000000000000'],
};

function textWithin(s: OpenApiSchema): fc.Arbitrary<string> {
  const min = s.minLength ?? 0;
  const max = s.maxLength ?? 2_000_000;
  const fit = (t: string) => {
    // By code points (an emoji is one character to the schema); a text of `max` code units or fewer fits as it is.
    const cut = t.length <= max ? t : [...t.slice(0, 2 * max)].slice(0, max).join('');
    return cut.length >= min ? cut : cut.padEnd(min, cut || 'a');
  };
  const candidates: fc.Arbitrary<string>[] = [hostileText.map(fit)];
  if (s.format && FORMAT_VALUES[s.format]) candidates.push(fc.constantFrom(...(FORMAT_VALUES[s.format] ?? [])));
  if (s.format === 'uuid') candidates.push(fc.uuid());
  if (s.pattern) {
    try {
      const re = new RegExp(s.pattern, 'u');
      const matching = fc.stringMatching(re).filter((t) => t.length <= max && t.length >= min);
      return fc.oneof({ weight: 3, arbitrary: matching }, ...candidates);
    } catch {
      // a pattern JavaScript does not read: the hostile candidates only
    }
  }
  if (s.maxLength !== undefined) candidates.push(fc.constant('ż'.repeat(s.maxLength)));
  return fc.oneof(...candidates);
}

function numberWithin(s: OpenApiSchema, integer: boolean): fc.Arbitrary<number> {
  const lo = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : -(2 ** 31));
  const hi = s.maximum ?? 2 ** 31 - 1;
  const edges = [lo, hi, Math.max(lo, Math.min(hi, 1)), Math.max(lo, Math.min(hi, 10_000))];
  const inside = integer
    ? fc.integer({ min: Math.max(lo, -(2 ** 31)), max: Math.min(hi, 2 ** 31 - 1) })
    : fc.double({ min: lo, max: hi, noNaN: true });
  return fc.oneof(fc.constantFrom(...edges), inside);
}

/**
 * A value for `schema`: mostly what it admits, chosen at the edges (longest text, emoji, SQL and HTML that pass,
 * the extreme numbers, the oddest dates), so that input reaches the handlers and the database; sometimes
 * something hostile instead, so that the validator is tried at every depth.
 */
export function valueFor(schema: OpenApiSchema, depth = 0): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 4, arbitrary: admitted(schema, depth) }, { weight: 1, arbitrary: hostileValue });
}

function admitted(s: OpenApiSchema, depth: number): fc.Arbitrary<unknown> {
  const inner = (): fc.Arbitrary<unknown> => {
    if (s.const !== undefined) return fc.constant(s.const);
    if (s.enum?.length) return fc.constantFrom(...s.enum);
    const branches = [...(s.anyOf ?? []), ...(s.oneOf ?? [])];
    if (branches.length) return fc.oneof(...branches.map((b) => admitted(b, depth)));
    const types = typesOf(s);
    const type = types.find((t) => t !== 'null') ?? (s.properties ? 'object' : 'string');
    switch (type) {
      case 'integer':
        return fc.oneof({ weight: 3, arbitrary: numberWithin(s, true) }, numberWithin(s, true).map(String));
      case 'number':
        return fc.oneof({ weight: 3, arbitrary: numberWithin(s, false) }, numberWithin(s, false).map(String));
      case 'boolean':
        return fc.boolean();
      case 'array':
        return depth > 4 ? fc.constant([]) : fc.array(valueFor(s.items ?? {}, depth + 1), { maxLength: 3 });
      case 'object':
        return depth > 4 ? fc.constant({}) : objectFor(s, depth);
      default:
        return textWithin(s);
    }
  };
  return s.nullable || typesOf(s).includes('null')
    ? fc.oneof({ weight: 4, arbitrary: inner() }, fc.constant(null))
    : inner();
}

const EXTRA_KEYS = ['unexpected', '__proto__', 'constructor', 'id', 'account_id', 'is_admin', 'saldo', 'a\u0000b'];

/** An object of the schema's properties: required ones mostly present, optional ones sometimes, extras now and then. */
function objectFor(s: OpenApiSchema, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const required = new Set(s.required ?? []);
  const props = Object.entries(s.properties ?? {}) as [string, OpenApiSchema][];
  const fields = props.map(([name, prop]) =>
    fc
      .option(valueFor(prop, depth + 1), { freq: required.has(name) ? 12 : 2, nil: undefined })
      .map((v) => [name, v] as const),
  );
  const extras = fc.option(fc.tuple(fc.constantFrom(...EXTRA_KEYS), hostileValue), { freq: 5, nil: undefined });
  return fc.tuple(fc.tuple(...fields), extras).map(([pairs, extra]) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of pairs) if (v !== undefined) out[k] = v;
    // defineProperty: `__proto__` as an own key, as JSON.parse makes it.
    if (extra) Object.defineProperty(out, extra[0], { value: extra[1], enumerable: true, writable: true });
    return out;
  });
}

// ---- a request ------------------------------------------------------------------------------------------------

/** Bodies no JSON value serialises to: broken JSON, nesting past the parser's bound, numbers past any range. */
const RAW_BODIES = [
  '',
  '{',
  '{"a":',
  'nul',
  '\uFEFF{}',
  `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
  `${'{"a":'.repeat(40)}1${'}'.repeat(40)}`,
  '{"a":1,"a":2}',
  '1e999999',
  '123456789012345678901234567890',
  '{"amount": 1e400}',
  '"\\ud800"',
  '{"__proto__":{"polluted":true}}',
];

const CONTENT_TYPES = [
  'text/plain',
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=fuzz',
  'application/json; charset=utf-16',
  'APPLICATION/JSON',
  'application/json-patch+json',
  '',
];

export interface Case {
  url: string;
  headers: Record<string, string>;
  /** The body exactly as sent (undefined: none). */
  payload: string | undefined;
  /** For a route that takes a bearer token or a key: which one the signed-in callers present. */
  credential: 'bearer' | 'key';
  /** For a header that carries a shared secret (the provider webhook's token): whether the owner knows it. */
  ownerKnowsSecrets: boolean;
}

function encodeSegment(value: string): string {
  try {
    // `.` and `..` (encoded or not) are resolved away by every client (`/a/..` is `/`): three dots are sent instead.
    return /^\.{1,2}$/.test(value) ? '...' : encodeURIComponent(value);
  } catch {
    return '%ED%A0%80'; // a lone surrogate: the bytes no UTF-8 decoder takes
  }
}

const asText = (v: unknown): string => (typeof v === 'string' ? v : (JSON.stringify(v) ?? 'undefined'));

/** Text for a URL: a value of the schema or hostile text, percent-encoded; sometimes raw, broken encoding. */
function urlText(schema: OpenApiSchema): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: valueFor(schema).map((v) => encodeSegment(asText(v))) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('%', '%zz', '%E0%A4%A', '%00', '%2E%2E%2E', '%2F', 'a%2Fb', '1%20OR%201=1'),
    },
    { weight: 1, arbitrary: fc.constantFrom('1', '2', '3', String(2 ** 31), '-1', '0') },
  );
}

/** Header text as HTTP can carry it (visible Latin-1 and spaces), from hostile text or the schema. */
function headerText(schema: OpenApiSchema): fc.Arbitrary<string> {
  return valueFor(schema).map((v) =>
    asText(v)
      .replace(/[^\t\x20-\x7e\xa0-\xff]/g, '?')
      .slice(0, 8192),
  );
}

/** The arbitrary of one operation's requests: path, query, headers, body and content type. */
export function caseFor(op: Operation, secrets: Record<string, string>): fc.Arbitrary<Case> {
  const pathParams = op.params.filter((p) => p.in === 'path');
  const queryParams = op.params.filter((p) => p.in === 'query');
  const headerParams = op.params.filter((p) => p.in === 'header');

  const path = fc.tuple(...pathParams.map((p) => urlText(p.schema ?? {}))).map((values) => {
    let i = 0;
    return op.path.replace(/\{[^}]+\}/g, () => values[i++] ?? '1');
  });

  const queryPart = (p: OpenApiParameter) =>
    fc
      .option(
        fc.oneof(
          { weight: 4, arbitrary: urlText(p.schema ?? {}).map((v) => [v]) },
          { weight: 1, arbitrary: fc.tuple(urlText(p.schema ?? {}), urlText(p.schema ?? {})) },
        ),
        { freq: p.required ? 10 : 2, nil: undefined },
      )
      .map((vs) => (vs ?? []).map((v) => `${encodeSegment(p.name)}=${v}`));
  const extraQuery = fc.option(
    fc
      .tuple(fc.constantFrom('unexpected', 'limit', 'skip', '__proto__', 'a[b]'), urlText({}))
      .map(([k, v]) => `${k}=${v}`),
    { freq: 6, nil: undefined },
  );
  const query = fc
    .tuple(fc.tuple(...queryParams.map(queryPart)), extraQuery)
    .map(([parts, extra]) => [...parts.flat(), ...(extra ? [extra] : [])].join('&'));

  const headers = fc.tuple(
    ...headerParams.map((p) =>
      fc
        .option(secrets[p.name] ? fc.constant(secrets[p.name] as string) : headerText(p.schema ?? {}), {
          freq: p.required ? 10 : 3,
          nil: undefined,
        })
        .map((v) => [p.name, v] as const),
    ),
  );

  const json = (op.body ? valueFor(op.body.schema) : hostileValue).map((v) => JSON.stringify(v) ?? 'null');
  const form = (op.body ? valueFor(op.body.schema) : hostileValue).map((v) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.entries(v)
          .map(([k, x]) => `${encodeSegment(k)}=${encodeSegment(asText(x))}`)
          .join('&')
      : encodeSegment(asText(v)),
  );
  const declared = op.body?.contentTypes ?? [];
  const body: fc.Arbitrary<{ contentType: string | undefined; payload: string | undefined }> = fc.oneof(
    {
      weight: op.body ? 12 : 1,
      arbitrary: json.map((payload) => ({ contentType: 'application/json', payload })),
    },
    {
      weight: declared.includes('application/x-www-form-urlencoded') ? 6 : 1,
      arbitrary: form.map((payload) => ({ contentType: 'application/x-www-form-urlencoded', payload })),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(...RAW_BODIES).map((payload) => ({ contentType: 'application/json', payload })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(...CONTENT_TYPES), json)
        .map(([contentType, payload]) => ({ contentType: contentType || undefined, payload })),
    },
    { weight: op.body ? 1 : 6, arbitrary: fc.constant({ contentType: undefined, payload: undefined }) },
  );

  return fc
    .record({
      path,
      query,
      headers,
      body,
      credential: fc.constantFrom<'bearer' | 'key'>('bearer', 'key'),
      ownerKnowsSecrets: fc.boolean(),
    })
    .map(({ path: p, query: q, headers: hs, body: b, credential, ownerKnowsSecrets }) => {
      const h: Record<string, string> = {};
      for (const [name, value] of hs) if (value !== undefined) h[name] = value;
      if (b.contentType !== undefined) h['content-type'] = b.contentType;
      return { url: q ? `${p}?${q}` : p, headers: h, payload: b.payload, credential, ownerKnowsSecrets };
    });
}

// ---- who sends it -----------------------------------------------------------------------------------------------

export type Who = 'anonymous' | 'other' | 'owner';
export const WHO: readonly Who[] = ['anonymous', 'other', 'owner'];

interface Caller {
  account: TestAccount;
  levels: Record<string, number>;
  token: string;
  sessionVersion: number;
  keys: Map<string, string>;
}

/**
 * The three callers. The owner holds the platform's and every module's highest level and a key for every module;
 * the other user is a member of every module at level 1 with keys of its own (so an owner's resource is another
 * user's). A case may end a caller's session, rotate its key, disable or demote it (the fuzz run calls logout,
 * `/generate-key` and the admin API like any other operation): `ensure` mends that before the next case.
 */
export function callers(app: App) {
  const { identity, database } = app.loket;
  const wanted: Record<'owner' | 'other', Record<string, number>> = {
    owner: Object.fromEntries([PLATFORM, ...ALL_MODULES].map((m) => [m, 100])),
    other: Object.fromEntries(ALL_MODULES.map((m) => [m, 1])),
  };
  const live = new Map<'owner' | 'other', Caller>();

  async function make(levels: Record<string, number>): Promise<Caller> {
    const account = await makeAccount(app, levels);
    const pair = await identity.sessions.start(account.id, 0);
    const keys = new Map<string, string>();
    for (const m of ALL_MODULES) keys.set(m, (await identity.apiKeys.issue(database.db, account.id, m)).apiKey);
    return { account, levels, token: pair.access_token, sessionVersion: 0, keys };
  }

  async function healthy(c: Caller): Promise<boolean> {
    const state = await identity.authState.get(c.account.id);
    if (!state?.active || JSON.stringify(state.memberships) !== JSON.stringify(c.levels)) return false;
    try {
      const claims = await identity.sessions.verifyAccess(c.token);
      if (claims.sessionVersion !== state.sessionVersion) return false;
    } catch {
      return false;
    }
    for (const [m, key] of c.keys) if (!(await identity.apiKeys.authenticate(key, m))) return false;
    return true;
  }

  return {
    /** Makes both signed-in callers usable again (a fresh account when the old one was changed). */
    async ensure(): Promise<void> {
      for (const who of ['owner', 'other'] as const) {
        const c = live.get(who);
        if (!c || !(await healthy(c))) live.set(who, await make(wanted[who]));
      }
    },
    /** The headers `who` presents to `op` (none for the anonymous caller, and none on a public route). */
    headers(op: Operation, who: Who, credential: 'bearer' | 'key'): Record<string, string> {
      const c = who === 'anonymous' ? undefined : live.get(who);
      const p = op.protection;
      if (!c || p.kind === 'public') return {};
      const key = c.keys.get(p.module);
      const useKey = p.kind === 'apiKey' || (p.kind === 'bearer' && p.apiKey && credential === 'key');
      if (useKey) return key ? { 'x-api-key': key } : {};
      return { authorization: `Bearer ${c.token}` };
    },
    accountIds(): number[] {
      return [...live.values()].map((c) => c.account.id);
    },
  };
}

export type Callers = ReturnType<typeof callers>;

// ---- sending and checking ---------------------------------------------------------------------------------------

export interface Finding {
  operation: string;
  who: Who;
  status: number;
  /** The answer's x-request-id, to find its log lines (a 5xx logs its stack). */
  requestId: string;
  problem: string;
  request: { url: string; headers: Record<string, string>; payload: string | undefined };
}

export interface OperationStats {
  sent: number;
  byStatus: Record<string, number>;
  serverErrors: number;
}

/** Shortens what a report shows of a request (a 1 MB string is shown as its length). */
export function shown(text: string | undefined, max = 300): string | undefined {
  if (text === undefined || text.length <= max) return text;
  return `${text.slice(0, max)}… (${text.length} characters)`;
}

function diff(before: Record<string, string>, after: Record<string, string>, allowed: Set<string>): string {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys]
    .filter((k) => before[k] !== after[k] && !allowed.has(k))
    .map((k) => `${k}: ${before[k]} → ${after[k]}`)
    .join(', ');
}

/** Jobs that started since `since`: a change of row counts may then be theirs. */
async function jobsStartedSince(app: App, since: Date): Promise<number> {
  const r = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM pgboss.job WHERE started_on >= ${since}`.execute(app.loket.database.db);
  return r.rows[0]?.n ?? 0;
}

export interface FuzzContext {
  app: App;
  callers: Callers;
  stats: Map<string, OperationStats>;
  /** Tables a refusal of an operation may grow by design (`recordedRefusals`). */
  recorded: Map<string, string[]>;
}

/**
 * Sends one case as each caller and checks every answer; returns what is wrong (empty: nothing). Before the case,
 * the callers are mended and the job queue has settled; the row counts are read after every answer (one
 * statement), and after an answer that may have written, once its jobs have run.
 */
export async function runCase(ctx: FuzzContext, op: Operation, c: Case): Promise<Finding[]> {
  const { app, stats } = ctx;
  const findings: Finding[] = [];
  const s = stats.get(op.key) ?? { sent: 0, byStatus: {}, serverErrors: 0 };
  stats.set(op.key, s);
  const allowed = new Set(ctx.recorded.get(op.key) ?? []);
  await ctx.callers.ensure();
  await jobsSettled(app);
  let before = await snapshot(app);
  for (const caller of WHO) {
    const headers = { ...c.headers, ...ctx.callers.headers(op, caller, c.credential) };
    if (!(caller === 'owner' && c.ownerKnowsSecrets)) {
      // Only the owner may know a shared secret (the webhook's token); the others send a wrong one.
      for (const name of Object.keys(headers)) if (name === 'x-callback-token') headers[name] = 'not-the-token';
    }
    const request = { url: c.url, headers, payload: c.payload };
    for (let attempt = 0; ; attempt++) {
      const since = new Date(Date.now() - 1000);
      const res = await app.inject({
        method: op.method,
        url: c.url,
        headers,
        ...(c.payload === undefined ? {} : { payload: c.payload }),
      });
      if (attempt === 0) {
        s.sent++;
        s.byStatus[res.statusCode] = (s.byStatus[res.statusCode] ?? 0) + 1;
      }
      const found = (problem: string) =>
        findings.push({
          operation: op.key,
          who: caller,
          status: res.statusCode,
          requestId: String(res.headers['x-request-id'] ?? ''),
          problem,
          request,
        });
      if (res.statusCode >= 500) {
        if (attempt === 0) s.serverErrors++;
        found(`answered ${res.statusCode}: ${shown(res.body)}`);
      }
      if (res.statusCode >= 400 && op.route.envelope) {
        for (const p of envelopeProblems(op.route.envelope, res)) found(p);
      }
      if (res.statusCode >= 400 && res.statusCode < 500) {
        const after = await snapshot(app);
        const changed = diff(before, after, allowed);
        if (changed && attempt === 0 && (await jobsStartedSince(app, since)) > 0) {
          // A job that ran meanwhile (one an earlier case set off) may be what changed: settle, send it again.
          await jobsSettled(app);
          before = await snapshot(app);
          continue;
        }
        if (changed) found(`a ${res.statusCode} wrote: ${changed}`);
        before = after;
      } else {
        await jobsSettled(app);
        before = await snapshot(app);
      }
      break;
    }
  }
  return findings;
}

/** One seed per operation, from the run's seed and the operation's name: an operation's cases do not depend on
 * which other operations ran before it. */
export const seedOf = (base: number, key: string): number => {
  let h = base | 0;
  for (let i = 0; i < key.length; i++) h = (Math.imul(h, 31) + key.charCodeAt(i)) | 0;
  return h;
};

export const requestLine = (f: Finding) =>
  `${f.who}: ${f.request.url.length > 200 ? shown(f.request.url, 200) : f.request.url} ${JSON.stringify(
    f.request.headers,
  )} ${shown(f.request.payload) ?? '(no body)'}`;
