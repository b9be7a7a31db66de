/**
 * A command's answer leaves in one write (issue 20): its untagged responses, the changes reported
 * with it and the tagged reply together, one system call and one packet instead of one each. A big
 * response still goes out as it is made, and a continuation request (IDLE, AUTHENTICATE) is sent
 * before the server waits for the client. Counted on the server's side of the real TCP connection.
 */
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { closeClients, loggedIn, mailboxWith, newAccount, type Account } from '../helpers/mail-fixtures.ts';
import { LineClient, startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
let account: Account;
/** Writes to the server's IMAP sockets, by the client's port. */
const writes = new Map<number, number>();

beforeAll(async () => {
  server = await startTestServer();
  account = await newAccount(server);
  await mailboxWith(account, 'INBOX', [['\\Seen'], [], ['\\Flagged'], []]);
  const write = net.Socket.prototype.write;
  vi.spyOn(net.Socket.prototype, 'write').mockImplementation(function (this: net.Socket, ...args) {
    if (this.localPort === server.imapPort && this.remotePort !== undefined) {
      writes.set(this.remotePort, (writes.get(this.remotePort) ?? 0) + 1);
    }
    return write.apply(this, args as Parameters<typeof write>);
  });
});
afterEach(closeClients);
afterAll(async () => {
  vi.restoreAllMocks();
  await server.stop();
});

/** The server's writes while `command` is answered (the tagged reply read in full). */
async function writesFor(client: LineClient, tag: string, command: string): Promise<[number, string]> {
  const port = client.socket.localPort!;
  const before = writes.get(port) ?? 0;
  const answer = await client.command(tag, command);
  return [(writes.get(port) ?? 0) - before, answer];
}

describe('one write per command', () => {
  it('sends SELECT, FETCH, STORE and NOOP with what they report in one write each', async () => {
    const client = await loggedIn(account);
    const other = await loggedIn(account);
    const [selectWrites, selected] = await writesFor(client, 's', 'SELECT INBOX');
    expect(selected).toMatch(/^\* 4 EXISTS\r\n[\s\S]*^s OK \[READ-WRITE\]/m);
    expect(selectWrites).toBe(1);
    const [fetchWrites, fetched] = await writesFor(client, 'f', 'FETCH 1:* (FLAGS)');
    expect(fetched.match(/^\* \d FETCH/gm)).toHaveLength(4);
    expect(fetchWrites).toBe(1);
    expect(await other.command('o1', 'SELECT INBOX')).toMatch(/^o1 OK/m);
    expect(await other.command('o2', 'STORE 2 +FLAGS (\\Answered)')).toMatch(/^o2 OK/m);
    // The other session's change is reported with the NOOP, in the same write.
    const [noopWrites, noop] = await writesFor(client, 'n', 'NOOP');
    expect(noop).toMatch(/^\* 2 FETCH \(UID 2 FLAGS \(\\Answered\)\)\r\nn OK/m);
    expect(noopWrites).toBe(1);
    const [storeWrites, stored] = await writesFor(client, 't', 'STORE 3 -FLAGS (\\Flagged)');
    expect(stored).toMatch(/^\* 3 FETCH \(FLAGS \(\)\)\r\nt OK/m);
    expect(storeWrites).toBe(1);
    const [badWrites, refused] = await writesFor(client, 'b', 'FETCH 9 (FLAGS)');
    expect(refused).toMatch(/^b BAD /m);
    expect(badWrites).toBe(1);
  });

  it('sends the continuation of IDLE before waiting for DONE', async () => {
    const client = await loggedIn(account);
    await client.command('s', 'SELECT INBOX');
    client.send('i IDLE\r\n');
    await client.readUntil(/^\+ /);
    client.send('DONE\r\n');
    expect(await client.readUntil(/^i /)).toMatch(/^i OK/m);
  });

  it('sends a big response as it is made, not held whole', async () => {
    const big = await mailboxWith(
      account,
      'Big',
      Array.from({ length: 3000 }, (_, i) => (i % 2 ? ['\\Seen', '$Label1'] : [])),
    );
    expect(big.path).toBe('Big');
    const client = await loggedIn(account);
    await client.command('s', 'SELECT Big');
    const [fetchWrites, fetched] = await writesFor(client, 'f', 'FETCH 1:* (UID FLAGS)');
    expect(fetched.match(/^\* \d+ FETCH/gm)).toHaveLength(3000);
    expect(fetchWrites).toBeGreaterThan(1);
  });
});
