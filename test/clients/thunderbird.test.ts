/**
 * Thunderbird (Debian's, headless) sets an account up from Mallard alone: its account-setup code
 * fetches the autoconfig file from Mallard's HTTPS server (the `.well-known` URL on the mail
 * domain, certificate checked against the local CA the profile trusts), creates the account from
 * what it read, downloads INBOX over IMAP with TLS and marks the message read, which Mallard then
 * reports as \Seen to another client.
 *
 * The search is the account wizard's own (FindConfig.parallelAutoDiscovery: disk, the ISP's
 * autoconfig, the ISP database, MX, Exchange autodiscover). The ISP's autoconfig is fetched from
 * port 443, which a test cannot take, so the ISP database URL (`mailnews.auto_config_url`, the next
 * source in order) points at the same `.well-known` file on Mallard's test port; the mail names
 * resolve to loopback through `network.dns.localDomains`.
 */
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { startThunderbird, thunderbirdMissing, type RunningThunderbird } from '../helpers/thunderbird.ts';

const DOMAIN = 'example.test';
const PUBLIC_NAME = `mail.${DOMAIN}`;
const USER = `ada@${DOMAIN}`;
const PASSWORD = 'a long test password';
const SUBJECT = 'Welcome to Mallard';

const missing = thunderbirdMissing();

interface SetUp {
  incoming: { type: string; hostname: string; port: number; socketType: number; username: string };
  outgoing: { hostname: string; port: number; socketType: number; username: string };
  subjects: string[];
}

/**
 * In Thunderbird's chrome context: what the account wizard does once the user typed address and
 * password (find the configuration, fill in the variables, create the account), then fetch INBOX
 * and mark what came in as read.
 */
const SET_UP_ACCOUNT = `
const [domain, email, password] = arguments;
const { FindConfig } = ChromeUtils.importESModule("resource:///modules/accountcreation/FindConfig.sys.mjs");
const { AccountConfig } = ChromeUtils.importESModule("resource:///modules/accountcreation/AccountConfig.sys.mjs");
const { CreateInBackend } = ChromeUtils.importESModule("resource:///modules/accountcreation/CreateInBackend.sys.mjs");
const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
// The account wizard's search: disk, the ISP's own autoconfig, the ISP database, MX, and
// Exchange autodiscover, all at once, the best source that answers winning.
const discovery = FindConfig.parallelAutoDiscovery(domain, email, new AbortController().signal, password);
let step = await discovery.next();
// Autodiscover may ask before sending the password to another host: the wizard's "no".
while (!step.done) step = await discovery.next({ acceptRedirect: false });
const found = step.value;
if (!found) throw new Error("Thunderbird found no configuration");
const config = found.copy();
AccountConfig.replaceVariables(config, "Ada", email, password);
config.rememberPassword = true;
const account = await CreateInBackend.createAccountInBackend(config);
const server = account.incomingServer;
const inbox = server.rootFolder.getFolderWithFlags(Ci.nsMsgFolderFlags.Inbox);
if (!inbox) throw new Error("the new account has no INBOX folder");
// Headers arrive after the update's URL has finished: wait for the first one to be added.
const added = new Promise((resolve) => {
  const listener = {
    msgAdded(header) {
      if (header.folder !== inbox) return;
      MailServices.mfn.removeListener(listener);
      resolve();
    },
  };
  MailServices.mfn.addListener(listener, MailServices.mfn.msgAdded);
});
await new Promise((resolve, reject) =>
  inbox.QueryInterface(Ci.nsIMsgImapMailFolder).updateFolderWithListener(null, {
    OnStartRunningUrl() {},
    OnStopRunningUrl(url, status) {
      if (status === 0) resolve();
      else reject(new Error("updating INBOX failed: 0x" + (status >>> 0).toString(16)));
    },
  }),
);
if (inbox.getTotalMessages(false) === 0) await added;
const headers = [...inbox.messages];
if (headers.length > 0) inbox.markMessagesRead(headers, true);
return {
  incoming: {
    type: config.incoming.type,
    hostname: config.incoming.hostname,
    port: config.incoming.port,
    socketType: config.incoming.socketType,
    username: config.incoming.username,
  },
  outgoing: {
    hostname: config.outgoing.hostname,
    port: config.outgoing.port,
    socketType: config.outgoing.socketType,
    username: config.outgoing.username,
  },
  subjects: headers.map((header) => header.mime2DecodedSubject),
};`;

async function seenFlags(server: TestServer): Promise<string[][]> {
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: server.imapsPort,
    secure: true,
    auth: { user: USER, pass: PASSWORD },
    logger: false,
    disableAutoIdle: true,
    tls: { rejectUnauthorized: false },
  });
  client.on('error', () => {});
  await client.connect();
  try {
    const lock = await client.getMailboxLock('INBOX', { readOnly: true });
    try {
      const flags: string[][] = [];
      for await (const message of client.fetch('1:*', { flags: true }))
        flags.push([...(message.flags ?? [])]);
      return flags;
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => {});
  }
}

describe.skipIf(missing !== null)(`Thunderbird ${missing ? `(skipped: ${missing})` : ''}`, () => {
  let server: TestServer;
  let thunderbird: RunningThunderbird;
  let webPort: number;

  beforeAll(async () => {
    server = await startTestServer({ MALLARD_HOSTNAME: PUBLIC_NAME });
    await server.addUser(USER, PASSWORD);
    const certificates = server.server.tls.certificates;
    certificates.createAuthority({ keyType: 'ecdsa', commonName: 'Thunderbird test CA' });
    certificates.issueServerCertificate({
      names: [PUBLIC_NAME, DOMAIN, `autoconfig.${DOMAIN}`],
      keyType: 'ecdsa',
      activate: true,
    });
    webPort = server.server.web.listeners[0]!.port;

    const client = new ImapFlow({
      host: '127.0.0.1',
      port: server.imapsPort,
      secure: true,
      auth: { user: USER, pass: PASSWORD },
      logger: false,
      tls: { rejectUnauthorized: false },
    });
    client.on('error', () => {});
    await client.connect();
    await client.append(
      'INBOX',
      `From: team@${DOMAIN}\r\nTo: ${USER}\r\nSubject: ${SUBJECT}\r\n\r\nHello Ada.\r\n`,
    );
    await client.logout();

    thunderbird = await startThunderbird({
      caPem: certificates.exportAuthority().pem,
      prefs: {
        'mailnews.auto_config_url': `https://{{domain}}:${webPort}/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=${encodeURIComponent(USER)}`,
        'network.dns.localDomains': [
          DOMAIN,
          PUBLIC_NAME,
          `autoconfig.${DOMAIN}`,
          `autodiscover.${DOMAIN}`,
        ].join(','),
      },
      timeoutMs: 90_000,
    });
  }, 180_000);

  afterAll(async () => {
    await thunderbird?.stop();
    await server?.stop();
  });

  it('configures the account from Mallard’s autoconfig, downloads INBOX over IMAPS and marks it read', async () => {
    const setUp = await thunderbird.run<SetUp>(SET_UP_ACCOUNT, DOMAIN, USER, PASSWORD);
    // What Mallard's autoconfig file says: its public name, its IMAPS port, SSL (Thunderbird's 3).
    expect(setUp.incoming).toEqual({
      type: 'imap',
      hostname: PUBLIC_NAME,
      port: server.imapsPort,
      socketType: 3,
      username: USER,
    });
    // And submission with implicit TLS for sending.
    const submission = server.server.submission.listeners.find((listener) => listener.implicitTls)!;
    expect(setUp.outgoing).toEqual({
      hostname: PUBLIC_NAME,
      port: submission.port,
      socketType: 3,
      username: USER,
    });
    expect(setUp.subjects).toEqual([SUBJECT]);
    await expect.poll(() => seenFlags(server), { timeout: 30_000, interval: 200 }).toEqual([['\\Seen']]);
  }, 120_000);
});
