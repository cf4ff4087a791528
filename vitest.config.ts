import { defineConfig } from 'vitest/config';

/** What both projects share (projects do not inherit the root's test options unless they extend it, which would run globalSetup once per project). */
const shared = {
  testTimeout: 120_000,
  hookTimeout: 60_000,
};

/**
 * Two projects, named after the engine their servers use: every test on SQLite, the embedded default,
 * and the end-to-end suite again on PostgreSQL. SLUICE_TEST_ENGINE, when set, runs that engine's project
 * only (`SLUICE_TEST_ENGINE=postgres npx vitest run test/e2e`); `--project postgres` does the same.
 */
const projects = [
  { test: { ...shared, name: 'sqlite', include: ['test/**/*.test.ts'], env: { SLUICE_TEST_ENGINE: 'sqlite' } } },
  { test: { ...shared, name: 'postgres', include: ['test/e2e/**/*.test.ts'], env: { SLUICE_TEST_ENGINE: 'postgres' } } },
];
const only = process.env.SLUICE_TEST_ENGINE || null;
if (only !== null && !projects.some((project) => project.test.name === only)) throw new Error(`SLUICE_TEST_ENGINE must be sqlite or postgres, got "${only}"`);

export default defineConfig({
  test: {
    ...shared,
    // Once per run (the root's), whichever projects run: builds dist/, prepares the PostgreSQL test database.
    globalSetup: ['test/global-setup.ts'],
    projects: projects.filter((project) => only === null || project.test.name === only),
    // Several files start servers with worker threads; two at a time, over both projects, fits a 2-core machine.
    maxWorkers: 2,
  },
});
