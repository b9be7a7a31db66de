/** Transcripts for GETQUOTAROOT, GETQUOTA and SETQUOTA (RFC 2087 / RFC 9208). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggedIn, mailboxWith, newAccount } from '../helpers/mail-fixtures.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

describe('QUOTA', () => {
  it('reports the storage of a limited account in KiB under the root ""', async () => {
    const account = await newAccount(server, 10 * 1024 * 1024);
    await mailboxWith(account, 'INBOX', [[], []]);
    const { usedBytes } = await server.server.store.getQuota(account.userId);
    const used = Math.ceil(usedBytes / 1024);
    const client = await loggedIn(account);
    expect(await client.command('q1', 'GETQUOTAROOT INBOX')).toBe(
      `* QUOTAROOT INBOX ""\r\n* QUOTA "" (STORAGE ${used} 10240)\r\nq1 OK GETQUOTAROOT completed\r\n`,
    );
    expect(await client.command('q2', 'GETQUOTAROOT Sent')).toBe(
      `* QUOTAROOT "Sent" ""\r\n* QUOTA "" (STORAGE ${used} 10240)\r\nq2 OK GETQUOTAROOT completed\r\n`,
    );
    expect(await client.command('q3', 'GETQUOTA ""')).toBe(
      `* QUOTA "" (STORAGE ${used} 10240)\r\nq3 OK GETQUOTA completed\r\n`,
    );
    client.close();
  });

  it('has no quota root for an unlimited account', async () => {
    const client = await loggedIn(await newAccount(server));
    expect(await client.command('q1', 'GETQUOTAROOT inbox')).toBe(
      '* QUOTAROOT INBOX\r\nq1 OK GETQUOTAROOT completed\r\n',
    );
    expect(await client.command('q2', 'GETQUOTA ""')).toMatch(/^q2 NO \[NONEXISTENT\] /m);
    client.close();
  });

  it('refuses unknown roots and mailboxes, and any SETQUOTA', async () => {
    const client = await loggedIn(await newAccount(server, 1024 * 1024));
    expect(await client.command('q1', 'GETQUOTA "user.other"')).toMatch(/^q1 NO \[NONEXISTENT\] /m);
    expect(await client.command('q2', 'GETQUOTAROOT Nowhere')).toMatch(/^q2 NO \[NONEXISTENT\] /m);
    expect(await client.command('q3', 'GETQUOTAROOT "&Jjo"')).toMatch(/^q3 NO \[CANNOT\] /m);
    expect(await client.command('q4', 'SETQUOTA "" (STORAGE 999999)')).toMatch(/^q4 NO \[NOPERM\] /m);
    expect(await client.command('q5', 'SETQUOTA "" ()')).toMatch(/^q5 NO \[NOPERM\] /m);
    expect(await client.command('q6', 'GETQUOTA')).toMatch(/^q6 BAD /m);
    expect(await client.command('q7', 'GETQUOTA ""')).toMatch(/^\* QUOTA "" \(STORAGE 0 1024\)\r\n/);
    client.close();
  });

  it('follows APPENDs and refuses one over the limit with OVERQUOTA', async () => {
    const account = await newAccount(server, 2048);
    const client = await loggedIn(account);
    const message = `Subject: big\r\n\r\n${'x'.repeat(1500)}\r\n`;
    const size = Buffer.byteLength(message);
    expect(await client.command('a1', `APPEND INBOX {${size}+}\r\n${message}`)).toMatch(
      /^a1 OK \[APPENDUID /m,
    );
    expect(await client.command('q1', 'GETQUOTA ""')).toMatch(/^\* QUOTA "" \(STORAGE 2 2\)\r\n/);
    expect(await client.command('a2', `APPEND INBOX {${size}+}\r\n${message}`)).toMatch(
      /^a2 NO \[OVERQUOTA\] /m,
    );
    client.close();
  });
});
