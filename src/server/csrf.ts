import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { createGraphQLError, type Plugin } from 'graphql-yoga';

/**
 * The header a request must carry unless its content type makes browsers send a CORS preflight:
 * multipart, form and text/plain POSTs, and GETs, would otherwise be simple cross-site requests.
 */
export const CSRF_HEADER = 'x-graphql-yoga-csrf';

/**
 * Yoga's CSRF prevention (403 before the body is read), its refusal carrying an `extensions.code`
 * like every other refusal: the plugin's own error has none.
 */
export function useCsrfPrevention(): Plugin {
  const check = useCSRFPrevention({ requestHeaders: [CSRF_HEADER] }).onRequestParse!;
  return {
    onRequestParse(payload) {
      try {
        return check(payload);
      } catch (error) {
        throw createGraphQLError((error as Error).message, { extensions: { code: 'CSRF_REFUSED', http: { status: 403 } } });
      }
    },
  };
}
