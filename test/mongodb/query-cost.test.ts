/**
 * What an IMAP operation costs on the mongodb engine in database commands (the driver's command
 * monitoring), on a small mailbox: SEARCH, STATUS, SELECT, EXPUNGE and a delivery must not cost a
 * command per message of the mailbox. bench/mongo-commands.ts reports the same on 100,000.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../server/auth/password.ts';
import { freshDatabaseUri, startMongoStandIn, type MongoStandIn } from '../helpers/mongo.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { measureCommandCosts } from './command-costs.ts';

const MESSAGES = 120;
const USER = { username: 'alice@example.com', password: 'secret-password' };

let standIn: MongoStandIn;
let server: TestServer;

beforeAll(async () => {
  standIn = await startMongoStandIn();
  server = await startTestServer({
    MALLARD_STORE_ENGINE: 'mongodb',
    MALLARD_STORE_MONGODB_URI: freshDatabaseUri(standIn.uri),
  });
  const store = server.server.store;
  const user = await store.createUser({
    username: USER.username,
    passwordHash: await hashPassword(USER.password),
  });
  const inbox = (await store.getMailbox(user.id, 'INBOX'))!;
  for (let i = 0; i < MESSAGES; i++) {
    const subject = i === 7 ? 'needle-subject' : `message ${i}`;
    const body = i === 9 ? 'the needle-body is here' : `body ${i} ${'x'.repeat(i * 30)}`;
    await store.append(
      inbox.id,
      Buffer.from(`From: a@example.com\r\nSubject: ${subject}\r\n\r\n${body}\r\n`),
      {
        flags: i % 10 === 0 ? ['\\Flagged'] : [],
      },
    );
  }
}, 240_000);

afterAll(async () => {
  await server?.stop();
  await standIn?.stop();
});

describe('database commands per operation (mongodb engine)', () => {
  it('SEARCH, STATUS, SELECT, EXPUNGE and delivery do not cost a command per message', async () => {
    const costs = await measureCommandCosts(
      server.server,
      { imap: server.imapPort, lmtp: server.lmtpPort },
      USER,
    );
    console.log(
      `commands per operation on ${MESSAGES} messages:\n` +
        costs.map((cost) => `  ${cost.operation}: ${cost.commands} (${cost.detail})`).join('\n'),
    );
    // A bound far below one command per message (a delivery costs some 20: the mailbox, the body,
    // the journal, the thread links); EXPUNGE may cost a few per expunged message.
    for (const cost of costs) {
      const bound = cost.operation.startsWith('EXPUNGE') ? 10 + 6 * 5 : MESSAGES / 4;
      expect(cost.commands, cost.operation).toBeLessThan(bound);
    }
  }, 240_000);
});
