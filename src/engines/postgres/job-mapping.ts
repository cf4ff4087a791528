/**
 * Rows of `jobs` as pg reads them map straight to jobs: bigint columns read as numbers (see
 * database.ts) and jsonb columns come parsed, so the engines' shared mapper needs no decoding here.
 */
export { type JobRow as PgJobRow, toJob } from '../rows';
