import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { type MaxDepthOptions, maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import type { ValidationRule } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import type { Config } from '../config';

/** The extensions.code of every document refused by a limit. */
export const QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX';

/** What armor does with a rejected document (the same options in every protection). */
type Callbacks = Pick<MaxDepthOptions, 'onReject' | 'propagateOnRejection'>;

// One message for every limit: neither the limit, nor what the document measured, nor its fields.
// The HTTP status is Yoga's for any invalid document: 400, or 200 to a client that accepts only
// application/json (the GraphQL-over-HTTP spec's legacy clients).
function tooComplex() {
  return createGraphQLError('The operation exceeds the limits of this API (depth, aliases, cost, tokens or directives).', {
    extensions: { code: QUERY_TOO_COMPLEX },
  });
}

// Validation rules report instead of throwing, so that a refused document lands in Yoga's validation
// cache like any invalid one (a thrown error is not cached, and would be validated again on every request).
const reported: Callbacks = {
  propagateOnRejection: false,
  onReject: [(context) => context?.reportError(tooComplex())],
};

// Counting tokens happens in the parser, which has no context to report to: it throws ours (Yoga's
// parse cache keeps thrown errors).
const thrown: Callbacks = {
  onReject: [
    () => {
      throw tooComplex();
    },
  ],
};

/**
 * graphql-armor's five limits from the config, as envelop plugins: they apply wherever Yoga's envelop
 * parses and validates, over HTTP and WebSocket alike.
 *
 * Fragments are flattened for depth and cost: a fragment spread or inline fragment is not a level of
 * its own, so a document measures the same written with fragments or inline. Cost counts what gets
 * resolved: 1 per scalar, 2 per object, and a literal `first`/`last` multiplies its field's subtree (a
 * page of 1000 costs 1000 items). No factor per level (armor's default is 1.5): depth has a limit of
 * its own, and with it a full page of 1000 jobs costs 66,000, within the default, while a page inside
 * a page (1000 jobs × 1000 issues) costs millions. A `first` given as a variable is not known when the
 * document is validated and counts once; every page stays capped by MAX_PAGE_SIZE.
 */
export function useQueryLimits(limits: Config['queryLimits']): Plugin[] {
  return [
    maxTokensPlugin({ n: limits.tokens, exposeLimits: false, ...thrown }),
    maxDepthPlugin({ n: limits.depth, flattenFragments: true, exposeLimits: false, ...reported }),
    maxAliasesPlugin({ n: limits.aliases, exposeLimits: false, ...reported }),
    maxDirectivesPlugin({ n: limits.directives, exposeLimits: false, ...reported }),
    costLimitPlugin({ maxCost: limits.cost, objectCost: 2, scalarCost: 1, depthCostFactor: 1, flattenFragments: true, exposeLimits: false, ...reported }),
  ] as Plugin[];
}

// graphql's NoSchemaIntrospectionCustomRule, by name: its type checks fail when a loader gives the
// schema and the rule different builds of graphql (ESM and CJS under vitest). Only the meta-fields
// can be named `__schema` and `__type`: names starting with `__` are reserved.
const noSchemaIntrospection: ValidationRule = (context) => ({
  Field(node) {
    if (node.name.value === '__schema' || node.name.value === '__type') {
      context.reportError(createGraphQLError(`introspection is disabled, but the operation asks for "${node.name.value}"`, { nodes: [node] }));
    }
  },
});

/**
 * Refuses `__schema` and `__type` (`__typename` stays) and hides "Did you mean …?" suggestions,
 * which would spell out the schema one guess at a time.
 */
export function useNoIntrospection(): Plugin[] {
  return [
    {
      onValidate({ addValidationRule }) {
        addValidationRule(noSchemaIntrospection);
      },
    },
    blockFieldSuggestionsPlugin() as Plugin,
  ];
}
