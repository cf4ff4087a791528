import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { answerText, isGetOrHead, requestUrl } from './plain-http';

/**
 * Scripts and styles from this server only, none inline; connections to this server only (CSP Level 3
 * counts ws:/wss: to the page's own host as 'self': the tests check the WebSocket in Chromium); no
 * framing, no <base>.
 */
const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
};

const PAGE = 'index.html';
const ASSETS = '/assets/';
/** Every asset but the page is named by the hash of its contents: what a name answers never changes. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

interface File {
  plain: Buffer;
  gzipped: Buffer;
  etag: string;
  headers: Record<string, string>;
}

/**
 * Where the built dashboard is: the `dashboard/` folder of the build this code was bundled into
 * (dist/builds/<hash>/, what `npm start` runs), or, run from the sources (tests, tsx), the checkout's
 * dist/dashboard, which scripts/build.mjs links to the latest build's.
 */
export function builtDashboard(): string {
  const own = fileURLToPath(new URL('./dashboard/', import.meta.url));
  return existsSync(own) ? own : fileURLToPath(new URL('../../dist/dashboard/', import.meta.url));
}

function load(name: string, contents: Buffer): File {
  return {
    plain: contents,
    gzipped: gzipSync(contents, { level: 9 }),
    etag: `"${createHash('sha256').update(contents).digest('base64url').slice(0, 22)}"`,
    headers: {
      'content-type': TYPES[extname(name)],
      'cache-control': name === PAGE ? 'no-cache' : IMMUTABLE,
      'content-security-policy': DASHBOARD_CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      vary: 'accept-encoding',
    },
  };
}

/** Whether the client takes gzip: named (or `*`) in Accept-Encoding with a weight above 0. */
function acceptsGzip(req: IncomingMessage): boolean {
  const header = req.headers['accept-encoding'];
  if (typeof header !== 'string') return false;
  return header.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    const weight = params.map((param) => /^\s*q=([\d.]+)\s*$/.exec(param)).find(Boolean);
    return (coding === 'gzip' || coding === '*') && (!weight || Number(weight[1]) > 0);
  });
}

/**
 * The web dashboard: GET (or HEAD) / answers the page, /assets/<name> the files it loads (any other
 * path under /assets/ is 404), each compressed when the client takes gzip. The built files are read once, at start: only the names
 * found then are ever answered (nothing else on disk can be reached), and a later build of the
 * checkout changes nothing a running server serves.
 */
export class Dashboard {
  private readonly files = new Map<string, File>();

  constructor(dir: string) {
    if (!existsSync(dir)) return; // not built: `/` says so
    const real = realpathSync(dir);
    for (const entry of readdirSync(real, { withFileTypes: true })) {
      if (entry.isFile() && TYPES[extname(entry.name)]) this.files.set(entry.name, load(entry.name, readFileSync(join(real, entry.name))));
    }
  }

  handles(req: IncomingMessage): boolean {
    if (!isGetOrHead(req)) return false;
    const { pathname: path } = requestUrl(req);
    return path === '/' || path.startsWith(ASSETS);
  }

  serve(req: IncomingMessage, res: ServerResponse): void {
    const { pathname: path } = requestUrl(req);
    const page = path === '/';
    // The page is only served as `/`; a name is looked up as sent, still encoded: no `/` or `..` can match.
    const name = page ? PAGE : path.slice(ASSETS.length);
    const file = page || name !== PAGE ? this.files.get(name) : undefined;
    if (!file) return page ? answerText(res, 503, 'the dashboard is not built: run `npm run build`') : answerText(res, 404, 'no such asset');
    const gzip = acceptsGzip(req);
    // Each encoding is a representation of its own, with its own tag.
    const etag = gzip ? file.etag.replace(/"$/, '-gz"') : file.etag;
    const headers = { ...file.headers, etag, ...(gzip ? { 'content-encoding': 'gzip' } : {}) };
    if (req.headers['if-none-match']?.split(',').some((tag) => tag.trim() === etag)) {
      res.writeHead(304, headers);
      return void res.end();
    }
    const body = gzip ? file.gzipped : file.plain;
    res.writeHead(200, { ...headers, 'content-length': String(body.length) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}
