import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Services } from './context';
import type { Dashboard } from './dashboard';
import { isGetOrHead } from './plain-http';
import { Draining } from './draining';
import type { Metrics } from './metrics';
import type { Yoga } from './yoga';

export interface HealthReport {
  /** `stopping` (with HTTP 503) while a graceful stop drains the server, so that load balancers stop sending work. */
  status: 'ok' | 'stopping';
  /** The engine (`sqlite`, `postgres`); kept beside `engine` for the clients that read it first. */
  store: string;
  engine: string;
  /** This instance's id: what `Job.instance` names, and the owner of the leases of the jobs it runs. */
  instance: string;
  /** False on an API-only instance (SLUICE_RUN_JOBS=false). */
  runsJobs: boolean;
  version: string;
  activeJobs: number;
  /** Open GraphQL subscriptions, over WebSocket and SSE. */
  subscriptions: number;
}

/** A GET or HEAD of exactly `path`. */
function isRead(req: IncomingMessage, path: string): boolean {
  return req.url === path && isGetOrHead(req);
}

/**
 * The HTTP server: the web dashboard on / (with its files under /assets/), GET /health, GET /metrics
 * (unless turned off), rejected-rows files behind signed links, and GraphQL (with GraphiQL for
 * browsers) on /graphql. While draining, uploads are refused with 503 before their body is read.
 */
export function buildHttpServer(
  yoga: { api: Yoga; uploads: Yoga },
  health: () => HealthReport,
  { draining, rejectedRows }: Pick<Services, 'draining' | 'rejectedRows'>,
  metrics: Metrics | null,
  dashboard: Dashboard,
): Server {
  return createServer((req, res) => {
    if (rejectedRows.handles(req)) {
      void rejectedRows.serve(req, res);
      return;
    }
    if (metrics && isRead(req, '/metrics')) {
      void metrics.serve(req, res);
      return;
    }
    if (isRead(req, '/health')) {
      const report = health();
      res.writeHead(report.status === 'ok' ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : JSON.stringify(report));
      return;
    }
    if (dashboard.handles(req)) {
      dashboard.serve(req, res);
      return;
    }
    const multipart = req.headers['content-type']?.startsWith('multipart/form-data') ?? false;
    if (multipart && draining.active) {
      const refusal = Draining.response();
      res.writeHead(refusal.status, refusal.headers);
      res.end(refusal.body);
      return;
    }
    void (multipart ? yoga.uploads : yoga.api)(req, res);
  });
}
