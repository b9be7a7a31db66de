// Entry of a parse worker (pool.ts starts it). A worker thread does not inherit the parent's
// TypeScript loader, so it registers tsx itself before loading the worker's TypeScript source.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
