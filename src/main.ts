// The command line. `serve` (default) listens; everything else is a one-shot administrative command.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type App, buildApp, runModuleCommand, seedDemo } from './app.ts';
import { type Config, ConfigError, loadConfig, renderConfigTable, renderEnvExample, renderReadme } from './config.ts';
import { DataDirLocked, lockHolder } from './core/db/lock.ts';
import { migrate } from './core/db/migrate.ts';
import { AppError } from './core/http/errors.ts';
import { compilePendingValidators } from './core/http/validation.ts';
import { createLogger } from './core/log.ts';
import { sendControl, startControlServer } from './core/ops/control.ts';
import { MODULE_LOADERS } from './modules/index.ts';
import { backup, dbCommand, doctor, isOpsError, OPS_USAGE, OpsError, opsOnApp, restore } from './ops-cli.ts';

const USAGE = `Usage: npm run loket -- <command>

  serve              start the HTTP server and job workers (default; what npm start runs)
  migrate            apply database migrations and exit
  demo seed          seed demo data for the enabled modules and exit
  admin create --email E --password P [--name N] [--username U] [--level module=level ...]
                     create an account (--level platform=100 makes a platform admin)
  admin list         list accounts
  admin set-password --email E --password P
  admin disable --email E | admin enable --email E
${OPS_USAGE}  config env         print .env.example (every variable, with its default)
  config table       print the configuration tables for the README
  config write       rewrite .env.example and the README's configuration tables from the declarations
  config check       fail when .env.example or the README's tables differ from the declarations
  <module> <command> [--option value ...]
                     a module's administrative command (listed below)
  help               this text
`;

/** The usage text with every module's commands, from their definitions. */
async function usage(): Promise<string> {
  const lines: string[] = [];
  for (const load of Object.values(MODULE_LOADERS)) {
    const mod = await load();
    for (const [name, command] of Object.entries(mod.commands ?? {})) {
      lines.push(`  ${mod.name} ${name} ${command.usage}`);
    }
  }
  return lines.length > 0 ? `${USAGE}\nModule commands:\n${lines.join('\n')}\n` : USAGE;
}

async function serve(config: Config): Promise<void> {
  const t0 = performance.now();
  const app = await buildApp(config);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down: no new requests, finishing running requests and jobs');
    const force = setTimeout(
      () => {
        app.log.error('shutdown took too long; exiting');
        process.exit(1);
      },
      config.shutdownDrainMs + config.shutdownTimeoutMs + 5000,
    );
    force.unref();
    try {
      if (config.shutdownDrainMs > 0) {
        app.loket.lifecycle.draining = true;
        app.log.info({ drain_ms: config.shutdownDrainMs }, 'draining: /ready fails, answers close their connections');
        await new Promise((resolve) => setTimeout(resolve, config.shutdownDrainMs));
      }
      await app.close();
      process.exit(0);
    } catch (err) {
      app.log.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  // On the embedded database this server owns the data directory: CLI commands reach it here (core/ops/control.ts).
  const control =
    app.loket.database.kind === 'embedded' && !config.dataDir.startsWith('memory://')
      ? await startControlServer(config.dataDir, (argv, out) =>
          // A refusal crosses the socket as its one-line message, worded as when the command runs on its own.
          onApp(app, argv, out).catch((err: unknown) => {
            throw err instanceof AppError ? new Error(appErrorLine(err)) : err;
          }),
        )
      : undefined;
  if (control) app.addHook('onClose', () => control.close());
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  await app.listen({ host: config.host, port: config.port });
  const ms = Math.round(performance.now() - t0);
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const base = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  app.log.info(
    {
      startup_ms: Math.round(process.uptime() * 1000),
      build_app_ms: ms,
      database: app.loket.database.kind,
      rss_mb: Math.round(process.memoryUsage().rss / 1e6),
    },
    `Loket is listening on ${base} (API docs: ${base}/docs)`,
  );
  // Request validators compile on first use (core/http/validation.ts); the rest are compiled now, between requests.
  compilePendingValidators().then(
    (count) => app.log.debug({ count }, 'request validators compiled'),
    (err) => app.log.error({ err }, 'a request validator does not compile'),
  );
}

function flags(args: string[]): { values: Record<string, string>; levels: Record<string, number> } {
  const values: Record<string, string> = {};
  const levels: Record<string, number> = {};
  for (let i = 0; i < args.length; i++) {
    const name = args[i]?.replace(/^--/, '') ?? '';
    const value = args[i + 1];
    if (!args[i]?.startsWith('--') || value === undefined) throw new Error(`expected --name value, got "${args[i]}"`);
    i++;
    if (name === 'level') {
      const [module, level] = value.split('=');
      if (!module || !level || !/^\d+$/.test(level)) throw new Error(`--level wants module=level, got "${value}"`);
      levels[module] = Number(level);
    } else {
      values[name] = value;
    }
  }
  return { values, levels };
}

/** Account administration from the shell (the same service the admin API uses). */
async function admin(app: App, args: string[], write: (text: string) => void): Promise<void> {
  const [sub, ...rest] = args;
  const { values, levels } = flags(rest);
  const { service } = app.loket.identity;
  const origin = { requestId: 'cli', ip: null };
  const out = (v: unknown) => write(`${JSON.stringify(v, null, 2)}\n`);
  {
    const byEmail = async () => {
      if (!values.email) throw new Error('--email is required');
      const { findByLogin } = await import('./core/identity/accounts.ts');
      const row = await findByLogin(app.loket.database.db, values.email);
      if (!row) throw new Error(`no account with e-mail ${values.email}`);
      return row.id;
    };
    switch (sub) {
      case 'create':
        if (!values.email && !values.username) throw new Error('--email or --username is required');
        out(
          await service.createAccount(
            {
              email: values.email,
              username: values.username,
              name: values.name ?? values.email ?? values.username ?? 'Admin',
              password: values.password,
              memberships: levels,
            },
            null,
            origin,
          ),
        );
        return;
      case 'list': {
        const { listAccounts } = await import('./core/identity/accounts.ts');
        out(await listAccounts(app.loket.database.db, { skip: 0, limit: 1000 }));
        return;
      }
      case 'set-password': {
        if (!values.password) throw new Error('--password is required');
        const id = await byEmail();
        out(await service.updateAccount(id, { password: values.password }, id, origin));
        return;
      }
      case 'disable':
      case 'enable': {
        const id = await byEmail();
        out(await service.updateAccount(id, { status: sub === 'disable' ? 'disabled' : 'active' }, id, origin));
        return;
      }
      default:
        throw new Error(`unknown admin command "${sub ?? ''}"; see npm run loket -- help`);
    }
  }
}

/** The commands that run on a built app: from the shell (own app) or through a running server's control socket. */
async function onApp(app: App, argv: string[], write: (text: string) => void): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'admin':
      return admin(app, rest, write);
    case 'migrate': {
      const logger = createLogger(app.loket.config);
      const result = await migrate(app.loket.database.pool, logger);
      logger.info({ applied: result.applied.length, already: result.skipped }, 'migrations done');
      write(`migrations done: ${result.applied.length} applied, ${result.skipped} already\n`);
      return;
    }
    case 'backup':
    case 'db':
    case 'doctor':
      if (await opsOnApp(app, argv, write)) return;
      break;
    case 'demo':
      if (rest[0] !== 'seed') break;
      await seedDemo(app);
      write('demo data seeded\n');
      return;
    default:
      if (command && command in MODULE_LOADERS) {
        const [sub, ...opts] = rest;
        if (!sub) throw new Error(`usage: loket ${command} <command>; see npm run loket -- help`);
        return runModuleCommand(app, command, sub, flags(opts).values, (line) => write(`${line}\n`));
      }
  }
  throw new Error(`unknown command: ${argv.join(' ')}; see npm run loket -- help`);
}

/** An expected refusal (a conflict, a validation error) as the one line the command line prints. */
function appErrorLine(err: AppError): string {
  return `${err.code}: ${err.message}${err.details ? ` (${JSON.stringify(err.details)})` : ''}`;
}

/**
 * Runs an app command. On the embedded database a running server holds the data directory (core/db/lock.ts): the
 * command then goes through its control socket; otherwise the command opens the database itself (taking the lock).
 */
async function command(config: Config, argv: string[]): Promise<void> {
  const write = (text: string) => process.stdout.write(text);
  if (!config.databaseUrl && !config.dataDir.startsWith('memory://')) {
    const holder = lockHolder(config.dataDir);
    if (holder) {
      let exit: number | undefined;
      try {
        exit = await sendControl(config.dataDir, argv, write);
      } catch (err) {
        // The server ran the command and it failed: its message, as if it had failed here (no stack).
        throw new OpsError((err as Error).message);
      }
      if (exit === undefined) throw new DataDirLocked(config.dataDir, holder);
      if (exit !== 0) process.exitCode = exit;
      return;
    }
  }
  const app = await buildApp({ ...config, demo: argv[0] === 'demo' }, { lockRole: argv.slice(0, 2).join(' ') });
  try {
    await app.ready();
    await onApp(app, argv, write);
  } finally {
    await app.close();
  }
}

/**
 * `config write`: .env.example and README.md (between its config markers) regenerated, in the working directory.
 * `config check`: the same comparison, failing (exit 1) when either differs from the declarations.
 */
function configDocs(write: boolean): void {
  const readmePath = join(process.cwd(), 'README.md');
  const envPath = join(process.cwd(), '.env.example');
  const readme = readFileSync(readmePath, 'utf8');
  const next = renderReadme(readme);
  const env = renderEnvExample();
  const changed: string[] = [];
  if (next !== readme) {
    if (write) writeFileSync(readmePath, next);
    changed.push('README.md');
  }
  if (!existsSync(envPath) || readFileSync(envPath, 'utf8') !== env) {
    if (write) writeFileSync(envPath, env);
    changed.push('.env.example');
  }
  if (!write) {
    if (changed.length === 0) return;
    process.stderr.write(
      `${changed.join(' and ')} ${changed.length > 1 ? 'differ' : 'differs'} from the configuration declarations: run \`npm run loket -- config write\`\n`,
    );
    process.exitCode = 1;
    return;
  }
  process.stdout.write(
    changed.length > 0 ? `rewrote ${changed.join(' and ')}\n` : 'README.md and .env.example are up to date\n',
  );
}

async function main(argv: string[]): Promise<void> {
  const [name = 'serve', ...rest] = argv;
  // `.env` in the working directory, read with Node's own loader; a variable already in the environment wins.
  if (existsSync('.env')) process.loadEnvFile('.env');
  if (name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(await usage());
    return;
  }
  if (name === 'config') {
    if (rest[0] === 'write' || rest[0] === 'check') return configDocs(rest[0] === 'write');
    process.stdout.write(rest[0] === 'table' ? `${renderConfigTable()}\n` : renderEnvExample());
    return;
  }
  // Doctor reads the configuration itself: an invalid one is its first finding, not a crash.
  if (name === 'doctor') return doctor();
  const config = loadConfig();
  switch (name) {
    case 'backup':
      return backup(config, rest[0]);
    case 'restore':
      return restore(config, rest[0]);
    case 'db':
      return dbCommand(config, rest);
    case 'serve':
      return serve(config);
    case 'migrate':
    case 'admin':
      return command(config, [name, ...rest]);
    case 'demo':
      if (rest[0] !== 'seed') break;
      return command(config, [name, ...rest]);
    default:
      if (name in MODULE_LOADERS) return command(config, [name, ...rest]);
  }
  process.stderr.write(`Unknown command: ${argv.join(' ')}\n\n${await usage()}`);
  process.exitCode = 2;
}

main(process.argv.slice(2)).catch((err) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
  } else if (err instanceof DataDirLocked) {
    process.stderr.write(`${err.message}\n`);
  } else if (isOpsError(err)) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(err instanceof OpsError ? err.exitCode : 1);
  } else if (err instanceof AppError) {
    process.stderr.write(`${appErrorLine(err)}\n`);
  } else {
    process.stderr.write(`Loket failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(1);
});
