import { builder } from './builder';
import './scalars';
import './job';
import './dataset';
import './ingest';
import './subscriptions';

builder.queryType({});
builder.mutationType({});

export const schema = builder.toSchema({ sortSchema: false });
