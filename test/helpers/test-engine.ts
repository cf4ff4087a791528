/** The engines the end-to-end suite runs on. Kept free of imports: vitest.config.ts and global setup read it too. */
export type TestEngine = 'sqlite' | 'postgres';

/** The one switch: SLUICE_TEST_ENGINE picks the engine every server the helpers start uses (sqlite, the default, or postgres). */
export function testEngineFrom(value: string | undefined): TestEngine {
  if (value === undefined || value === '' || value === 'sqlite') return 'sqlite';
  if (value === 'postgres') return 'postgres';
  throw new Error(`SLUICE_TEST_ENGINE must be sqlite or postgres, got "${value}"`);
}

/** What the schemas of end-to-end servers are named after: `e2e_<run>_<random>`, so that a run can drop its own and no other's. */
export const E2E_SCHEMA_PREFIX = 'e2e_';
