import { buildApp } from './app';
import { ConfigError, loadConfig } from './config';
import { DataDirInUseError } from './storage/instance-lock';

let config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`sluice: ${error.message}`);
  process.exit(1);
}
const app = buildApp(config);
try {
  await app.start();
} catch (error) {
  if (!(error instanceof DataDirInUseError)) throw error;
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
  app.log.fatal({ err: error }, 'the data directory was lost');
  stop({ reason: error.message }, 1);
});
