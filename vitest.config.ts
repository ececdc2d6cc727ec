import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // End-to-end tests spawn the built server, the sandbox and Chromium: give them room.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Keychain tests share one Secret Service: run files one at a time to keep entries apart.
    fileParallelism: false,
    reporters: ['default'],
  },
});
