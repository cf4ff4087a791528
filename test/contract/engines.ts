import { rm } from 'node:fs/promises';
import { afterEach, beforeEach } from 'vitest';
import { loadConfig } from '../../src/config';
import { openEngine, openWorkerEngine } from '../../src/engines';
import type { Engine, WorkerEngine } from '../../src/ports/engine';
import { openPostgresEngine } from '../../src/engines/postgres';
import { tempDir } from '../helpers/files';
import { dropSchema, freshSchemaName, TEST_DATABASE_URL } from '../helpers/postgres';

/** One engine opened for a test: the main side, a worker thread's side (opened here, on the same thread), and how to open another instance on the same storage. */
export interface OpenedEngine {
  engine: Engine;
  worker: WorkerEngine;
  /** Another engine on the same storage, opened as a second process would open it (closed with this one). */
  another(): Promise<Engine>;
  close(): Promise<void>;
}

export interface EngineUnderTest {
  name: string;
  open(): Promise<OpenedEngine>;
}

/**
 * An engine opened for a test, with its worker side (`openWorker`, once the engine is open); `openOther` opens the same storage again (for
 * `another()`), and `removeStorage` deletes what the test left once every instance is closed.
 */
async function opened(openOther: () => Engine, openWorker: (engine: Engine) => WorkerEngine, removeStorage: () => Promise<void>): Promise<OpenedEngine> {
  const engine = openOther();
  await engine.open();
  const worker = openWorker(engine);
  const others: Engine[] = [];
  return {
    engine,
    worker,
    another: async () => {
      const other = openOther();
      others.push(other);
      await other.open();
      return other;
    },
    async close() {
      await worker.close();
      for (const other of others) await other.close();
      await engine.close();
      await removeStorage();
    },
  };
}

/** The embedded default: SQLite in a fresh data directory. */
const sqlite: EngineUnderTest = {
  name: 'sqlite',
  async open() {
    const dataDir = await tempDir();
    const config = loadConfig({}, { dataDir, logLevel: 'silent' });
    return opened(() => openEngine(config), (engine) => openWorkerEngine(engine.workerSpec), () => rm(dataDir, { recursive: true, force: true }));
  },
};

/** PostgreSQL: a fresh schema of the test database for each engine under test. */
const postgres: EngineUnderTest = {
  name: 'postgres',
  async open() {
    const scratchDir = await tempDir();
    const settings = { location: { url: TEST_DATABASE_URL, schema: freshSchemaName() }, poolSize: 4, staleMs: 60_000, scratchDir };
    return opened(() => openPostgresEngine(settings), (engine) => openWorkerEngine(engine.workerSpec), async () => {
      await dropSchema(settings.location.schema);
      await rm(scratchDir, { recursive: true, force: true });
    });
  },
};

/** Opens a fresh engine of `spec` before each test of the suite and closes it after; `use` receives it. */
export function openForEachTest(spec: EngineUnderTest, use: (opened: OpenedEngine) => void): void {
  let current: OpenedEngine | undefined;
  beforeEach(async () => {
    current = await spec.open();
    use(current);
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
}

/**
 * Every engine the contract suites run against, each suite unchanged; SLUICE_TEST_ENGINES (a
 * comma-separated list of names) narrows it while one engine is being worked on.
 */
const wanted = process.env.SLUICE_TEST_ENGINES?.split(',');
export const ENGINES: EngineUnderTest[] = [sqlite, postgres].filter((engine) => !wanted || wanted.includes(engine.name));
