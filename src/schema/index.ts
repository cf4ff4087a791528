import { builder } from './builder';
import './scalars';
import './job';
import './dataset';
import './ingest';

builder.queryType({});
builder.mutationType({});

export const schema = builder.toSchema({ sortSchema: false });
