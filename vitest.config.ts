import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests bind real ports; run files one at a time per worker to keep port use predictable.
    pool: 'forks',
    fileParallelism: true,
  },
});
