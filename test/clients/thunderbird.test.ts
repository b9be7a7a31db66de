/**
 * Thunderbird (Debian's, headless) sets an account up from Mallard alone, as a user does: in the
 * account hub (File > New > Email Account) the test types a name and the address, Continue;
 * Thunderbird fetches the autoconfig file from Mallard's HTTPS server (the `.well-known` URL on
 * the mail domain, certificate checked against the local CA the profile trusts) and shows what it
 * found, Continue; the password, Continue, and Thunderbird checks it against Mallard and creates
 * the account. It then downloads INBOX over IMAP with TLS and the message is marked read, which
 * Mallard reports as \Seen to another client.
 *
 * The hub's search runs every source at once (disk, the ISP's autoconfig, the ISP database, MX,
 * Exchange autodiscover). The ISP's autoconfig is fetched from port 443, which a test cannot take,
 * so the ISP database URL (`mailnews.auto_config_url`, the next source in order) points at the same
 * `.well-known` file on Mallard's test port; the mail names resolve to loopback through
 * `network.dns.localDomains`.
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
  found: string;
  incoming: { type: string; hostname: string; port: number; socketType: number; username: string };
  outgoing: { hostname: string; port: number; socketType: number; username: string };
  subjects: string[];
}

/**
 * In Thunderbird's chrome context: the account hub filled in and continued like a user does, then
 * INBOX fetched and what came in marked read. `until` waits for what the hub shows next (each
 * wait is dumped to Thunderbird's output, which a failure prints).
 */
const SET_UP_ACCOUNT = `
const [email, password] = arguments;
const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
const window = Services.wm.getMostRecentWindow("mail:3pane");
const pause = () => new Promise((resolve) => window.setTimeout(resolve, 100));
async function until(what, probe, ms = 30000) {
  dump("thunderbird test: waiting for " + what + "\\n");
  const end = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > end) throw new Error("timed out waiting for " + what);
    await pause();
  }
}

// The account hub (File > New > Email Account): name and address, Continue.
await window.openAccountHub("MAIL");
const hub = window.document.querySelector("account-hub-container").modal;
const shown = (selector) => {
  const element = hub.querySelector(selector);
  return element && !element.closest("[hidden]") ? element : null;
};
const type = (input, value) => {
  input.focus();
  input.value = value;
  input.dispatchEvent(new window.Event("input", { bubbles: true }));
};
const forward = () =>
  until("an enabled Continue button", () => {
    const button = hub.querySelector("#forward");
    return button && !button.hidden && !button.disabled ? button : null;
  });
type(await until("the name field", () => shown("#realName")), "Ada");
type(shown("#email"), email);
(await forward()).click();
// The configuration Thunderbird found, shown to the user: Continue.
const found = await until("the configuration found", () => shown("#emailConfigFoundSubview"));
const foundText = found.textContent.replace(/\\s+/g, " ");
(await forward()).click();
// The password, then Continue: Thunderbird checks it against the server and creates the account.
type(await until("the password field", () => shown("#emailPasswordSubview #password")), password);
(await forward()).click();
const account = await until("the new account", () =>
  MailServices.accounts.accounts.find((candidate) => candidate.incomingServer.type === "imap"),
);
const server = account.incomingServer;
const inbox = await until("the INBOX folder", () => server.rootFolder.getFolderWithFlags(Ci.nsMsgFolderFlags.Inbox));
// Thunderbird fetches the new account's INBOX by itself; ask once more, in case it has not yet.
inbox.updateFolder(null);
await until("the message in INBOX", () => inbox.getTotalMessages(false) > 0);
const headers = [...inbox.messages];
if (headers.length > 0) inbox.markMessagesRead(headers, true);
const outgoing = MailServices.outgoingServer.getServerByKey(account.defaultIdentity.smtpServerKey).QueryInterface(Ci.nsISmtpServer);
return {
  found: foundText,
  incoming: {
    type: server.type,
    hostname: new URL(server.serverURI).hostname,
    port: server.port,
    socketType: server.socketType,
    username: server.username,
  },
  outgoing: {
    hostname: outgoing.hostname,
    port: outgoing.port,
    socketType: outgoing.socketType,
    username: outgoing.username,
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

  it('sets the account up in the account hub from Mallard’s autoconfig, downloads INBOX and marks it read', async () => {
    const setUp = await thunderbird.run<SetUp>(SET_UP_ACCOUNT, USER, PASSWORD).catch((error: Error) => {
      const steps = thunderbird.output().match(/^thunderbird test: .*$/gm) ?? [];
      throw new Error(`${error.message}\nsteps:\n${steps.join('\n')}`);
    });
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
    // What the account hub showed the user before the password was asked for.
    expect(setUp.found).toContain(
      `Incoming imap Server: ${PUBLIC_NAME} Port: ${server.imapsPort} Security: SSL/TLS Username: ${USER}`,
    );
    expect(setUp.found).toContain(`Outgoing smtp Server: ${PUBLIC_NAME} Port: ${submission.port}`);
    expect(setUp.subjects).toEqual([SUBJECT]);
    await expect.poll(() => seenFlags(server), { timeout: 30_000, interval: 200 }).toEqual([['\\Seen']]);
  }, 240_000);
});
