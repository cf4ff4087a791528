import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { ConnectionQuota } from './auth/connection-quota';
import { ensureFirstKey, warnAuthOff } from './auth/first-key';
import type { Config } from './config';
import { RowPurger } from './datasets/purger';
import { delay } from './delay';
import { openEngine } from './engines';
import { Feeds } from './events/feeds';
import { IngestSubmission } from './ingest/submission';
import { JobCanceller } from './jobs/cancellation';
import { isTerminal } from './jobs/model';
import { JobRegistry } from './jobs/registry';
import { RetentionSweeper } from './jobs/retention';
import { JobRunner } from './jobs/runner';
import { createLogger } from './log';
import type { Engine } from './ports/engine';
import { Authenticator } from './server/auth';
import type { Services } from './server/context';
import { Draining } from './server/draining';
import { builtDashboard, Dashboard } from './server/dashboard';
import { buildHttpServer } from './server/http';
import { RejectedRowsFiles } from './server/rejected-rows';
import { Metrics } from './server/metrics';
import { listen } from './server/listen';
import { attachWebSocket } from './server/websocket';
import { buildYoga } from './server/yoga';
import { WebhookDispatcher } from './webhooks/dispatcher';
import type { AttemptOutcome } from './webhooks/model';
import packageJson from '../package.json' with { type: 'json' };

export interface App {
  readonly config: Config;
  readonly engine: Engine;
  readonly services: Services;
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

/** Tells the process it lost its hold on the engine (another took over while it was frozen), once. */
function lossSignal(): { lost: Promise<Error>; lose: () => void } {
  let resolve!: (error: Error) => void;
  const lost = new Promise<Error>((settle) => (resolve = settle));
  return { lost, lose: () => resolve(new Error('this instance lost its hold on the storage while it was unresponsive: another took over its work (the data directory, or its jobs)')) };
}

/** The job machinery and what resolvers use, over the engine's ports. */
function wireServices(config: Config, engine: Engine, log: Logger, lose: () => void) {
  const clock = () => engine.coordination.clock();
  const registry = new JobRegistry(engine.jobs, engine.events, log, clock);
  const destinations = { allowPrivate: config.webhookAllowPrivate, allowedHosts: new Set(config.webhookAllowedHosts) };
  let metrics: Metrics | null = null;
  const onAttempt = (outcome: AttemptOutcome) => metrics?.webhookAttempt(outcome);
  const dispatcher = new WebhookDispatcher(engine.webhooks, { timeoutMs: config.webhookTimeoutMs, retryDelaysMs: config.webhookRetryDelaysMs, policy: destinations, onAttempt }, log);
  const purger = new RowPurger(engine.datasets, log);
  // Checked (a read) before each claim and each reaping; the coordination timer renews the hold.
  const holdsDataDir = async (): Promise<boolean> => {
    if (await engine.coordination.holds()) return true;
    lose();
    return false;
  };
  const runner = new JobRunner(config, {
    registry,
    blobs: engine.blobs,
    workerEngine: engine.workerSpec,
    owner: engine.coordination.id,
    clock,
    holdsDataDir,
    pollForJobs: !engine.coordination.exclusive,
    log,
    onSettled: () => purger.kick(),
  });
  const canceller = new JobCanceller({
    registry,
    runner,
    isLive: (instance) => engine.coordination.isLive(instance),
    cancelTimeoutMs: config.cancelTimeoutMs,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
  });
  const services: Services = {
    config,
    jobs: engine.jobs,
    datasets: engine.datasets,
    feeds: new Feeds(engine.events),
    registry,
    runner,
    canceller,
    submission: new IngestSubmission(registry, engine.jobs, engine.datasets, engine.blobs, destinations, config),
    webhooks: engine.webhooks,
    destinations,
    dispatcher,
    draining: new Draining(),
    rejectedRows: new RejectedRowsFiles({
      jobs: engine.jobs,
      signingKey: () => engine.keys.linkSigningKey(),
      ttlMs: config.rejectedRowsLinkTtlMs,
      limits: config.issueLimits,
      log,
    }),
  };
  const retention = new RetentionSweeper(engine.jobs, engine.blobs, { retentionMs: config.jobRetentionMs, intervalMs: config.cleanupIntervalMs, clock }, log);
  metrics = config.metricsEnabled ? watchMetrics(engine, services) : null;
  return { services, runner, dispatcher, purger, retention, metrics };
}

/** The operators' metrics of this instance, fed by the events of the jobs it runs. */
function watchMetrics(engine: Engine, services: Services): Metrics {
  const { runner, feeds } = services;
  const metrics = new Metrics({
    instance: engine.coordination.id,
    jobCounts: () => engine.jobs.countByStatus(),
    activeJobs: () => runner.activeCount,
    subscriptions: () => feeds.count,
  });
  engine.events.subscribe((event) => metrics.jobChanged(event));
  return metrics;
}

/**
 * The work of an instance that runs jobs, woken by the events of every instance: a new job or one
 * that left RUNNING (its dataset is free) may be claimed; a transition may have written webhook
 * deliveries; a job that ended may have left rows to purge; a cancel may be for a job running here.
 */
function wakeOnEvents(engine: Engine, work: { runner: JobRunner; dispatcher: WebhookDispatcher; purger: RowPurger }): void {
  engine.events.subscribe(({ kind, job }) => {
    if (kind === 'cancelRequested') work.runner.cancelRequested(job);
    if (kind === 'created' || (kind === 'transition' && job.status !== 'RUNNING')) work.runner.kick();
    if (kind === 'transition') work.dispatcher.kick();
    if (kind === 'transition' && isTerminal(job.status)) work.purger.kick();
  });
}

/** HTTP (GraphQL, uploads, /health) and WebSocket, over the services. */
function buildServers(config: Config, engine: Engine, services: Services, metrics: Metrics | null, log: Logger) {
  const access = { auth: new Authenticator(config.authEnabled ? engine.keys : null), quota: new ConnectionQuota(config.maxConnectionsPerKey) };
  const yoga = {
    api: buildYoga(services, log, { maxBytes: config.maxRequestBytes }, access),
    uploads: buildYoga(services, log, { maxBytes: config.maxUploadBytes, uploads: engine.blobs }, access),
  };
  const health = () => ({
    status: services.draining.active ? ('stopping' as const) : ('ok' as const),
    store: engine.name,
    engine: engine.name,
    instance: engine.coordination.id,
    runsJobs: config.runJobs,
    version: packageJson.version,
    activeJobs: services.runner.activeCount,
    subscriptions: services.feeds.count,
  });
  const server = buildHttpServer(yoga, health, services, metrics, new Dashboard(builtDashboard()));
  const websocket = attachWebSocket(server, yoga.api, access, {
    keepAliveMs: config.websocketKeepAliveMs,
    maxPayloadBytes: config.websocketMaxPayloadBytes,
    connectionInitWaitTimeoutMs: config.connectionInitWaitTimeoutMs,
    maxSubscriptionsPerConnection: config.maxSubscriptionsPerConnection,
  });
  return { server, websocket };
}

/** Renews this instance's hold on the heartbeat; a hold found lost ends the process (through `lose`). */
function keepHold(engine: Engine, intervalMs: number, log: Logger, lose: () => void): NodeJS.Timeout {
  const timer = setInterval(() => {
    engine.coordination.renew().then(
      (held) => held || lose(),
      (error) => log.warn({ err: error }, 'renewing the data directory lock failed; retried on the next tick'),
    );
  }, intervalMs);
  timer.unref();
  return timer;
}

/** Wires engine, registry, runner, events and server together from a config. Nothing runs until start(). */
export function buildApp(config: Config, log: Logger = createLogger(config.logLevel)): App {
  const engine = openEngine(config);
  const { lost, lose } = lossSignal();
  const { services, runner, dispatcher, purger, retention, metrics } = wireServices(config, engine, log, lose);
  const { server, websocket } = buildServers(config, engine, services, metrics, log);
  let holdTimer: NodeJS.Timeout | null = null;

  return {
    config,
    engine,
    services,
    server,
    log,
    lost,
    async start() {
      await engine.open();
      await engine.coordination.join();
      if (config.authEnabled) await ensureFirstKey(engine.keys, config.dataDir, log);
      else warnAuthOff(log);
      holdTimer = keepHold(engine, config.heartbeatIntervalMs, log, lose);
      if (config.runJobs) {
        await removeOrphanUploads(engine, config.keepUploads);
        wakeOnEvents(engine, { runner, dispatcher, purger });
        await runner.start();
        purger.kick();
        dispatcher.kick();
        retention.start();
      } else log.info('SLUICE_RUN_JOBS=false: this instance serves the API only; instances that run jobs take its uploads');
      await listen(server, config.port, config.host);
      const { address, port } = server.address() as AddressInfo;
      const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}/graphql`;
      log.info({ url, dataDir: config.dataDir }, 'sluice is listening');
      return url;
    },
    async stop() {
      services.draining.active = true;
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
      if (holdTimer) clearInterval(holdTimer);
      await engine.coordination.leave();
      await engine.close();
    },
  };
}

/** How old an upload without a job must be to be an orphan where other instances may be between storing an upload and committing its job. */
const ORPHAN_AGE_MS = 10 * 60_000;

/**
 * Deletes what a previous process left behind: half-received uploads, and uploads of jobs that
 * ended or were never committed (with `keepUploads`, those of ended jobs stay until the jobs expire).
 */
async function removeOrphanUploads(engine: Engine, keepUploads: boolean): Promise<void> {
  await engine.blobs.clearStaging();
  const oldEnough = engine.coordination.exclusive ? undefined : engine.coordination.clock() - ORPHAN_AGE_MS;
  const stored = await engine.blobs.list();
  const old = new Set(oldEnough === undefined ? stored : await engine.blobs.list(oldEnough));
  // Read after the lists: a job committed meanwhile keeps its upload.
  const [keep, ofJobs] = [await engine.jobs.uploadKeys(keepUploads), await engine.jobs.uploadKeys(true)];
  for (const key of stored) {
    const orphan = ofJobs.has(key) ? !keep.has(key) : old.has(key); // an upload of no job may be one whose job is being committed
    if (orphan) await engine.blobs.delete(key);
  }
}
