import { readFileSync } from 'node:fs';
const anon = () => Number(/RssAnon:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
const rep = (l) => { gc(); gc(); const m = process.memoryUsage(); console.log(l.padEnd(30), 'heapUsed', (m.heapUsed / 1048576).toFixed(1), 'heapTotal', (m.heapTotal / 1048576).toFixed(1), 'rss', (m.rss / 1048576).toFixed(1), 'anon', anon().toFixed(1)); };
rep('start');
for (const m of (process.env.PRE ?? '').split(',').filter(Boolean)) { await import(m); rep(m); }
const { loadConfig } = await import('./dist/src/config.js'); rep('config');
const { buildApp } = await import('./dist/src/app.js'); rep('app.js imported');
const app = await buildApp(loadConfig()); rep('buildApp');
await app.ready(); rep('ready'); console.log('fjs compiles', globalThis.__fjsCount, 'unique', globalThis.__fjsUnique?.size);
await app.listen({ port: 18903, host: '127.0.0.1' }); rep('listen');
for (let i = 0; i < 5; i++) await fetch('http://127.0.0.1:18903/ready');
await new Promise((r) => setTimeout(r, 3000)); rep('idle');
await app.close(); process.exit(0);
