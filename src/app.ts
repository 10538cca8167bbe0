import cors from '@fastify/cors';
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController, type RouteOptions } from 'fastify';
import type { DestinationStream } from 'pino';
import { Gauge } from 'prom-client';
import { ALL_MODULES, type Config } from './config.ts';
import type { Core } from './core/context.ts';
import { openDatabase } from './core/db/database.ts';
import { migrate } from './core/db/migrate.ts';
import { EnvelopePrefixes, platformEnvelope } from './core/http/envelopes.ts';
import { registerErrorCodes } from './core/http/errors.ts';
import { frameworkErrors, registerHttpCore, requestIdFrom } from './core/http/plugin.ts';
import { deferredChildLogger, requestIds } from './core/http/request-logger.ts';
import { createRouter } from './core/http/route.ts';
import { createUrlGuard } from './core/http/safe-url.ts';
import { securityHeaders } from './core/http/security-headers.ts';
import { buildLazySerializer } from './core/http/serializers.ts';
import { buildValidator } from './core/http/validation.ts';
import { registerMembershipModules } from './core/identity/accounts.ts';
import { createIdentity } from './core/identity/index.ts';
import { registerIdentityRoutes } from './core/identity/routes.ts';
import { createJobs } from './core/jobs/jobs.ts';
import { createLimiter } from './core/limits/limiter.ts';
import { createLogger } from './core/log.ts';
import type { AnyModule } from './core/module.ts';
import { createBus } from './core/notify/bus.ts';
import { createNotifications } from './core/notify/notifications.ts';
import { createOutbox, registerDevOutbox } from './core/notify/outbox.ts';
import { registerNotificationSockets } from './core/notify/socket.ts';
import { createMetrics } from './core/ops/metrics.ts';
import { registerOpsRoutes } from './core/ops/routes.ts';
import type { PaymentGateway } from './core/payments/gateway.ts';
import { registerPaymentRoutes, webhookAnswers } from './core/payments/routes.ts';
import { createPayments, type PaymentAccount } from './core/payments/service.ts';
import { createSimulatorGateway } from './core/payments/simulator.ts';
import { createRedis } from './core/redis.ts';
import { useTimeZone } from './core/time.ts';
import { MODULE_LOADERS } from './modules/index.ts';

export interface AppOverrides {
  /** Where log lines go (default stdout); tests capture them here. */
  logStream?: DestinationStream;
  /** Modules mounted in addition to the enabled built-in ones (extensions, test fixtures). */
  extraModules?: AnyModule[];
  /** The clock (default: the system's). */
  now?: () => Date;
  /** Sees every route as it is registered, core and modules alike (the shared security suite walks them). */
  onRoute?: (route: RouteOptions) => void;
  /** Who holds the embedded data directory, named in its lock file (default `serve`; a CLI command names itself). */
  lockRole?: string;
}

export type App = FastifyInstance;

/** Each built app's modules and their dependencies, for `runModuleCommand`. */
const wiredModules = new WeakMap<App, { mod: AnyModule; deps: unknown }[]>();

/**
 * Runs a module's administrative command (`ModuleDefinition.commands`) on a built app. Throws when the module is
 * not enabled in this app or has no such command.
 */
export async function runModuleCommand(
  app: App,
  module: string,
  command: string,
  options: Record<string, string>,
  out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<void> {
  const entry = wiredModules.get(app)?.find((w) => w.mod.name === module);
  if (!entry) throw new Error(`module "${module}" is not enabled (LOKET_MODULES)`);
  const run = entry.mod.commands?.[command];
  if (!run) {
    const known = Object.keys(entry.mod.commands ?? {});
    throw new Error(
      `module "${module}" has no command "${command}"${known.length ? ` (it has: ${known.join(', ')})` : ''}`,
    );
  }
  await run.run({ options, deps: entry.deps, core: app.loket, out });
}

/** Seeds every enabled module's demo data (each module's `demo` adds only what is missing). */
export async function seedDemo(app: App): Promise<void> {
  for (const { mod, deps } of wiredModules.get(app) ?? []) await mod.demo?.(deps, app.loket);
}

async function xenditGateway(config: Config, secretKey: string): Promise<PaymentGateway> {
  const { createXenditGateway } = await import('./core/payments/xendit.ts');
  return createXenditGateway({
    secretKey,
    baseUrl: config.xenditBaseUrl,
    qrApiVersion: config.xenditQrApiVersion,
    timeoutMs: config.xenditTimeoutMs,
  });
}

/**
 * Builds the whole service: opens the database (and migrates it), the job queue and Redis, mounts the core
 * routes and every enabled module. Nothing listens; `main.ts` does that. Job workers start when the app is
 * ready and drain when it closes.
 */
export async function buildApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  // Timestamps in module responses are shown in this zone (CONTRACTS §6); one zone per process.
  useTimeZone(config.timezone);
  const logger = createLogger(config, overrides.logStream);
  const modules: AnyModule[] = [];
  for (const name of config.modules) {
    const load = MODULE_LOADERS[name];
    if (load) modules.push(await load());
    else logger.warn({ module: name }, 'module is enabled but not part of this build yet');
  }
  modules.push(...(overrides.extraModules ?? []));
  registerMembershipModules([...ALL_MODULES, ...modules.map((m) => m.name)]);
  for (const mod of modules) registerErrorCodes(mod.errors ?? {});
  const webhooks = webhookAnswers(
    modules.flatMap((m) => (m.webhook ? [{ answer: m.webhook, envelope: m.envelope }] : [])),
  );
  const database = await openDatabase(config, logger, { lockRole: overrides.lockRole });
  try {
    if (config.migrateOnStart) {
      await migrate(database.pool, logger);
      // A new embedded database, migrated and still empty: the next new one starts from here (cluster-image.ts).
      await database.saveSchemaImage?.();
    }
  } catch (err) {
    await database.close();
    throw err;
  }
  const metrics = createMetrics(() => database.pool);
  const jobs = createJobs({
    pool: database.pool,
    embedded: database.kind === 'embedded',
    logger,
    metrics,
    pollSeconds: config.jobPollSeconds,
    superviseSeconds: config.jobSuperviseSeconds,
  });
  new Gauge({
    name: 'loket_jobs_waiting',
    help: 'Jobs per queue and state (queued, active, failed)',
    labelNames: ['queue', 'state'] as const,
    registers: [metrics.registry],
    async collect() {
      if (!jobs.started) return;
      for (const c of await jobs.counts()) {
        this.set({ queue: c.queue, state: 'queued' }, c.queued);
        this.set({ queue: c.queue, state: 'active' }, c.active);
        this.set({ queue: c.queue, state: 'failed' }, c.failed);
      }
    },
  });
  const redis = await createRedis(config.redisUrl, logger);
  const prefixes = new EnvelopePrefixes(platformEnvelope);
  const now = overrides.now ?? (() => new Date());
  const bus = createBus({ redis, redisPrefix: config.redisPrefix, databaseUrl: config.databaseUrl, logger });
  const limiter = createLimiter(redis, config.redisPrefix, () => now().getTime());
  const outbox = createOutbox({
    db: database.db,
    jobs,
    logger,
    smtpUrl: config.smtpUrl,
    mailFrom: config.mailFrom,
    now,
  });
  const notifications = createNotifications({ db: database.db, bus, now, logger });
  const identity = createIdentity({ config, db: database.db, bus, outbox, limiter, logger, now });
  const simulator = config.xenditSecretKey
    ? undefined
    : createSimulatorGateway({
        merchantName: config.merchantName,
        merchantCity: config.merchantCity,
        publicUrl: config.publicUrl,
      });
  const gateway = simulator ?? (await xenditGateway(config, config.xenditSecretKey as string));
  // Xendit accounts of their own (XENDIT_API_KEY_<NAME>; the config refuses one without its callback token).
  const accounts = new Map<string, PaymentAccount>();
  for (const [name, secretKey] of Object.entries(config.xenditAccountKeys)) {
    const callbackToken = config.xenditAccountTokens[name];
    if (callbackToken) accounts.set(name, { gateway: await xenditGateway(config, secretKey), callbackToken });
  }
  if (!simulator && !config.xenditCallbackToken) {
    logger.warn('XENDIT_CALLBACK_TOKEN is not set: Xendit webhooks will be refused with 503');
  }
  const payments = createPayments({
    db: database.db,
    jobs,
    gateway,
    accounts,
    logger,
    now,
    callbackUrl: `${config.publicUrl}${webhooks[0]?.answer.paths[0]}`,
  });
  const core: Core = {
    config,
    logger,
    database,
    jobs,
    metrics,
    redis,
    prefixes,
    now,
    bus,
    limiter,
    outbox,
    notifications,
    identity,
    payments,
    outbound: createUrlGuard(config.outboundAllow),
    lifecycle: { draining: false },
  };

  const freshRequestId = requestIds();
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    genReqId: (req) => requestIdFrom(req.headers['x-request-id'], freshRequestId),
    childLoggerFactory: deferredChildLogger,
    logController: new LogController({ requestIdLogLabel: 'request_id' }),
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy,
    // A request that arrives on an open keep-alive connection while the server closes is served, with
    // `Connection: close`, not refused: a load balancer in front may have sent it just before it saw us go.
    return503OnClosing: false,
    frameworkErrors: frameworkErrors(prefixes),
    forceCloseConnections: 'idle',
    // Start-up work runs in plugins and the onReady hook (pg-boss creating its schema on a new database, demo data).
    // Fastify's default bound of 10 s per step is shorter than that work takes on a busy 2-core box (measured: the
    // onReady of a first start took over 10 s at load average 12, and the server exited instead of starting), so
    // a slow step is waited for; a step that truly hangs still ends the start after two minutes, in its own words.
    pluginTimeout: 120_000,
    // Bodies are validated without coercion beyond exact numbers, query and params with it (validation.ts).
    // Response serializers are compiled at a route's first response, not at start-up (see serializers.ts).
    schemaController: { compilersFactory: { buildValidator, buildSerializer: buildLazySerializer } },
  });
  app.decorate('loket', core);
  if (overrides.onRoute) app.addHook('onRoute', overrides.onRoute);

  app.addHook('onClose', async () => {
    // Webhook deliveries being processed right after their intake finish first (their jobs would redo them).
    await payments.idle();
    await jobs.stop(config.shutdownTimeoutMs);
    await bus.close();
    redis?.disconnect();
    await database.close();
  });

  registerHttpCore(app, { prefixes, metrics });
  await app.register(formbody, { bodyLimit: config.bodyLimit });

  if (config.securityHeaders) {
    const headers = securityHeaders({
      // The API docs page and the kiosk page are the only HTML; their routes set their own policy.
      contentSecurityPolicy: {
        directives: { defaultSrc: ["'self'"], imgSrc: ["'self'", 'data:'], upgradeInsecureRequests: null },
      },
      crossOriginEmbedderPolicy: false,
    });
    app.addHook('onRequest', (_request, reply, done) => {
      reply.headers(headers);
      done();
    });
  }
  if (config.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: config.corsOrigins.includes('*') ? true : config.corsOrigins,
      methods: config.corsAllowMethods,
      // Left out (CORS_ALLOW_HEADERS=*): the headers a preflight asks for are allowed.
      ...(config.corsAllowHeaders.includes('*') ? {} : { allowedHeaders: config.corsAllowHeaders }),
      credentials: config.corsAllowCredentials,
      exposedHeaders: ['x-request-id', 'retry-after'],
    });
  }

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Loket',
        version: '0.1.0',
        description:
          'Indonesian digital payments and billing: PPOB, photobox kiosks, staff, FTTH billing and IM3 packages on one core.',
      },
      servers: [{ url: config.publicUrl }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });

  const readiness: Record<string, () => Promise<void>> = {};
  const wired: { mod: AnyModule; deps: unknown }[] = [];
  for (const mod of modules) {
    for (const prefix of mod.prefixes) prefixes.add(prefix, mod.envelope);
    for (const [prefix, envelope] of mod.otherPrefixes ?? []) prefixes.add(prefix, envelope);
    for (const read of mod.callbacks ?? []) payments.acceptCallbacks(read);
    const deps = await mod.wire(core);
    wired.push({ mod, deps });
    for (const job of mod.jobs?.(deps, core) ?? []) jobs.define(job);
    Object.assign(readiness, mod.readiness?.(deps) ?? {});
    await mod.routes(createRouter(app, core, { module: mod.name, envelope: mod.envelope }), deps, core);
    if (mod.onClose) app.addHook('preClose', () => mod.onClose?.(deps, core) ?? Promise.resolve());
  }
  wiredModules.set(app, wired);
  const sockets = modules.flatMap((m) => {
    if (!m.notificationSocket) return [];
    prefixes.add(m.notificationSocket.path, m.envelope);
    return [{ ...m.notificationSocket, module: m.name }];
  });
  await registerNotificationSockets(app, core, sockets, { pingMs: config.wsPingSeconds * 1000 });
  registerOpsRoutes(app, core, readiness);
  const logViews = modules.filter((m) => m.activityLog);
  if (logViews.length > 1) {
    throw new Error(
      `Only one module may read /api/activity-logs its own way: ${logViews.map((m) => m.name).join(', ')}`,
    );
  }
  const logView = logViews[0];
  registerIdentityRoutes(app, core, logView?.activityLog && { module: logView.name, view: logView.activityLog });
  registerPaymentRoutes(app, core, simulator, webhooks);
  if (config.env !== 'production') registerDevOutbox(app, database.db);

  app.addHook('onReady', async () => {
    await bus.start();
    await identity.sessions.load();
    for (const { mod, deps } of wired) await mod.onReady?.(deps, core);
    if (config.adminEmail && config.adminPassword) {
      await identity.service.ensureAdmin(config.adminEmail, config.adminPassword);
    }
    await jobs.start();
    const demo = config.demo ?? database.fresh;
    if (demo) {
      for (const { mod, deps } of wired) await mod.demo?.(deps, core);
    }
  });
  return app;
}
