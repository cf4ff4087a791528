import { builder } from './builder';
import './scalars';
import './job';
import './dataset';
import './ingest';
import './subscriptions';
import './webhooks';

builder.queryType({});
builder.mutationType({});

export const schema = builder.toSchema({ sortSchema: false });
