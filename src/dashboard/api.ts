// The GraphQL API over HTTP, sent with this tab's API key. The key is kept in sessionStorage: it
// leaves with the tab, and it never goes into a URL (where history and logs would keep it).

/** Relative: the API is served by the same server as the page. */
const ENDPOINT = 'graphql';
const KEY_ITEM = 'sluice.apiKey';
/** Multipart requests are "simple" cross-site requests: the server wants this header on them (CSRF). */
const CSRF_HEADER = 'x-graphql-yoga-csrf';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export interface UserError {
  code: string;
  field?: string[] | null;
  message: string;
}

export const apiKey = {
  get: (): string | null => sessionStorage.getItem(KEY_ITEM),
  set: (key: string): void => sessionStorage.setItem(KEY_ITEM, key),
  clear: (): void => sessionStorage.removeItem(KEY_ITEM),
};

let unauthenticated = (): void => {};

/** What to do when the server refuses the key (or wants one): the app asks for another. */
export function whenUnauthenticated(listener: () => void): void {
  unauthenticated = listener;
}

export function signalUnauthenticated(): void {
  unauthenticated();
}

/** The Authorization field of this tab's key, as HTTP headers and WebSocket connection params carry it. */
export function authorization(): Record<string, string> {
  const key = apiKey.get();
  return key ? { authorization: `Bearer ${key}` } : {};
}

interface Answer<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

/** The data of an answer, or an ApiError with the first error's code. */
function dataOf<T>(status: number, answer: Answer<T>): T {
  const error = answer.errors?.[0];
  const code = error?.extensions?.code ?? `HTTP_${status}`;
  if (status === 401 || code === 'UNAUTHENTICATED') {
    signalUnauthenticated();
    throw new ApiError(error?.message ?? 'an API key is required', 'UNAUTHENTICATED');
  }
  if (error || !answer.data) throw new ApiError(error?.message ?? `the server answered ${status}`, code);
  return answer.data;
}

function parse<T>(text: string): Answer<T> {
  try {
    return JSON.parse(text) as Answer<T>;
  } catch {
    return {};
  }
}

export async function request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(ENDPOINT, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...authorization() },
    body: JSON.stringify({ query, variables }),
  });
  return dataOf<T>(response.status, parse<T>(await response.text()));
}

/**
 * Sends `query` with `file` at `variables.input.file` as a GraphQL multipart request. Over
 * XMLHttpRequest, since fetch reports no upload progress.
 */
export function upload<T>(query: string, input: Record<string, unknown>, file: File, onProgress: (sent: number, total: number) => void): Promise<T> {
  const form = new FormData();
  form.set('operations', JSON.stringify({ query, variables: { input: { ...input, file: null } } }));
  form.set('map', JSON.stringify({ 0: ['variables.input.file'] }));
  form.set('0', file, file.name);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', ENDPOINT);
    for (const [name, value] of Object.entries({ [CSRF_HEADER]: '1', ...authorization() })) xhr.setRequestHeader(name, value);
    xhr.upload.addEventListener('progress', (event) => onProgress(event.loaded, event.total));
    xhr.addEventListener('load', () => {
      try {
        resolve(dataOf<T>(xhr.status, parse<T>(xhr.responseText)));
      } catch (error) {
        reject(error);
      }
    });
    xhr.addEventListener('error', () => reject(new ApiError('the upload failed: the connection to the server was lost', 'NETWORK')));
    xhr.send(form);
  });
}

/** What to show of a failed request. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
