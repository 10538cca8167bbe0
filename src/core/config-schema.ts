// Configuration declared once. Each variable is one declaration (`v.int('PORT', { default: 8000, … })`) carrying its
// environment name, parser, real default, documentation, secret flag and example; the Config type, the parser,
// the README's table and `.env.example` are all derived from the declarations. Declarations come in titled groups
// (the core's in src/config.ts, each module's in its own `config.ts`); this file knows no module and reads no
// environment of its own: src/config.ts hands it one.

export type Env = Record<string, string | undefined>;

/** Reports one configuration problem; every problem is collected before start-up fails. */
export type Report = (text: string) => void;

/** A default computed from other configuration values, once every declared variable has been read. */
export interface Derived<T, C> {
  readonly kind: 'derived';
  /** How the docs show the default. */
  readonly text: string;
  readonly from: (c: C) => T;
}

/** What every declaration shares, and what the docs print. */
export interface VarDoc {
  /** The environment variable. */
  readonly name: string;
  /** Further names read when `name` is unset (another document's name for the same thing). */
  readonly aliases: readonly string[];
  readonly doc: string;
  /** The default as the docs show it. */
  readonly defaultText: string;
  /** A value shown in `.env.example`. */
  readonly example: string | undefined;
  /** Never printed: its default is not shown and problems never quote its value. */
  readonly secret: boolean;
}

export interface Var<T, C = unknown> extends VarDoc {
  readonly kind: 'var';
  /** Reads a set (trimmed, non-empty) value; on a problem it reports and returns something usable. */
  parse(raw: string, report: Report): T;
  /** The default when unset: a value, or one computed from other values. */
  readonly fallback: { readonly value: T } | Derived<T, C>;
  /**
   * Checks the final value, the default included. Returns what is wrong, read after the variable's name
   * (`must be …`, or `="…" is not …` to quote a value that is not secret).
   */
  check?(value: T): string | undefined;
  /**
   * A pattern variable (`XENDIT_API_KEY_<BRAND>`) reads every variable whose name starts with this prefix instead
   * of one name; see `v.pattern`.
   */
  readonly prefix?: string;
}

/**
 * Variables that make one optional value together: undefined unless `when` is set; when it is, `requires` must
 * be set too. The fields' own problems are reported only when the section is in use.
 */
export interface Section<F extends Fields, W extends keyof F, R extends keyof F> {
  readonly kind: 'section';
  readonly fields: F;
  readonly when: W;
  readonly requires: readonly R[];
}

// Method syntax above keeps these assignable whatever T and C are.
export type AnyVar = Var<unknown, never>;
export type Fields = Record<string, AnyVar>;
export type AnySection = Section<Fields, string, string>;
export type Entry = AnyVar | AnySection;
export type Entries = Record<string, Entry>;

type Flat<T> = { [K in keyof T]: T[K] };
type VarValue<E> = E extends Var<infer T, never> ? T : never;
type SectionValue<F, W extends keyof F, R extends keyof F> = Flat<{
  [K in keyof F]: K extends W | R ? Exclude<VarValue<F[K]>, undefined> : VarValue<F[K]>;
}>;
type EntryValue<E> = E extends Section<infer F, infer W, infer R> ? SectionValue<F, W, R> | undefined : VarValue<E>;

/** The configuration values a set of declarations yields, keyed as declared. */
export type Values<E> = { [K in keyof E]: EntryValue<E[K]> };

/** The values a computed default reads (every one must be a configuration value: see `ContextOf`). */
export type ContextOf<E> = {
  [K in keyof E]: E[K] extends Var<unknown, infer C> ? (unknown extends C ? never : C) : never;
}[keyof E];

export interface Group<E extends Entries = Entries> {
  /** Heading in the docs. */
  readonly title: string;
  readonly entries: E;
  /** Checks across the group's variables (after every value, computed defaults included, is known). */
  check?(c: Values<E>, report: Report): void;
}

/** A titled set of declarations, keyed by their name in the Config object. */
export function group<E extends Entries>(
  title: string,
  entries: E,
  check?: (c: Values<E>, report: Report) => void,
): Group<E> {
  return { title, entries, check };
}

// ---------------------------------------------------------------------------------------------------------------
// The builders.

interface Common {
  doc: string;
  example?: string;
  secret?: boolean;
  aliases?: readonly string[];
  /** How the docs show the default when the value itself says too much or too little. */
  defaultText?: string;
}
interface StringOptions extends Common {
  /** Returns what is wrong with a value (the default included), read after the variable's name. */
  check?: (value: string) => string | undefined;
}
interface UrlOptions extends Common {
  /** Accepted schemes, with their colon: `['http:', 'https:']`. */
  protocols: readonly string[];
  /** Drop trailing slashes (base URLs). */
  trimSlash?: boolean;
}

function make<T, C>(
  name: string,
  o: Common,
  fallback: { value: T } | Derived<T, C>,
  parse: (raw: string, report: Report) => T,
  check?: (value: T) => string | undefined,
): Var<T, C> {
  const secret = o.secret ?? false;
  const shown =
    'kind' in fallback
      ? fallback.text
      : secret && fallback.value !== undefined
        ? '(secret)'
        : showValue(fallback.value);
  return {
    kind: 'var',
    name,
    aliases: o.aliases ?? [],
    doc: o.doc,
    defaultText: o.defaultText ?? shown,
    example: o.example,
    secret,
    parse,
    fallback,
    check,
  };
}

function showValue(value: unknown): string {
  if (value === undefined) return '(none)';
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : value.join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const TRUE = ['1', 'on', 'true', 'yes'];
const FALSE = ['0', 'off', 'false', 'no'];

function string(name: string, o: StringOptions & { default: string }): Var<string>;
function string<T, C>(name: string, o: StringOptions & { default: Derived<T, C> }): Var<string | T, C>;
function string(name: string, o: StringOptions): Var<string | undefined>;
function string(name: string, o: StringOptions & { default?: string | Derived<unknown, unknown> }): AnyVar {
  const check = o.check;
  return make(
    name,
    o,
    fallbackOf(o.default),
    (raw) => raw,
    check && ((value: unknown) => (typeof value === 'string' ? check(value) : undefined)),
  );
}

function fallbackOf<T>(def: T | Derived<T, unknown> | undefined): { value: T | undefined } | Derived<T, unknown> {
  if (typeof def === 'object' && def !== null && 'kind' in def && def.kind === 'derived') return def;
  return { value: def as T | undefined };
}

export const v = {
  /** Text, taken as it is (trimmed). Without a default, unset is undefined. */
  string,

  /** Text never printed: its default is not shown in the docs and problems never quote it. */
  secret: ((name: string, o: StringOptions) => string(name, { ...o, secret: true })) as {
    (name: string, o: StringOptions & { default: string }): Var<string>;
    (name: string, o: StringOptions): Var<string | undefined>;
  },

  /** A whole number between min and max. */
  int(name: string, o: Common & { default: number; min: number; max: number }): Var<number> {
    return make(name, o, { value: o.default }, (raw, report) => {
      if (!/^-?\d+$/.test(raw)) {
        report(`${name}="${raw}" is not a whole number`);
        return o.default;
      }
      const n = Number(raw);
      if (n < o.min || n > o.max) report(`${name}=${n} must be between ${o.min} and ${o.max}`);
      return n;
    });
  },

  /** on/off (also 1/0, true/false, yes/no). A default of undefined leaves "unset" to the code. */
  bool<D extends boolean | undefined>(name: string, o: Common & { default: D }): Var<boolean | D> {
    return make<boolean | D, unknown>(name, o, { value: o.default }, (raw, report) => {
      const lower = raw.toLowerCase();
      if (TRUE.includes(lower)) return true;
      if (FALSE.includes(lower)) return false;
      report(`${name}="${lower}" must be on/off (or 1/0, true/false)`);
      return o.default ?? false;
    });
  },

  /** One of a fixed set of words. */
  enum<const T extends readonly string[]>(name: string, values: T, o: Common & { default: T[number] }): Var<T[number]> {
    return make(name, o, { value: o.default }, (raw, report) => {
      if (values.includes(raw)) return raw as T[number];
      report(`${name}="${raw}" must be one of: ${values.join(', ')}`);
      return o.default;
    });
  },

  /** A URL with one of the given schemes. Without a default, unset is undefined. */
  url: url as {
    (name: string, o: UrlOptions & { default: string }): Var<string>;
    <C>(name: string, o: UrlOptions & { default: Derived<string, C> }): Var<string, C>;
    (name: string, o: UrlOptions): Var<string | undefined>;
  },

  /**
   * A comma-separated list. With `values`, every item must be one of them and the result keeps their order
   * (`item` names an item in the problem); without, the items are taken as they are.
   */
  list: list as {
    <const T extends readonly string[]>(
      name: string,
      o: Common & { values: T; default: T[number][]; item?: string },
    ): Var<T[number][]>;
    (name: string, o: Common & { default?: string[] }): Var<string[]>;
  },

  /** Anything else: `parse` reads the set value and reports what is wrong with it. */
  custom<T>(name: string, o: Common & { default: T; parse: (raw: string, report: Report) => T }): Var<T> {
    return make(name, o, { value: o.default }, o.parse);
  },

  /**
   * A family of variables named by a pattern: `v.pattern('XENDIT_API_KEY_', 'BRAND', …)` reads every set
   * `XENDIT_API_KEY_<BRAND>` into `{ BRAND: value }` (the part after the prefix upper-cased: letters, digits and
   * `_`). The docs show `XENDIT_API_KEY_<BRAND>`.
   */
  pattern(prefix: string, placeholder: string, o: Common): Var<Record<string, string>> {
    const name = `${prefix}<${placeholder}>`;
    // Never parsed one by one: readGroups collects the family (and reports a bad name) by the prefix.
    const x = make<Record<string, string>, unknown>(name, { defaultText: '(none)', ...o }, { value: {} }, () => ({}));
    return { ...x, prefix };
  },

  /** A default computed from other values; `text` is what the docs show. */
  derived<T, C>(text: string, from: (c: C) => T): Derived<T, C> {
    return { kind: 'derived', text, from };
  },

  /** Variables that together make one optional value (see Section). */
  section<F extends Fields, W extends keyof F & string, R extends keyof F & string = never>(
    fields: F,
    o: { when: W; requires?: readonly R[] },
  ): Section<F, W, R> {
    return { kind: 'section', fields, when: o.when, requires: o.requires ?? [] };
  },
};

function url(name: string, o: UrlOptions & { default?: string | Derived<string, unknown> }): AnyVar {
  const tidy = (s: string) => (o.trimSlash ? s.replace(/\/+$/, '') : s);
  const fallback = fallbackOf(o.default);
  const tidied = 'kind' in fallback ? v.derived(fallback.text, (c: unknown) => tidy(fallback.from(c))) : fallback;
  return make(name, o, tidied, (raw, report) => {
    try {
      const u = new URL(raw);
      if (!o.protocols.includes(u.protocol)) report(`${name} must start with ${o.protocols.join(' or ')}`);
    } catch {
      report(`${name} is not a valid URL`);
    }
    return tidy(raw);
  });
}

function list(
  name: string,
  o: Common & { values?: readonly string[]; default?: string[]; item?: string },
): Var<string[]> {
  return make(name, o, { value: o.default ?? [] }, (raw, report) => {
    const known = o.values;
    if (known === undefined) return raw.split(',').map((s) => s.trim());
    const names = raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const unknown = names.filter((n) => !known.includes(n));
    if (unknown.length > 0) {
      report(`${name} has unknown ${o.item ?? 'value'}(s) ${unknown.join(', ')}; known: ${known.join(', ')}`);
    }
    return known.filter((k) => names.includes(k));
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Reading.

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Loket cannot start, the configuration has ${problems.length} problem(s):\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Every variable of the groups, in order (sections' fields included). */
export function variablesOf(groups: readonly Group[]): AnyVar[] {
  return groups.flatMap((g) => Object.values(g.entries).flatMap((e) => (e.kind === 'var' ? [e] : varsOf(e))));
}

function varsOf(s: AnySection): AnyVar[] {
  return Object.values(s.fields);
}

/** Throws when two declarations share a key or an environment name (a programming error, not configuration). */
export function assertDistinct(groups: readonly Group[]): void {
  const keys = new Set<string>();
  for (const g of groups) {
    for (const key of Object.keys(g.entries)) {
      if (keys.has(key)) throw new Error(`configuration key ${key} is declared twice`);
      keys.add(key);
    }
  }
  const names = new Set<string>();
  for (const x of variablesOf(groups)) {
    for (const n of [x.name, ...x.aliases]) {
      if (names.has(n)) throw new Error(`configuration variable ${n} is declared twice`);
      names.add(n);
    }
  }
}

const PENDING = Symbol('derived default');

/**
 * Reads every group's variables from `env`, then the computed defaults (in declaration order: one may read a
 * computed default declared before it), then each group's checks, then `across` (checks that span groups). Collects every problem and throws one ConfigError listing them all.
 */
export function readGroups<C>(groups: readonly Group[], env: Env, across?: (c: C, report: Report) => void): C {
  const problems: string[] = [];
  const report: Report = (text) => void problems.push(text);
  const out: Record<string, unknown> = {};
  const pending: [target: Record<string, unknown>, key: string, x: AnyVar][] = [];

  const readVar = (target: Record<string, unknown>, key: string, x: AnyVar, rep: Report) => {
    if (x.prefix !== undefined) {
      target[key] = collect(env, x.prefix, rep);
      return;
    }
    const raw = lookup(env, x, rep);
    if (raw === undefined && 'kind' in x.fallback) {
      target[key] = PENDING;
      pending.push([target, key, x]);
      return;
    }
    // A secret's value never appears in a problem, whatever its parser or check says.
    const say: Report = x.secret && raw !== undefined ? (text) => rep(text.replaceAll(raw, '…')) : rep;
    const value = raw === undefined ? structuredClone((x.fallback as { value: unknown }).value) : x.parse(raw, say);
    const wrong = x.check?.(value as never);
    if (wrong !== undefined) say(problemOf(x, wrong));
    target[key] = value;
  };

  for (const g of groups) {
    for (const [key, e] of Object.entries(g.entries)) {
      if (e.kind === 'var') {
        readVar(out, key, e, report);
        continue;
      }
      const value: Record<string, unknown> = {};
      const own: string[] = [];
      for (const [field, x] of Object.entries(e.fields)) readVar(value, field, x, (t) => void own.push(t));
      if (value[e.when] === undefined) {
        out[key] = undefined;
        continue;
      }
      problems.push(...own);
      const missing = e.requires.filter((f) => value[f] === undefined);
      if (missing.length > 0) {
        const names = missing.map((f) => e.fields[f]?.name);
        report(`${e.fields[e.when]?.name} needs ${names.join(', ')}`);
        for (const f of missing) value[f] = '';
      }
      out[key] = value;
    }
  }
  for (const [target, key, x] of pending) {
    const value = (x.fallback as Derived<unknown, Record<string, unknown>>).from(out);
    const wrong = x.check?.(value as never);
    if (wrong !== undefined) report(problemOf(x, wrong));
    target[key] = value;
  }
  for (const g of groups) g.check?.(out as Values<Entries>, report);
  const config = out as C;
  across?.(config, report);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** A check's answer read after the variable's name: `NAME must …`, or `NAME="…" is …` when it quotes the value. */
function problemOf(x: AnyVar, wrong: string): string {
  return wrong.startsWith('=') ? `${x.name}${wrong}` : `${x.name} ${wrong}`;
}

/** Every set `PREFIX<NAME>` variable as `{ NAME: value }` (NAME upper-cased); a NAME that is not one is reported. */
function collect(env: Env, prefix: string, report: Report): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(prefix) || name.length === prefix.length) continue;
    const value = raw?.trim();
    if (!value) continue;
    const suffix = name.slice(prefix.length).toUpperCase();
    if (!/^[A-Z0-9][A-Z0-9_]{0,49}$/.test(suffix)) {
      report(`${name}: the part after ${prefix} must be letters, digits and _ (at most 50)`);
      continue;
    }
    out[suffix] = value;
  }
  return out;
}

function lookup(env: Env, x: AnyVar, report: Report): string | undefined {
  const read = (n: string) => {
    const t = env[n]?.trim();
    return t === '' ? undefined : t;
  };
  const own = read(x.name);
  for (const alias of x.aliases) {
    const other = read(alias);
    if (other === undefined) continue;
    if (own === undefined) return other;
    if (other !== own) report(`${x.name} and ${alias} are the same setting but have different values`);
  }
  return own;
}

// ---------------------------------------------------------------------------------------------------------------
// The docs.

function meaning(x: VarDoc, secretMark: string): string {
  const also = x.aliases.length > 0 ? ` Also read as ${x.aliases.map((a) => `\`${a}\``).join(', ')}.` : '';
  return `${x.secret ? secretMark : ''}${x.doc}${also}`;
}

/** `.env.example`: every variable, commented out, with its meaning and default. */
export function renderEnvExample(groups: readonly Group[], header: string): string {
  const lines = [header, ''];
  for (const g of groups) {
    lines.push(`# ---- ${g.title} ----`, '');
    for (const x of variablesOf([g])) {
      lines.push(`# ${meaning(x, 'Secret. ')} Default: ${x.defaultText}.`, `# ${x.name}=${x.example ?? ''}`, '');
    }
  }
  return lines.join('\n');
}

/** The configuration tables (one per group) for the README. */
export function renderConfigTable(groups: readonly Group[]): string {
  const out: string[] = [];
  for (const g of groups) {
    out.push(`### ${g.title}`, '', '| variable | default | meaning |', '|---|---|---|');
    for (const x of variablesOf([g]))
      out.push(`| \`${x.name}\` | ${cell(x.defaultText)} | ${cell(meaning(x, '**Secret.** '))} |`);
    out.push('');
  }
  return out.join('\n').trimEnd();
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}

export const README_START = '<!-- config:start -->';
export const README_END = '<!-- config:end -->';

/** `readme` with the text between the markers replaced by `table`; throws when the markers are missing. */
export function replaceBetweenMarkers(readme: string, table: string): string {
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < start) throw new Error(`README.md lacks the markers ${README_START} … ${README_END}`);
  return `${readme.slice(0, start + README_START.length)}\n${table}\n${readme.slice(end)}`;
}
