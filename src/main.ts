// The command line. `serve` (default) listens; everything else is a one-shot administrative command.
import { buildApp } from './app.ts';
import { type Config, ConfigError, loadConfig, renderConfigTable, renderEnvExample } from './config.ts';
import { openDatabase } from './core/db/database.ts';
import { migrate } from './core/db/migrate.ts';
import { createLogger } from './core/log.ts';

const USAGE = `Usage: npm run loket -- <command>

  serve              start the HTTP server and job workers (default; what npm start runs)
  migrate            apply database migrations and exit
  demo seed          seed demo data for the enabled modules and exit
  config env         print .env.example (every variable, with its default)
  config table       print the configuration table for the README
  help               this text
`;

async function serve(config: Config): Promise<void> {
  const t0 = performance.now();
  const app = await buildApp(config);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down: no new requests, finishing running requests and jobs');
    const force = setTimeout(() => {
      app.log.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + 5000);
    force.unref();
    try {
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
    { startup_ms: ms, database: app.loket.database.kind, rss_mb: Math.round(process.memoryUsage().rss / 1e6) },
    `Loket is listening on ${base} (API docs: ${base}/docs)`,
  );
}

async function main(argv: string[]): Promise<void> {
  const [command = 'serve', ...rest] = argv;
  if (command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return;
  }
  if (command === 'config') {
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
    case 'demo': {
      if (rest[0] !== 'seed') break;
      const app = await buildApp({ ...config, demo: true });
      await app.ready();
      await app.close();
      return;
    }
  }
  process.stderr.write(`Unknown command: ${argv.join(' ')}\n\n${USAGE}`);
  process.exitCode = 2;
}

main(process.argv.slice(2)).catch((err) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
  } else {
    process.stderr.write(`Loket failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(1);
});
