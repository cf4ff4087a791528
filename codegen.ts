import type { CodegenConfig } from '@graphql-codegen/cli';

// Typed documents for the tests (and any TypeScript client) from the printed schema.
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: 'test/operations/*.graphql',
  generates: {
    'test/generated/graphql.ts': {
      plugins: ['typescript-operations', 'typed-document-node'],
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: 'string', JSON: 'Record<string, unknown>', File: 'unknown' },
      },
    },
  },
};

export default config;
