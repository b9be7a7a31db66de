/**
 * SAVEDATE (RFC 8514): FETCH SAVEDATE is when the message was added to its mailbox (an APPEND with
 * an old internal date is saved today; a COPY is saved when copied), NIL for a message whose save
 * date was never recorded; SEARCH SAVEDBEFORE / SAVEDON / SAVEDSINCE and SAVEDATESUPPORTED.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MONTHS } from '../../server/imap/parser/index.ts';
import { closeClients, loggedIn, newAccount } from '../helpers/mail-fixtures.ts';
import { startTestServer, type LineClient, type TestServer } from '../helpers/server.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterEach(() => closeClients());
afterAll(() => server.stop());

/** A search date for a day relative to today, in the server's (this machine's) zone. */
function day(offsetDays: number): string {
  const date = new Date(Date.now() + offsetDays * 86_400_000);
  return `${date.getDate()}-${MONTHS[date.getMonth()]}-${date.getFullYear()}`;
}

async function append(client: LineClient, tag: string, date: string, subject: string): Promise<void> {
  const message = `Subject: ${subject}\r\n\r\nbody\r\n`;
  client.send(`${tag} APPEND INBOX "${date}" {${message.length}+}\r\n${message}\r\n`);
  expect(await client.readUntil(new RegExp(`^${tag} (OK|NO|BAD)`))).toMatch(new RegExp(`^${tag} OK`, 'm'));
}

describe('SAVEDATE', () => {
  it('fetches and searches the save date, not the internal date', async () => {
    const account = await newAccount(server);
    const client = await loggedIn(account);
    expect(await client.command('c', 'CAPABILITY')).toMatch(/^\* CAPABILITY .* SAVEDATE( |\r\n)/m);
    await append(client, 'a1', '01-Jan-2001 10:00:00 +0000', 'old');
    // A message from before save dates were recorded: imported with none.
    const inbox = (await server.server.store.getMailbox(account.userId, 'INBOX'))!;
    await server.server.store.importMessage(
      inbox.id,
      { uid: 5, modseq: 9, flags: [], internalDate: new Date('2002-02-02T12:00:00Z') },
      Buffer.from('Subject: legacy\r\n\r\nx\r\n'),
    );
    await client.command('s', 'SELECT INBOX');
    const fetched = await client.command('f1', 'UID FETCH 1:* (SAVEDATE INTERNALDATE)');
    const saved = /^\* 1 FETCH \(UID 1 SAVEDATE "([^"]+)" INTERNALDATE "01-Jan-2001 10:00:00 \+0000"\)/m.exec(
      fetched,
    );
    expect(saved, fetched).not.toBeNull();
    expect(
      Math.abs(new Date(saved![1]!.replace(/^(\d+)-(\w+)-(\d+) /, '$2 $1 $3 ')).getTime() - Date.now()),
    ).toBeLessThan(10 * 60_000);
    expect(fetched).toMatch(/^\* 2 FETCH \(UID 5 SAVEDATE NIL INTERNALDATE "02-Feb-2002 12:00:00 \+0000"\)/m);

    expect(await client.command('q1', `UID SEARCH SAVEDSINCE ${day(-1)}`)).toMatch(/^\* SEARCH 1\r\n/m);
    expect(await client.command('q2', `UID SEARCH SAVEDON ${day(0)}`)).toMatch(/^\* SEARCH 1\r\n/m);
    // The message without a save date is searched by its internal date (2002).
    expect(await client.command('q3', `UID SEARCH SAVEDBEFORE ${day(-1)}`)).toMatch(/^\* SEARCH 5\r\n/m);
    expect(await client.command('q4', 'UID SEARCH SAVEDBEFORE 1-Jan-2002')).toMatch(/^\* SEARCH\r\n/m);
    // The internal date says otherwise.
    expect(await client.command('q5', 'UID SEARCH BEFORE 1-Jan-2002')).toMatch(/^\* SEARCH 1\r\n/m);
    expect(await client.command('q6', 'UID SEARCH SAVEDATESUPPORTED')).toMatch(/^\* SEARCH 1 5\r\n/m);
    expect(await client.command('q7', 'UID SEARCH SAVEDON 31-Feb-x')).toMatch(/^q7 BAD /m);

    // A copy is saved when it is made: the legacy message gets a save date in Archive.
    expect(await client.command('k', 'UID COPY 5 Archive')).toMatch(/^k OK \[COPYUID /m);
    await client.command('s2', 'SELECT Archive');
    expect(await client.command('f2', 'FETCH 1 SAVEDATE')).toMatch(
      /^\* 1 FETCH \(SAVEDATE "\d{2}-\w{3}-\d{4} /m,
    );
  });
});
