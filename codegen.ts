import type { CodegenConfig } from '@graphql-codegen/cli';

/** Typed documents (operations' result and variable types with their parsed documents), the same for every output. */
const typedDocuments = {
  plugins: ['typescript-operations', 'typed-document-node'],
  config: {
    useTypeImports: true,
    enumsAsTypes: true,
    scalars: { DateTime: 'string', JSON: 'Record<string, unknown>', File: 'unknown' },
  },
};

// From the printed schema: typed documents for the tests (and any TypeScript client), and for the `sluice` command line.
const config: CodegenConfig = {
  schema: 'schema.graphql',
  generates: {
    'test/generated/graphql.ts': { documents: 'test/operations/*.graphql', ...typedDocuments },
    'src/cli/generated.ts': { documents: 'src/cli/*.graphql', ...typedDocuments },
  },
};

export default config;
