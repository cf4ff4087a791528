// Worker threads start without the parent's loaders: register tsx here, then load the TypeScript reader.
import { register } from 'tsx/esm/api';

register();
await import('./reader.ts');
