import { createServer, type Server } from 'node:http';
import type { YogaServerInstance } from 'graphql-yoga';
import type { GraphQLContext } from './context';

export interface HealthReport {
  status: 'ok';
  store: string;
  version: string;
  activeJobs: number;
}

/** The HTTP server: GET /health, and GraphQL (with GraphiQL for browsers) on /graphql. */
export function buildHttpServer(yoga: YogaServerInstance<Record<string, unknown>, GraphQLContext>, health: () => HealthReport): Server {
  return createServer((req, res) => {
    if (req.url === '/health' && (req.method === 'GET' || req.method === 'HEAD')) {
      const body = JSON.stringify(health());
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    void yoga(req, res);
  });
}
