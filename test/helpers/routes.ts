// The route table as the app registered it, for the shared security suite: every route with what the kit put in
// its config (`access`, `module`, `envelope`), the module whose `routes()` registered it, and its schemas. Also the
// input the suite sends: plausible path parameters and, per schema, inputs that are certainly malformed (checked
// against the schema, with the conversions the app's validator applies, before they are sent).
import { randomUUID } from 'node:crypto';
import type { RouteOptions } from 'fastify';
import { sql } from 'kysely';
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import type { App } from '../../src/app.ts';
import type { Envelope } from '../../src/core/http/envelopes.ts';
import type { Access } from '../../src/core/http/route.ts';
import type { AnyModule } from '../../src/core/module.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface WalkedRoute {
  method: Method;
  url: string;
  /** The module whose `routes()` registered it; undefined for the core's own routes. */
  owner: string | undefined;
  /** What the kit declared; undefined when the route is not on the kit yet. */
  access: Access | undefined;
  /** The router's module (`config.module`), which `access.module` may override. */
  module: string | undefined;
  envelope: Envelope | undefined;
  body: JsonSchema | undefined;
  params: JsonSchema | undefined;
  querystring: JsonSchema | undefined;
}

/** A TypeBox schema read as the JSON Schema it is. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
}

const METHODS: readonly Method[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/**
 * Collects the route table while the app is built. The modules are passed wrapped: each one's `routes()` marks
 * the routes it registers (plugins it registers are loaded before the mark moves on), so a route outside any
 * prefix (`/kiosk`, `/_dev/…`, a provider's webhook) is still known as the module's.
 */
export function routeCollector(modules: AnyModule[]) {
  const routes: WalkedRoute[] = [];
  let current: string | undefined;
  const wrapped: AnyModule[] = modules.map((mod) => ({
    ...mod,
    async routes(router, deps, core) {
      current = mod.name;
      try {
        await mod.routes(router, deps, core);
        await router.app.after();
      } finally {
        current = undefined;
      }
    },
  }));
  const onRoute = (route: RouteOptions) => {
    const config = (route.config ?? {}) as { access?: Access; module?: string; envelope?: Envelope };
    const schema = (route.schema ?? {}) as { body?: unknown; params?: unknown; querystring?: unknown };
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      // HEAD twins of GET routes share their config; OPTIONS and the like are not the API's.
      if (!METHODS.includes(method as Method)) continue;
      routes.push({
        method: method as Method,
        url: route.url,
        owner: current,
        access: config.access,
        module: config.module,
        envelope: config.envelope,
        body: schema.body as JsonSchema | undefined,
        params: schema.params as JsonSchema | undefined,
        querystring: schema.querystring as JsonSchema | undefined,
      });
    }
  };
  return { routes, modules: wrapped, onRoute };
}

// ---- access ------------------------------------------------------------------------------------------------------

export type Protection =
  | { kind: 'public' }
  | { kind: 'bearer'; module: string; level: number; apiKey: boolean }
  | { kind: 'apiKey'; module: string };

export function protectionOf(route: WalkedRoute): Protection | undefined {
  const access = route.access;
  if (access === undefined) return undefined;
  if (access === 'public') return { kind: 'public' };
  const module = access.module ?? route.module;
  if (module === undefined) throw new Error(`${route.method} ${route.url}: access without a module`);
  if ('level' in access) return { kind: 'bearer', module, level: access.level, apiKey: access.apiKey === true };
  return { kind: 'apiKey', module };
}

// ---- input -------------------------------------------------------------------------------------------------------

/** Whether `value` passes `schema` after what the app's validator does first (`useDefaults`, `coerceTypes`). */
export function passes(schema: JsonSchema, value: unknown): boolean {
  const s = schema as TSchema;
  return Value.Check(s, Value.Convert(s, Value.Default(s, Value.Clone(value))));
}

const STRING_CANDIDATES = () => ['1', 'abc123', 'ABC123', 'TRX-0001', '628123456789', randomUUID(), 'a@b.co'];

/** A value the schema accepts, as plausible as a generic guess can be (for path parameters and full bodies). */
export function plausible(schema: JsonSchema): unknown {
  if (schema.const !== undefined) return schema.const;
  if (schema.enum?.length) return schema.enum[0];
  if (schema.anyOf?.length) return plausible(schema.anyOf[0] as JsonSchema);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'integer':
    case 'number':
      return Math.max(schema.minimum ?? 1, schema.exclusiveMinimum === undefined ? 1 : schema.exclusiveMinimum + 1, 1);
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, p] of Object.entries(schema.properties ?? {})) out[k] = plausible(p);
      return out;
    }
    case 'string': {
      const min = schema.minLength ?? 1;
      for (const c of schema.format === 'uuid' ? [randomUUID()] : STRING_CANDIDATES()) {
        const s = c.length >= min ? c : c.padEnd(min, '0');
        if (passes(schema, s)) return s;
      }
      return 'x'.repeat(Math.max(min, 1));
    }
    default:
      return 'x';
  }
}

/** The URL with each `:param` filled with a plausible value (or the given overrides). */
export function fillUrl(route: WalkedRoute, overrides: Record<string, string> = {}): string {
  const props = route.params?.properties ?? {};
  return route.url.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => {
    const value = overrides[name] ?? (props[name] ? String(plausible(props[name])) : '1');
    return encodeURIComponent(value);
  });
}

/** Every JSON type a schema admits (its own `type` and its unions' branches). */
function typesOf(schema: JsonSchema): Set<string> {
  const out = new Set<string>();
  const own = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  for (const t of own) out.add(t);
  for (const branch of schema.anyOf ?? []) for (const t of typesOf(branch as JsonSchema)) out.add(t);
  return out;
}

/** A plausible text for the field, so that only the control character makes the value wrong. */
function plausibleText(schema: JsonSchema): string {
  const p = plausible(schema);
  return typeof p === 'string' ? p : '';
}

/** Values that are wrong for a scalar or a container in a request's JSON body. */
function wrongJson(schema: JsonSchema): unknown | undefined {
  for (const candidate of [{ wrong: true }, 'not-a-number', -987654321.5, 'x'.repeat(100_000)]) {
    if (!passes(schema, candidate)) return candidate;
  }
  return undefined;
}

/** Values that are wrong for a query string or path parameter (always a string on the wire). */
function wrongText(schema: JsonSchema): string | undefined {
  const candidates = ['not-a-number', '-987654321.5', '!!', `${'x'.repeat((schema.maxLength ?? 10_000) + 1)}`];
  for (const candidate of candidates) {
    if (!passes(schema, candidate)) return candidate;
  }
  return undefined;
}

export interface Malformed {
  what: string;
  url: string;
  payload?: unknown;
}

/**
 * Inputs the route's schemas certainly refuse: a body of the wrong shape, missing required fields, one field of
 * the wrong type at a time, an unexpected field where none is allowed; a query parameter or path parameter of the
 * wrong type or length; a required query parameter left out.
 */
export function malformedInputs(route: WalkedRoute): Malformed[] {
  const out: Malformed[] = [];
  const url = fillUrl(route);
  const withQuery = (q: Record<string, string>) => `${url}?${new URLSearchParams(q).toString()}`;
  const plausibleQuery = (): Record<string, string> => {
    const q: Record<string, string> = {};
    const qs = route.querystring;
    for (const k of qs?.required ?? []) {
      const p = qs?.properties?.[k];
      if (p) q[k] = String(plausible(p));
    }
    return q;
  };
  const base = route.querystring?.required?.length ? withQuery(plausibleQuery()) : url;

  const body = route.body;
  if (body) {
    const full = plausible(body);
    for (const whole of [[1, 2], 'not-an-object']) {
      if (!passes(body, whole)) out.push({ what: `body ${JSON.stringify(whole)}`, url: base, payload: whole });
    }
    if (body.required?.length && !passes(body, {}))
      out.push({ what: 'body {} (required fields missing)', url: base, payload: {} });
    for (const [name, prop] of Object.entries(body.properties ?? {})) {
      const wrong = wrongJson(prop);
      if (wrong === undefined || typeof full !== 'object' || full === null) continue;
      const payload = { ...(full as Record<string, unknown>), [name]: wrong };
      if (!passes(body, payload)) out.push({ what: `body.${name} of the wrong type`, url: base, payload });
    }
    // The originals' typing rules (CONTRACTS §6), unconditionally: whatever a schema says, a text field never takes
    // a number (a phone number would lose its leading 0), an integer never takes a fraction or a boolean, and no
    // text takes NUL or another control character.
    if (typeof full === 'object' && full !== null && !Array.isArray(full)) {
      for (const [name, prop] of Object.entries(body.properties ?? {})) {
        const types = typesOf(prop);
        const variants: [string, unknown][] = [];
        if (types.has('string') && !types.has('number') && !types.has('integer')) {
          variants.push(['a number for text', 812345678]);
          variants.push(['text with NUL', `ab\u0000c${plausibleText(prop)}`]);
          variants.push(['text with a control character', `ab\u0007c${plausibleText(prop)}`]);
        }
        if (types.has('integer') && !types.has('string') && !types.has('number')) {
          variants.push(['a fraction for an integer', 1.5]);
          variants.push(['a boolean for an integer', true]);
        }
        for (const [what, wrong] of variants) {
          out.push({ what: `body.${name}: ${what}`, url: base, payload: { ...(full as object), [name]: wrong } });
        }
      }
    }
    if (body.additionalProperties === false && typeof full === 'object' && full !== null) {
      const payload = { ...(full as Record<string, unknown>), unexpected_field_from_the_suite: 1 };
      if (!passes(body, payload)) out.push({ what: 'body with an unexpected field', url: base, payload });
    }
  }

  const qs = route.querystring;
  if (qs) {
    for (const [name, prop] of Object.entries(qs.properties ?? {})) {
      const wrong = wrongText(prop);
      if (wrong === undefined) continue;
      const q = { ...plausibleQuery(), [name]: wrong };
      if (!passes(qs, q))
        out.push({ what: `query ${name}=${wrong.slice(0, 20)}`, url: withQuery(q), payload: bodyFor(route) });
    }
    for (const name of qs.required ?? []) {
      const q = plausibleQuery();
      delete q[name];
      if (passes(qs, q)) continue; // it has a default
      out.push({ what: `query without ${name}`, url: withQuery(q), payload: bodyFor(route) });
    }
  }

  if (qs) {
    for (const [name, prop] of Object.entries(qs.properties ?? {})) {
      if (!typesOf(prop).has('string') || prop.enum || prop.format) continue;
      const q = { ...plausibleQuery(), [name]: `ab\u0000c${plausibleText(prop)}` };
      out.push({ what: `query ${name} with NUL`, url: withQuery(q), payload: bodyFor(route) });
    }
  }

  const params = route.params;
  if (params) {
    for (const [name, prop] of Object.entries(params.properties ?? {})) {
      const wrong = wrongText(prop);
      if (wrong === undefined) continue;
      const p = { ...(plausible(params) as Record<string, unknown>), [name]: wrong };
      if (passes(params, p)) continue;
      const filled = fillUrl(route, { [name]: wrong });
      const q = route.querystring?.required?.length ? `?${new URLSearchParams(plausibleQuery()).toString()}` : '';
      out.push({ what: `path ${name}=${wrong.slice(0, 20)}`, url: `${filled}${q}`, payload: bodyFor(route) });
    }
  }
  return out;
}

/** A plausible body where the route takes one (so that only the part under test is wrong). */
function bodyFor(route: WalkedRoute): unknown {
  return route.body ? plausible(route.body) : undefined;
}

// ---- the envelope ------------------------------------------------------------------------------------------------

/** What is wrong with an error answer for `envelope`: not JSON, or not of the envelope's error schema (empty: ok). */
export function envelopeProblems(envelope: Envelope, res: { statusCode: number; body: string }): string[] {
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    return [`the ${res.statusCode} answer is not JSON: ${res.body.slice(0, 200)}`];
  }
  return [...Value.Errors(envelope.errorSchema, body)].map(
    (e) => `${res.statusCode} not in the ${envelope.name} envelope: ${e.instancePath} ${e.message}`,
  );
}

// ---- "nothing written" -------------------------------------------------------------------------------------------

/**
 * Row counts of every table in the public schema, and the ledger's sums, read in one SQL statement (so that the
 * numbers belong to one moment, and the fuzz run can afford one after every request).
 */
export async function snapshot(app: App): Promise<Record<string, string>> {
  const { db } = app.loket.database;
  const tables = await sql<{ name: string }>`
    SELECT table_name AS name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`.execute(db);
  const counts = tables.rows.map(
    ({ name }) => sql`SELECT ${`rows in ${name}`}::text AS k, count(*)::text AS v FROM ${sql.table(name)}`,
  );
  const ledger = [
    sql`SELECT 'ledger: sum of |balance|' AS k, coalesce(sum(abs(balance)), 0)::text AS v FROM ledger_accounts`,
    sql`SELECT 'ledger: sum of |amount|' AS k, coalesce(sum(abs(amount)), 0)::text AS v FROM ledger_entries`,
  ];
  const r = await sql<{ k: string; v: string }>`${sql.join([...counts, ...ledger], sql` UNION ALL `)}`.execute(db);
  return Object.fromEntries(r.rows.map((row) => [row.k, row.v]));
}
