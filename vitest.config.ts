import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // The embedded database's WebAssembly on V8's baseline compiler, as `npm start` runs it (docs/PERFORMANCE.md).
    execArgv: ['--liftoff-only'],
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 90_000,
    reporters: ['default'],
    globalSetup: ['test/global-secrets.ts'],
  },
});
