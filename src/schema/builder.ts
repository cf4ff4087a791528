import SchemaBuilder from '@pothos/core';
import type { GraphQLContext } from '../server/context';
import type { StagedUpload } from '../ports/blob-store';

export type SchemaTypesOf = PothosSchemaTypes.ExtendDefaultTypes<SluiceTypes>;

interface SluiceTypes {
  Context: GraphQLContext;
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date | number };
    File: { Input: StagedUpload; Output: never };
    JSON: { Input: unknown; Output: unknown };
    ID: { Input: string; Output: string };
  };
}

export const builder = new SchemaBuilder<SluiceTypes>({ defaultFieldNullability: false });
