// The polling reference: a bare graphql-yoga server answering a trivial query, started like Sluice
// (its own process, through tsx) so that both pay the same runtime costs.
import { createServer } from 'node:http';
import { createSchema, createYoga } from 'graphql-yoga';

const yoga = createYoga({
  schema: createSchema({ typeDefs: 'type Query { hello: String! }', resolvers: { Query: { hello: () => 'world' } } }),
  logging: false,
});
const server = createServer(yoga);
server.listen(0, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  console.log(JSON.stringify({ msg: 'bare yoga is listening', url: `http://127.0.0.1:${address.port}/graphql` }));
});
