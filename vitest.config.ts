import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Before every test file: its temporary directories are removed after it.
    setupFiles: ['test/support/after-each-file.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // dynalite servers are started per test file; two workers match this 2-core machine.
    maxWorkers: 2,
    // Files share their worker's modules instead of importing the SDK, CDK and zod afresh each: vitest
    // took 203 s (91 s of it imports), 116-127 s without isolation. Tests restore what they change
    // (mocks, env stubs) and start their own dynalite; helpers keep per-file state in the file's hooks
    // (test/support/temp-dirs.ts). Shuffled orders pass too (vitest run --sequence.shuffle).
    isolate: false,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
  },
});
