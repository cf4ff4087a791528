import type { GraphQLError, GraphQLResolveInfo } from 'graphql';
// Yoga's error factory: its masking must recognise these errors whichever build of graphql a loader picked.
import { createGraphQLError } from 'graphql-yoga';
import type { ObjectRef } from '@pothos/core';
import type { GraphQLContext } from '../server/context';
import { QUERY_TOO_COMPLEX } from '../server/armor';
import { builder, type SchemaTypesOf } from './builder';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

export interface PageInfoShape {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export const PageInfo = builder.objectRef<PageInfoShape>('PageInfo').implement({
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage'),
    hasPreviousPage: t.exposeBoolean('hasPreviousPage'),
    startCursor: t.exposeString('startCursor', { nullable: true }),
    endCursor: t.exposeString('endCursor', { nullable: true }),
  }),
});

function badInput(message: string): GraphQLError {
  return createGraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

/** Items asked for so far, per context and execution (see chargeItems). */
const itemsAsked = new WeakMap<object, WeakMap<object, number>>();

/**
 * Counts a page's size against the items one execution may ask for (queryLimits.items). The static
 * cost limit cannot see a `first` given as a variable, so a page inside a page (1000 jobs × 1000 issues)
 * is stopped here, as its pages are resolved. A subscription's context lives as long as the
 * subscription: each of its events (the root value of its execution) is counted on its own.
 */
function chargeItems(context: GraphQLContext, info: GraphQLResolveInfo, size: number): void {
  const root = info.rootValue;
  const execution = info.operation.operation === 'subscription' && typeof root === 'object' && root !== null ? root : context;
  let executions = itemsAsked.get(context);
  if (!executions) itemsAsked.set(context, (executions = new WeakMap()));
  const asked = (executions.get(execution) ?? 0) + size;
  executions.set(execution, asked);
  if (asked > context.services.config.queryLimits.items) {
    throw createGraphQLError('The operation asks for more items at once than this API returns (the pages it asks for, counted together).', {
      extensions: { code: QUERY_TOO_COMPLEX },
    });
  }
}

/** The size of a page (`first`, or the default), counted against the operation's item limit. */
export function pageSize(first: number | null | undefined, context: GraphQLContext, info: GraphQLResolveInfo): number {
  const size = first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(size) || size < 0 || size > MAX_PAGE_SIZE) throw badInput(`first must be from 0 to ${MAX_PAGE_SIZE}`);
  chargeItems(context, info, size);
  return size;
}

/** Opaque cursors: a kind and a position, base64url-encoded. */
export function encodeCursor(kind: string, position: number): string {
  return Buffer.from(`${kind}:${position}`).toString('base64url');
}

export function decodeCursor(kind: string, cursor: string | null | undefined): number | undefined {
  if (cursor === null || cursor === undefined) return undefined;
  const [cursorKind, position] = Buffer.from(cursor, 'base64url').toString().split(':');
  const value = Number(position);
  if (cursorKind !== kind || !Number.isSafeInteger(value)) throw badInput('invalid cursor');
  return value;
}

export interface Connection<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: PageInfoShape;
  /** Counted only when a client asks for it. */
  totalCount: number | Promise<number>;
}

/** A forward page from `size + 1` fetched items: the extra one only tells that there is a next page. */
export function connection<T>(items: T[], size: number, after: unknown, cursorOf: (item: T) => string, totalCount: () => number | Promise<number>): Connection<T> {
  const edges = items.slice(0, size).map((node) => ({ cursor: cursorOf(node), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: items.length > size,
      hasPreviousPage: after !== undefined,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
    get totalCount() {
      return totalCount();
    },
  };
}

/** Declares the Connection and Edge types of a node type, named as the API contract names them. */
export function connectionType<T>(prefix: string, node: ObjectRef<SchemaTypesOf, T>) {
  const edge = builder.objectRef<{ cursor: string; node: T }>(`${prefix}Edge`).implement({
    fields: (t) => ({
      cursor: t.exposeString('cursor'),
      node: t.field({ type: node, resolve: (e) => e.node as never }),
    }),
  });
  return builder.objectRef<Connection<T>>(`${prefix}Connection`).implement({
    fields: (t) => ({
      edges: t.field({ type: [edge], resolve: (c) => c.edges }),
      pageInfo: t.field({ type: PageInfo, resolve: (c) => c.pageInfo }),
      totalCount: t.int({ resolve: (c) => c.totalCount }),
    }),
  });
}
