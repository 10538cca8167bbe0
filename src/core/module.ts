// A module describes itself in one definition; the core iterates definitions and names no module. The app builds
// each enabled module in this order: error codes, envelope prefixes, `wire()` (the module's dependencies, once),
// jobs, routes (through a typed router bound to the module's name and envelope), then, when the app is ready,
// `onReady` and the demo data.
import type { TSchema } from 'typebox';
import type { ActivityLogView } from './audit/audit.ts';
import type { Core } from './context.ts';
import type { Envelope } from './http/envelopes.ts';
import type { Router } from './http/route.ts';
import type { JobDefinition } from './jobs/jobs.ts';
import type { RouteLimit } from './limits/limiter.ts';
import type { NotificationSocket } from './notify/socket.ts';
import type { DoctorCheck } from './ops/doctor.ts';
import type { CallbackReader, WebhookResult } from './payments/callbacks.ts';

/**
 * A one-shot administrative command of a module, run from the shell as `loket <module> <name> --option value …`.
 * The app is built (database migrated, modules wired) but not started: no job workers, no demo data.
 */
export interface ModuleCommand<D> {
  /** One line for `loket help`: the options and what the command does. */
  usage: string;
  /** `--name value` pairs, already parsed; `out` prints one line to standard output. */
  run(ctx: { options: Record<string, string>; deps: D; core: Core; out: (line: string) => void }): Promise<void>;
}

/** The Xendit webhook paths a module answers on, in its envelope (the intake behind them is the core's). */
export interface WebhookAnswer {
  paths: string[];
  ok(result: WebhookResult): unknown;
  okSchema: TSchema;
}

export interface ModuleDefinition<D = unknown> {
  /** Also the name of the module's memberships (levels) and the default OpenAPI tag. */
  name: string;
  envelope: Envelope;
  /** Paths (prefixes) that answer in the module's envelope, matched or not. */
  prefixes: string[];
  /** Further prefixes the module owns that answer in another envelope (an admin API in the platform's). */
  otherPrefixes?: [prefix: string, envelope: Envelope][];
  /** The module's error codes and their statuses. */
  errors?: Record<string, number>;
  /** The module's named rate limits (documentation and one place for the numbers). */
  limits?: Record<string, RouteLimit>;
  /** Payment callback bodies the module's clients send that are none of Xendit's own shapes. */
  callbacks?: CallbackReader[];
  /** Where the payments webhook answers in this module's envelope. */
  webhook?: WebhookAnswer;
  /**
   * A live socket the core serves at `path` (`?token=<access token>`) pushing the module's notifications to each
   * account at `level` or above (`core.notifications`); plain HTTP there answers 404 in the module's envelope.
   */
  notificationSocket?: NotificationSocket;
  /** Builds the module's dependencies once. */
  wire(core: Core): D | Promise<D>;
  jobs?(deps: D, core: Core): JobDefinition<never>[];
  routes(router: Router, deps: D, core: Core): void | Promise<void>;
  /** Runs when the app is ready, before job workers start (warm caches, start loops). */
  onReady?(deps: D, core: Core): Promise<void>;
  /** Runs before the app closes (stop loops, drain). */
  onClose?(deps: D, core: Core): Promise<void>;
  /** Demo data; must be safe to run twice. */
  demo?(deps: D, core: Core): Promise<void>;
  /**
   * The module's reading of `/api/activity-logs` when its clients use that path (at most one enabled module): its
   * readers' level and its page shape. Without one, the path is the platform admins' (the platform's shape).
   */
  activityLog?: ActivityLogView;
  /** Administrative commands (`loket <module> <command>`), by name. */
  commands?: Record<string, ModuleCommand<D>>;
  /** Extra checks for /ready (for example a provider's balance). */
  readiness?(deps: D): Record<string, () => Promise<void>>;
  /**
   * `loket doctor`: the module's outside systems checked from the configuration alone (no database, no wiring): one
   * harmless call where the provider has one (a balance read), else what runs (the simulator).
   */
  doctor?(config: Core['config']): Promise<DoctorCheck[]>;
}

/** Identity function that keeps the dependency type of a definition. */
export function defineModule<D>(def: ModuleDefinition<D>): ModuleDefinition<D> {
  return def;
}

// biome-ignore lint/suspicious/noExplicitAny: a list of definitions whose dependency types differ
export type AnyModule = ModuleDefinition<any>;
