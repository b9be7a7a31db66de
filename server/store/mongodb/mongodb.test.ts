/**
 * The store contract on the mongodb engine, against the mongo-java-server stand-in (or a real
 * MongoDB when MALLARD_TEST_MONGODB_URI points at one), each test on a database of its own.
 */
import { expect } from 'vitest';
import { freshDatabaseUri } from '../../../test/helpers/mongo.ts';
import { mongoForTests } from '../../../test/helpers/mongo-suite.ts';
import { storeContractSuite, storeProcessSuite } from '../contract.ts';
import type { Store } from '../types.ts';
import { MongoStore } from './store.ts';

const baseUri = mongoForTests();

/**
 * Closes the store after checking that its bookkeeping still adds up, and drops its database.
 * After a worker was killed mid-append (the process suite) a count may be too high, never too low.
 */
async function closeChecked(store: MongoStore, uri: string, allowLeaks = false): Promise<void> {
  const problems = await store.checkIntegrity({ allowLeaks });
  await store.close();
  await dropDatabase(uri);
  expect(problems).toEqual([]);
}

async function dropDatabase(uri: string): Promise<void> {
  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 3000 });
  try {
    await client.db().dropDatabase();
  } finally {
    await client.close();
  }
}

storeContractSuite('mongodb', async () => {
  const uri = freshDatabaseUri(baseUri());
  const store = await MongoStore.open(uri);
  return { store, cleanup: () => closeChecked(store, uri) };
});

storeProcessSuite('mongodb', async () => {
  const uri = freshDatabaseUri(baseUri());
  let store = await MongoStore.open(uri);
  return {
    get store(): Store {
      return store;
    },
    async reopen() {
      await store.close();
      store = await MongoStore.open(uri);
      return store;
    },
    workerArgs: ['server/store/mongodb/append-worker.ts', uri],
    cleanup: () => closeChecked(store, uri, true),
  };
});
