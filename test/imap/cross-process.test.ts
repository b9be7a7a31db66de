/**
 * Two server processes on one store: changes made by another process (here the `mallard` command
 * and a script on the same data directory) reach an IDLE session through the journal within a
 * second of being committed.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MALLARD_BIN, ROOT } from '../helpers/cli.ts';
import { LineClient, startTestServer, type TestServer } from '../helpers/server.ts';

const run = promisify(execFile);
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  await server.addUser('ivy@example.test', 'ivy password');
});
afterAll(() => server.stop());

async function idlingClient(): Promise<LineClient> {
  const client = await LineClient.connect(server.imapPort);
  await client.readUntil(/^\* OK/);
  await client.command('a', 'LOGIN ivy@example.test "ivy password"');
  await client.command('b', 'SELECT INBOX');
  client.send('c IDLE\r\n');
  await client.readUntil(/^\+ /);
  return client;
}

describe('changes from another process', () => {
  it('a delivery by `mallard deliver` reaches an IDLE session within a second', async () => {
    const client = await idlingClient();
    const env = {
      ...process.env,
      MALLARD_CONFIG: '',
      MALLARD_DATA_DIR: server.config.data_dir,
      MALLARD_LOG_LEVEL: 'warn',
    };
    const child = execFile(process.execPath, [MALLARD_BIN, 'deliver', 'ivy@example.test'], {
      cwd: ROOT,
      env,
    });
    child.stdin!.end('Subject: from another process\r\n\r\nhello\r\n');
    await new Promise((resolve) => child.once('exit', resolve));
    const deliveredAt = Date.now();
    expect(await client.readUntil(/^\* 1 EXISTS/, 2000)).toMatch(/EXISTS/);
    expect(Date.now() - deliveredAt).toBeLessThan(1000);
    client.send('DONE\r\n');
    await client.readUntil(/^c OK/);
    client.close();
  });

  it('a flag change and an expunge by another process reach an IDLE session', async () => {
    const client = await idlingClient();
    const script = path.join(server.config.data_dir, 'change.mts');
    fs.writeFileSync(
      script,
      `import { openSqliteStore } from ${JSON.stringify(path.join(ROOT, 'server/store/sqlite/index.ts'))};
const store = await openSqliteStore(process.argv[2]);
const user = await store.getUserByUsername('ivy@example.test');
const inbox = await store.getMailbox(user.id, 'INBOX');
await store.storeFlags(inbox.id, [1], 'add', ['\\\\Flagged']);
await new Promise((resolve) => setTimeout(resolve, 300));
await store.deleteMessages(inbox.id, [1]);
await store.close();
`,
    );
    await run(process.execPath, [path.join(ROOT, 'bin/run-ts.mjs'), script, server.config.data_dir], {
      cwd: ROOT,
    });
    const seen = await client.readUntil(/^\* 1 EXPUNGE/, 2000);
    expect(seen).toMatch(/^\* 1 FETCH \(UID 1 FLAGS \(.*\\Flagged.*\)\)/m);
    client.send('DONE\r\n');
    await client.readUntil(/^c OK/);
    client.close();
  });
});
