import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { type GraphiQLOptions, type Plugin, shouldRenderGraphiQL } from 'graphql-yoga';
import { CSRF_HEADER } from './csrf';

/** What a new user finds in the editor: the latest jobs, and how to follow one live (lines short enough for a narrow editor). */
const DEFAULT_QUERY = `# 1. Paste your API key in Headers,
#    below (the first one is in
#    data/default-api-key).
# 2. Run: play button or Ctrl-Enter.

query LatestJobs {
  jobs(first: 10) {
    totalCount
    edges {
      node {
        id
        dataset { name }
        status
        stage
        progress {
          percent
          processedRows
          rowsRejected
          etaSeconds
        }
        createdAt
      }
    }
  }
}

# To follow a job live, uncomment
# this, put the job's id, and run
# FollowJob.
# subscription FollowJob {
#   jobProgress(id: "job_...") {
#     status
#     stage
#     progress { percent processedRows }
#   }
# }
`;

/** The text of the headers editor until the user edits it. */
export const API_KEY_PLACEHOLDER = '<paste your API key here>';

const OPTIONS: GraphiQLOptions = {
  title: 'Sluice GraphiQL',
  defaultQuery: DEFAULT_QUERY,
  headers: JSON.stringify({ Authorization: `Bearer ${API_KEY_PLACEHOLDER}` }, null, 2),
  // Kept in the browser's storage, so that a pasted key survives a reload.
  shouldPersistHeaders: true,
  // Sent with every request whatever the headers editor holds, for subscriptions: GraphiQL sends
  // them as GETs (over SSE), which the CSRF check refuses without it. The page is same-origin.
  additionalHeaders: { [CSRF_HEADER]: 'graphiql' },
};

/** The page's inline scripts: the text between the tags is what the browser hashes. */
const INLINE_SCRIPT = /<script>([\s\S]*?)<\/script>/g;

/**
 * Only what the page needs: its one inline script (by hash), the editor's workers (which it builds
 * from blobs), requests to this server, and the styles, fonts and icons it carries inline.
 */
function contentSecurityPolicy(html: string): string {
  const hashes = [...html.matchAll(INLINE_SCRIPT)].map(([, text]) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`);
  return [
    "default-src 'none'",
    `script-src ${hashes.join(' ')}`,
    'worker-src blob:',
    "connect-src 'self'",
    // The editor adds <style> elements and style attributes at run time: no hash can cover them.
    "style-src 'unsafe-inline'",
    'img-src data:',
    'font-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

interface Page {
  body: Uint8Array<ArrayBuffer>;
  headers: Record<string, string>;
}

let page: Page | undefined;

/**
 * The page, rendered and hashed once per process. GraphiQL's bundle (9 MB, every asset inline, so
 * nothing comes from a CDN) is loaded only here: a server without GraphiQL never parses it.
 */
function graphiqlPage(): Page {
  if (page) return page;
  const { renderGraphiQL } = createRequire(import.meta.url)('@graphql-yoga/render-graphiql') as typeof import('@graphql-yoga/render-graphiql');
  const html = renderGraphiQL(OPTIONS);
  page = {
    body: new TextEncoder().encode(html),
    headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': contentSecurityPolicy(html) },
  };
  return page;
}

/**
 * Yoga plugin, first of all: a browser's GET of the endpoint (one accepting HTML, as Yoga's own
 * GraphiQL decides) gets the page, before any key or CSRF check: it holds no data.
 */
export function useGraphiQL(endpoint: string): Plugin {
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== endpoint || !shouldRenderGraphiQL(request)) return;
      // Rendered at the first browser visit, not at start: every development server would pay ~200 ms and ~47 MB for it.
      const { body, headers } = graphiqlPage();
      endResponse(new fetchAPI.Response(body, { status: 200, headers }));
    },
  };
}
