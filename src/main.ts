import { buildApp } from './app';
import { ConfigError, loadConfig } from './config';
import { checkCanListen, ListenError } from './server/listen';
import { EngineOpenError, InstanceConflictError } from './ports/errors';

/** A start that cannot go on: one line on stderr, exit code 1. */
function refuseToStart(message: string): never {
  console.error(`sluice: ${message}`);
  process.exit(1);
}

let config;
try {
  config = loadConfig();
  // Before the database, the key or the lock exist: a start that cannot listen leaves nothing behind.
  await checkCanListen(config.port, config.host);
} catch (error) {
  if (!(error instanceof ConfigError || error instanceof ListenError)) throw error;
  refuseToStart(error.message);
}
const app = buildApp(config);
try {
  await app.start();
} catch (error) {
  if (error instanceof ListenError) refuseToStart(error.message); // taken between the check and the start
  if (error instanceof EngineOpenError) refuseToStart(error.message);
  if (!(error instanceof InstanceConflictError)) throw error;
  app.log.fatal(error.message);
  process.exit(1);
}

let stopping = false;
function stop(reason: Record<string, unknown>, exitCode: number): void {
  if (stopping) process.exit(1); // a second signal forces the exit
  stopping = true;
  app.log.info(reason, 'stopping');
  app.stop().then(
    () => process.exit(exitCode),
    (error) => {
      app.log.error({ err: error }, 'stopping failed');
      process.exit(1);
    },
  );
}
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => stop({ signal }, 0));
void app.lost.then((error) => {
  app.log.fatal({ err: error }, 'the hold on the storage was lost; stopping (a process manager starts a fresh instance)');
  stop({ reason: error.message }, 1);
});
