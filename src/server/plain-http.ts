import type { IncomingMessage, ServerResponse } from 'node:http';

/** A GET or HEAD: the plain endpoints beside GraphQL (health, metrics, the dashboard, files behind links) answer only those. */
export function isGetOrHead(req: IncomingMessage): boolean {
  return req.method === 'GET' || req.method === 'HEAD';
}

/** The request's URL as sent: its path and query (`//x/…` stays a path, not a host). */
export function requestUrl(req: IncomingMessage): URL {
  return new URL(`http://x${req.url ?? '/'}`);
}

/** A short plain-text answer that no cache keeps. */
export function answerText(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(`${message}\n`);
}
