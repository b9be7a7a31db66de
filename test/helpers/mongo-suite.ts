/** A test file's MongoDB, kept apart from mongo.ts, which benchmarks load outside Vitest. */
import { afterAll, beforeAll } from 'vitest';
import { startMongoStandIn, type MongoStandIn } from './mongo.ts';

/**
 * The MongoDB a test file runs against: MALLARD_TEST_MONGODB_URI when set, else a stand-in started
 * before the file's tests and stopped after them. Call at the top level of the file; the function
 * returned gives the base URI (freshDatabaseUri makes a database of one's own on it).
 */
export function mongoForTests(): () => string {
  let standIn: MongoStandIn | null = null;
  let baseUri = process.env.MALLARD_TEST_MONGODB_URI ?? '';
  beforeAll(async () => {
    if (baseUri === '') {
      standIn = await startMongoStandIn();
      baseUri = standIn.uri;
    }
  });
  afterAll(async () => {
    await standIn?.stop();
  });
  return () => baseUri;
}
