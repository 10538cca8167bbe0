// The command line. `serve` (default) listens; everything else is a one-shot administrative command.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildApp, runModuleCommand } from './app.ts';
import { type Config, ConfigError, loadConfig, renderConfigTable, renderEnvExample, renderReadme } from './config.ts';
import { openDatabase } from './core/db/database.ts';
import { migrate } from './core/db/migrate.ts';
import { AppError } from './core/http/errors.ts';
import { createLogger } from './core/log.ts';
import { MODULE_LOADERS } from './modules/index.ts';

const USAGE = `Usage: npm run loket -- <command>

  serve              start the HTTP server and job workers (default; what npm start runs)
  migrate            apply database migrations and exit
  demo seed          seed demo data for the enabled modules and exit
  admin create --email E --password P [--name N] [--username U] [--level module=level ...]
                     create an account (--level platform=100 makes a platform admin)
  admin list         list accounts
  admin set-password --email E --password P
  admin disable --email E | admin enable --email E
  config env         print .env.example (every variable, with its default)
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

/** `loket <module> <command> --option value …`: builds the app (migrated, not started) and runs the command. */
async function moduleCommand(config: Config, module: string, args: string[]): Promise<void> {
  const [command, ...rest] = args;
  if (!command) throw new Error(`usage: loket ${module} <command>; see npm run loket -- help`);
  const { values } = flags(rest);
  const app = await buildApp({ ...config, demo: false });
  try {
    await runModuleCommand(app, module, command, values);
  } finally {
    await app.close();
  }
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
async function admin(config: Config, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { values, levels } = flags(rest);
  const app = await buildApp({ ...config, demo: false });
  const { service } = app.loket.identity;
  const origin = { requestId: 'cli', ip: null };
  const out = (v: unknown) => process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
  try {
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
  const [command = 'serve', ...rest] = argv;
  if (command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(await usage());
    return;
  }
  if (command === 'config') {
    if (rest[0] === 'write' || rest[0] === 'check') return configDocs(rest[0] === 'write');
    process.stdout.write(rest[0] === 'table' ? `${renderConfigTable()}\n` : renderEnvExample());
    return;
  }
  const config = loadConfig();
  switch (command) {
    case 'serve':
      return serve(config);
    case 'migrate': {
      const logger = createLogger(config);
      const database = await openDatabase(config, logger);
      try {
        const result = await migrate(database.pool, logger);
        logger.info({ applied: result.applied.length, already: result.skipped }, 'migrations done');
      } finally {
        await database.close();
      }
      return;
    }
    case 'admin':
      return admin(config, rest);
    case 'demo': {
      if (rest[0] !== 'seed') break;
      const app = await buildApp({ ...config, demo: true });
      await app.ready();
      await app.close();
      return;
    }
    default:
      if (command in MODULE_LOADERS) return moduleCommand(config, command, rest);
  }
  process.stderr.write(`Unknown command: ${argv.join(' ')}\n\n${await usage()}`);
  process.exitCode = 2;
}

main(process.argv.slice(2)).catch((err) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
  } else if (err instanceof AppError) {
    const details = err.details ? ` (${JSON.stringify(err.details)})` : '';
    process.stderr.write(`${err.code}: ${err.message}${details}\n`);
  } else {
    process.stderr.write(`Loket failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(1);
});
