/**
 * A login turned away because too many others from the same address are already waiting for the
 * login guard is a temporary refusal (RFC 5530 UNAVAILABLE, RFC 3206 SYS/TEMP), not a wrong
 * password: a client seeing AUTHENTICATIONFAILED would ask its user to retype a correct password.
 *
 * The guard admits `address_failure_limit` attempts at once minus the failures already counted;
 * with a limit of 2 and one failure, one login is admitted and sits in its (long) delay, the next
 * MAX_WAITERS wait for it, and every login after those is refused at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_WAITERS } from '../../server/auth/login-guard.ts';
import { RawImap } from '../helpers/imap-raw.ts';
import { Pop3Client } from '../helpers/pop3.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const USER = 'dana@example.com';
const PASSWORD = 'correct horse battery';

describe('logins over the waiting limit of one address', () => {
  let test: TestServer;
  const clients: RawImap[] = [];

  beforeAll(async () => {
    test = await startTestServer({
      MALLARD_AUTH_ADDRESS_FAILURE_LIMIT: '2',
      MALLARD_AUTH_BASE_DELAY_MS: '60000',
      MALLARD_AUTH_MAX_DELAY_MS: '60000',
      MALLARD_AUTH_ACCOUNT_SLOWDOWN_AFTER: '1000',
      MALLARD_AUTH_ACCOUNT_ALERT_AFTER: '1000',
      MALLARD_LIMITS_MAX_CONNECTIONS_PER_ADDRESS: '1000',
      MALLARD_LIMITS_MAX_PRELOGIN_CONNECTIONS: '1000',
    });
    await test.addUser(USER, PASSWORD);
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await test?.stop();
  });

  it('answers NO [UNAVAILABLE] in IMAP and -ERR [SYS/TEMP] in POP3, not an authentication failure', async () => {
    const first = await RawImap.connect(test.imapPort);
    clients.push(first);
    const wrong = await first.command(`LOGIN ${USER} "not it"`);
    expect(`${wrong.status} ${wrong.text}`).toBe('NO [AUTHENTICATIONFAILED] Authentication failed');

    // One admitted (delayed a minute by the failure), MAX_WAITERS waiting, one refused at once.
    const logins = MAX_WAITERS + 2;
    for (let n = 0; n < logins; n++) clients.push(await RawImap.connect(test.imapPort));
    const answers = clients.slice(1).map((client, n) => {
      client.write(`b${n} LOGIN ${USER} "${PASSWORD}"\r\n`);
      return client.readTagged(`b${n}`, 60_000).then((result) => `${result.status} ${result.text}`);
    });
    expect(await Promise.race(answers)).toBe(
      'NO [UNAVAILABLE] Too many logins at once from your address, try again shortly',
    );

    const pop3 = await Pop3Client.open(test.pop3Port);
    expect(await pop3.command(`USER ${USER}`)).toMatch(/^\+OK/);
    expect(await pop3.command(`PASS ${PASSWORD}`)).toBe(
      '-ERR [SYS/TEMP] Too many logins at once from your address, try again shortly',
    );
    pop3.close();
  });
});
