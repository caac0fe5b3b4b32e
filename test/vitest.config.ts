import { defineConfig } from 'vitest/config';

// Lives in test/ so the top level stays fixed. Pty, SQLite and WebSocket tests
// use real resources; forks isolate native handles per file.
export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: ['test/**/*.test.ts'],
    benchmark: { include: ['test/bench/**/*.bench.ts'] },
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
