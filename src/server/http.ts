import { createServer, type Server } from 'node:http';
import type { Yoga } from './yoga';

export interface HealthReport {
  status: 'ok';
  store: string;
  version: string;
  activeJobs: number;
  /** Open GraphQL subscriptions, over WebSocket and SSE. */
  subscriptions: number;
}

/** The HTTP server: GET /health, and GraphQL (with GraphiQL for browsers) on /graphql. */
export function buildHttpServer(yoga: { api: Yoga; uploads: Yoga }, health: () => HealthReport): Server {
  return createServer((req, res) => {
    if (req.url === '/health' && (req.method === 'GET' || req.method === 'HEAD')) {
      const body = JSON.stringify(health());
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    const multipart = req.headers['content-type']?.startsWith('multipart/form-data') ?? false;
    void (multipart ? yoga.uploads : yoga.api)(req, res);
  });
}
