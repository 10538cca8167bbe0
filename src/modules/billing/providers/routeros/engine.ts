// An in-memory RouterOS: PPPoE secrets, active sessions and profiles, answering console commands the way RouterOS
// does (rows, `ret`, or a trap with RouterOS's own messages). It is the `simulator` router of a fresh start
// (simulator.ts) and the state behind the test fakes that speak the real API protocol and REST over sockets, so
// every transport is tested against one behaviour.
import { RouterError, type Row } from './port.ts';

interface SecretRecord {
  id: string;
  name: string;
  password: string;
  profile: string;
  service: string;
  'remote-address': string;
  comment: string;
  disabled: 'true' | 'false';
}

interface SessionRecord {
  id: string;
  name: string;
  address: string;
  'caller-id': string;
  since: number;
  /** The secret's profile when the session came up: what the customer's connection runs on. */
  profile: string;
}

export interface EngineOptions {
  identity?: string;
  version?: string;
  profiles?: string[];
  /** Create a profile on first use instead of refusing an unknown one (the simulator; a real router refuses). */
  autoProfiles?: boolean;
  /** A removed session comes straight back, as a customer's ONT redials (the simulator). */
  autoRedial?: boolean;
  now?: () => number;
}

const SECRET_WORDS = new Set(['name', 'password', 'profile', 'service', 'remote-address', 'comment', 'disabled']);
const SERVICES = new Set(['any', 'async', 'l2tp', 'ovpn', 'pppoe', 'pptp', 'sstp']);
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

const trap = (message: string) => new RouterError('trap', message);
const bool = (v: string): 'true' | 'false' => {
  if (v === 'yes' || v === 'true') return 'true';
  if (v === 'no' || v === 'false') return 'false';
  throw trap(`value of disabled must be yes or no`);
};

const uptime = (ms: number) => {
  let s = Math.max(0, Math.floor(ms / 1000));
  const parts: string[] = [];
  for (const [unit, size] of [
    ['w', 604_800],
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  parts.push(`${s}s`);
  return parts.join('');
};

export class RouterEngine {
  identity: string;
  readonly version: string;
  private readonly secretsById = new Map<string, SecretRecord>();
  private readonly sessionsById = new Map<string, SessionRecord>();
  private readonly profileNames: string[];
  private readonly options: EngineOptions;
  private readonly started: number;
  private nextId = 1;
  private nextHost = 2;
  /** Every command run, for tests and the reconcile report (`/ppp/secret/set` and so on). */
  readonly log: { command: string; attributes: Record<string, string> }[] = [];

  constructor(options: EngineOptions = {}) {
    this.options = options;
    this.identity = options.identity ?? 'MikroTik';
    this.version = options.version ?? '7.18.2 (stable)';
    this.profileNames = ['default', 'default-encryption', ...(options.profiles ?? [])];
    this.started = this.now();
  }

  private now() {
    return this.options.now?.() ?? Date.now();
  }

  private id() {
    return `*${(this.nextId++).toString(16).toUpperCase()}`;
  }

  private profile(name: string) {
    if (this.profileNames.includes(name)) return name;
    if (this.options.autoProfiles) {
      this.profileNames.push(name);
      return name;
    }
    throw trap('input does not match any value of profile');
  }

  private secretRow(s: SecretRecord): Row {
    const { id, ...rest } = s;
    return { '.id': id, ...rest };
  }

  private sessionRow(s: SessionRecord): Row {
    return {
      '.id': s.id,
      name: s.name,
      service: 'pppoe',
      'caller-id': s['caller-id'],
      address: s.address,
      uptime: uptime(this.now() - s.since),
      encoding: '',
      'session-id': `0x${s.id.slice(1)}`,
    };
  }

  private findSecret(id: string) {
    const s = this.secretsById.get(id) ?? [...this.secretsById.values()].find((x) => x.name === id);
    if (!s) throw trap('no such item');
    return s;
  }

  private applySecretWords(target: SecretRecord, attributes: Record<string, string>) {
    for (const [key, value] of Object.entries(attributes)) {
      if (key === '.id' || key === 'numbers') continue;
      if (!SECRET_WORDS.has(key)) throw trap(`unknown parameter ${key}`);
      if (key === 'disabled') target.disabled = bool(value);
      else if (key === 'profile') target.profile = this.profile(value);
      else if (key === 'service') {
        if (!SERVICES.has(value)) throw trap('input does not match any value of service');
        target.service = value;
      } else if (key === 'remote-address') {
        if (value !== '' && !IPV4.test(value)) throw trap('invalid value for argument remote-address');
        target['remote-address'] = value;
      } else if (key === 'name') {
        if (value === '') throw trap('name must not be empty');
        const other = [...this.secretsById.values()].find((x) => x.name === value && x.id !== target.id);
        if (other) throw trap('failure: secret with the same name already exists');
        target.name = value;
      } else if (key === 'password') target.password = value;
      else if (key === 'comment') target.comment = value;
    }
  }

  /** A customer's device dials in: a session for `name` when its secret exists and is enabled. */
  dial(name: string, callerId = '00:00:5E:00:53:01'): boolean {
    const secret = [...this.secretsById.values()].find((s) => s.name === name);
    if (!secret || secret.disabled === 'true') return false;
    if ([...this.sessionsById.values()].some((s) => s.name === name)) return true;
    const id = this.id();
    this.sessionsById.set(id, {
      id,
      name,
      address: secret['remote-address'] || `10.255.${Math.floor(this.nextHost / 250)}.${(this.nextHost++ % 250) + 2}`,
      'caller-id': callerId,
      since: this.now(),
      profile: secret.profile,
    });
    return true;
  }

  /** The profile the customer's live session runs on (null when not connected). */
  sessionProfile(name: string): string | null {
    return [...this.sessionsById.values()].find((s) => s.name === name)?.profile ?? null;
  }

  /** A secret's stored fields, password included (tests compare what was written). */
  secret(name: string): Readonly<SecretRecord> | undefined {
    return [...this.secretsById.values()].find((s) => s.name === name);
  }

  secretCount() {
    return this.secretsById.size;
  }

  /** Runs one console command; see `Exec` in port.ts. */
  exec(command: string, attributes: Record<string, string> = {}, query: string[] = []): { rows: Row[]; ret?: string } {
    this.log.push({ command, attributes: { ...attributes, ...(attributes.password ? { password: '***' } : {}) } });
    const matches = (row: Row) =>
      query.every((word) => {
        const eq = word.indexOf('=');
        return eq < 0 ? row[word] !== undefined : row[word.slice(0, eq)] === word.slice(eq + 1);
      });
    const proplist = attributes['.proplist']?.split(',');
    const pick = (rows: Row[]) =>
      rows.filter(matches).map((r) => (proplist ? Object.fromEntries(proplist.map((k) => [k, r[k] ?? ''])) : r));

    switch (command) {
      case '/ppp/secret/print':
        return { rows: pick([...this.secretsById.values()].map((s) => this.secretRow(s))) };
      case '/ppp/secret/add': {
        if (!attributes.name) throw trap('failure: name must be set');
        const record: SecretRecord = {
          id: '',
          name: '',
          password: '',
          profile: 'default',
          service: 'any',
          'remote-address': '',
          comment: '',
          disabled: 'false',
        };
        this.applySecretWords(record, attributes);
        record.id = this.id();
        this.secretsById.set(record.id, record);
        return { rows: [], ret: record.id };
      }
      case '/ppp/secret/set': {
        const target = this.findSecret(attributes['.id'] ?? attributes.numbers ?? '');
        const draft = { ...target };
        this.applySecretWords(draft, attributes);
        Object.assign(target, draft);
        return { rows: [] };
      }
      case '/ppp/secret/remove': {
        const target = this.findSecret(attributes['.id'] ?? attributes.numbers ?? '');
        this.secretsById.delete(target.id);
        return { rows: [] };
      }
      case '/ppp/active/print':
        return { rows: pick([...this.sessionsById.values()].map((s) => this.sessionRow(s))) };
      case '/ppp/active/remove': {
        const id = attributes['.id'] ?? attributes.numbers ?? '';
        const session = this.sessionsById.get(id);
        if (!session) throw trap('no such item');
        this.sessionsById.delete(id);
        if (this.options.autoRedial) this.dial(session.name, session['caller-id']);
        return { rows: [] };
      }
      case '/ppp/profile/print':
        return { rows: pick(this.profileNames.map((name, i) => ({ '.id': `*${i}`, name }))) };
      case '/system/identity/print':
        return { rows: pick([{ name: this.identity }]) };
      case '/system/resource/print':
        return {
          rows: pick([
            {
              uptime: uptime(this.now() - this.started),
              version: this.version,
              'build-time': '2025-03-11 11:59:04',
              'free-memory': '838860800',
              'total-memory': '1073741824',
              cpu: 'ARMv7',
              'cpu-count': '4',
              'cpu-load': '3',
              'architecture-name': 'arm',
              'board-name': 'RB4011iGS+',
              platform: 'MikroTik',
            },
          ]),
        };
      default:
        throw trap('no such command prefix');
    }
  }
}
