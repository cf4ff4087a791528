import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config';
import { RowPurger } from './datasets/purger';
import { delay } from './delay';
import { SqliteDatasetStore } from './datasets/sqlite-dataset-store';
import { EventBus } from './events/bus';
import { IngestSubmission } from './ingest/submission';
import { JobRegistry } from './jobs/registry';
import { RetentionSweeper } from './jobs/retention';
import { JobRunner } from './jobs/runner';
import { SqliteJobStore } from './jobs/sqlite-job-store';
import { createLogger } from './log';
import { ConnectionQuota } from './auth/connection-quota';
import { ensureFirstKey, warnAuthOff } from './auth/first-key';
import { SqliteApiKeyStore } from './auth/sqlite-api-key-store';
import { Authenticator } from './server/auth';
import type { Services } from './server/context';
import { Draining } from './server/draining';
import { buildHttpServer } from './server/http';
import { listen } from './server/listen';
import { attachWebSocket } from './server/websocket';
import { buildYoga } from './server/yoga';
import { InstanceLock } from './storage/instance-lock';
import { openDatabase, writeTransaction } from './storage/sqlite';
import { Spool } from './uploads/spool';
import { WebhookDispatcher } from './webhooks/dispatcher';
import { WebhookOutbox } from './webhooks/outbox';
import { SqliteWebhookStore } from './webhooks/sqlite-webhook-store';
import { WorkspaceQuota } from './workspaces/limits';
import packageJson from '../package.json' with { type: 'json' };

export interface App {
  readonly config: Config;
  readonly services: Services;
  readonly bus: EventBus;
  readonly server: Server;
  readonly log: Logger;
  /** Settles if the process loses its data directory to another one (it was frozen past the lease): it must stop. */
  readonly lost: Promise<Error>;
  /**
   * Takes the data directory (throws DataDirInUseError when another live process holds it), takes
   * back the jobs a previous process left, and listens; resolves with the URL of the GraphQL endpoint.
   */
  start(): Promise<string>;
  /** The graceful stop: refuse uploads, let jobs reach a checkpoint and hand them back, finish webhook attempts, close. */
  stop(): Promise<void>;
}

/** Wires store, registry, runner, events and server together from a config. Nothing runs until start(). */
export function buildApp(config: Config, log: Logger = createLogger(config.logLevel)): App {
  const dbPath = join(config.dataDir, 'sluice.db');
  const db = openDatabase(dbPath, { busyTimeoutMs: config.sqliteBusyTimeoutMs, migrate: true });
  const transaction = <T>(work: () => T): T => writeTransaction(db, work);
  const jobs = new SqliteJobStore(db);
  const datasets = new SqliteDatasetStore(db);
  const bus = new EventBus();
  const webhookStore = new SqliteWebhookStore(db);
  const destinations = { allowPrivate: config.webhookAllowPrivate, allowedHosts: new Set(config.webhookAllowedHosts) };
  const registry = new JobRegistry(jobs, datasets, transaction, bus, log, new WebhookOutbox(webhookStore, datasets));
  const dispatcher = new WebhookDispatcher(
    webhookStore,
    { timeoutMs: config.webhookTimeoutMs, retryDelaysMs: config.webhookRetryDelaysMs, policy: destinations },
    log,
  );
  const purger = new RowPurger(datasets, log);
  const lock = new InstanceLock(db, config.leaseMs);
  let loseLock!: (error: Error) => void;
  const lost = new Promise<Error>((resolve) => (loseLock = resolve));
  const lostDataDir = () => loseLock(new Error('another process took over the data directory while this one was unresponsive'));
  // Checked (a read) before each claim and each reaping; the lock timer below renews the hold.
  const holdsDataDir = (): boolean => {
    if (lock.holds()) return true;
    lostDataDir();
    return false;
  };
  const runner = new JobRunner(config, dbPath, registry, lock.owner, holdsDataDir, log, () => purger.kick());
  // Transitions may have written webhook deliveries (job.started, the job's end): send them now.
  bus.subscribe(({ kind }) => {
    if (kind === 'transition') dispatcher.kick();
  });
  const retention = new RetentionSweeper(jobs, config.jobRetentionMs, config.cleanupIntervalMs, log);
  const spool = new Spool(join(config.dataDir, 'spool'));
  const quota = new WorkspaceQuota(db, config.workspaceLimits);
  const submission = new IngestSubmission(registry, jobs, datasets, spool, destinations, config, quota);
  const draining = new Draining();
  const services: Services = { config, jobs, datasets, bus, registry, runner, submission, webhooks: webhookStore, destinations, dispatcher, draining, quota };
  const keys = new SqliteApiKeyStore(db);
  const access = { auth: new Authenticator(config.authEnabled ? keys : null), quota: new ConnectionQuota(config.maxConnectionsPerKey) };
  const yoga = {
    api: buildYoga(services, log, { maxBytes: config.maxRequestBytes }, access),
    uploads: buildYoga(services, log, { maxBytes: config.maxUploadBytes, uploads: spool }, access),
  };
  const server = buildHttpServer(
    yoga,
    () => ({
      status: draining.active ? 'stopping' : 'ok',
      store: 'sqlite',
      version: packageJson.version,
      activeJobs: runner.activeCount,
      subscriptions: bus.feedCount,
    }),
    draining,
  );
  const websocket = attachWebSocket(server, yoga.api, access, {
    keepAliveMs: config.websocketKeepAliveMs,
    maxPayloadBytes: config.websocketMaxPayloadBytes,
    connectionInitWaitTimeoutMs: config.connectionInitWaitTimeoutMs,
    maxSubscriptionsPerConnection: config.maxSubscriptionsPerConnection,
  });

  let lockTimer: NodeJS.Timeout | null = null;

  return {
    config,
    services,
    bus,
    server,
    log,
    lost,
    async start() {
      lock.acquire();
      if (config.authEnabled) ensureFirstKey(keys, config.dataDir, log);
      else warnAuthOff(log);
      lockTimer = setInterval(() => {
        try {
          if (!lock.renew()) lostDataDir();
        } catch (error) {
          log.warn({ err: error }, 'renewing the data directory lock failed; retried on the next tick');
        }
      }, config.heartbeatIntervalMs);
      lockTimer.unref();
      await spool.init(jobs.spoolPaths(config.keepUploads));
      runner.start();
      purger.kick();
      dispatcher.kick();
      retention.start();
      await listen(server, config.port, config.host);
      const { address, port } = server.address() as AddressInfo;
      const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}/graphql`;
      log.info({ url, dataDir: config.dataDir }, 'sluice is listening');
      return url;
    },
    async stop() {
      draining.active = true;
      // Jobs pause at a checkpoint and go back to the queue while webhook attempts in flight finish.
      // An attempt still out at the deadline is left to its lease: it is retried after the restart.
      const webhooksDone = Promise.race([dispatcher.stop(), delay(config.shutdownGraceMs)]);
      await Promise.all([runner.stop(config.shutdownGraceMs), webhooksDone]);
      purger.stop();
      retention.stop();
      await websocket.close();
      server.closeIdleConnections();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      if (lockTimer) clearInterval(lockTimer);
      lock.release();
      db.close();
    },
  };
}
