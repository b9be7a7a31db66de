/**
 * Child process for the multi-process contract tests on the mongodb engine:
 *   node bin/run-ts.mjs server/store/mongodb/append-worker.ts URI MAILBOX_ID COUNT TAG
 */
import { runAppendWorker } from '../contract-worker.ts';
import { MongoStore } from './store.ts';

const uri = process.argv[2];
if (!uri) throw new Error('usage: append-worker.ts URI MAILBOX_ID COUNT TAG');
await runAppendWorker(() => MongoStore.open(uri), process.argv);
