/**
 * Trace header fields on every delivery path, as a client sees them over IMAP: LMTP (Python's
 * smtplib.LMTP), SMTP (smtplib) and `mallard deliver` (the real command, in its own process, on the
 * running server's store). Each recipient's copy carries Return-Path (the envelope sender, `<>` for
 * the null sender, replacing one that came with the message), Delivered-To and a Received naming
 * that recipient; every other byte is the message as sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MALLARD_BIN, ROOT } from '../helpers/cli.ts';
import { runProcess } from '../helpers/process.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { fetchOverImap, python, SmtpLineClient } from './clients.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  await server.addUser('alice@example.test', 'secret');
  await server.addUser('bob@example.test', 'secret');
});
afterAll(() => server.stop());

const DATE = String.raw`\w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}`;

/** A message that arrives with a Return-Path of its own (forged, or left by an earlier hop). */
function messageWithReturnPath(subject: string): { sent: Buffer; kept: Buffer } {
  const rest = `From: Sender <sender@remote.test>\r\nTo: alice@example.test\r\nSubject: ${subject}\r\n\r\nReturn-Path: <in-the-body@remote.test>\r\n`;
  return {
    sent: Buffer.from(`Return-Path: <forged@elsewhere.test>\r\n${rest}`),
    kept: Buffer.from(rest),
  };
}

/** The message as IMAP serves it, split into the trace fields we added and the rest. */
async function servedOverImap(
  user: string,
  uid: number,
  kept: Buffer,
): Promise<{ trace: string; rest: Buffer }> {
  const served = await fetchOverImap(server.imapPort, user, 'secret', uid);
  return {
    trace: served.subarray(0, served.length - kept.length).toString('utf8'),
    rest: served.subarray(served.length - kept.length),
  };
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** SMTP-in's sender authentication result and spam verdict, between Delivered-To and Received (LMTP has none). */
const AUTH_RESULTS = String.raw`Authentication-Results: localhost;\r\n(?:[ \t][^\r\n]*\r\n)+X-Spam-Flag: NO\r\nX-Spam-Score: -?\d+\.\d\r\nX-Spam-Status: No, [^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*`;

function networkTrace(sender: string, recipient: string, protocol: string, id = String.raw`\S+`): RegExp {
  return new RegExp(
    `^Return-Path: <${escape(sender)}>\r\n` +
      `Delivered-To: ${escape(recipient)}\r\n` +
      (protocol.startsWith('ESMTP') ? AUTH_RESULTS : '') +
      String.raw`Received: from client\.test \(\[127\.0\.0\.1\]\)` +
      `\r\n\tby localhost \\(Mallard\\) with ${protocol} id ${id}\r\n` +
      `\tfor <${escape(recipient)}>; ${DATE}\r\n$`,
  );
}

const smtplibScript = `
import json, smtplib, sys
a = json.load(sys.stdin)
lmtp = a['lmtp']
c = (smtplib.LMTP if lmtp else smtplib.SMTP)('127.0.0.1', a['port'], local_hostname='client.test')
c.ehlo('client.test')
c.mail(a['from'])
for r in a['to']:
    c.rcpt(r)
code, msg = c.data(a['message'].encode('latin-1'))
replies = [[code, msg.decode()]]
if lmtp:
    replies += [[x, y.decode()] for x, y in (c.getreply() for _ in a['to'][1:])]
c.quit()
print(json.dumps(replies))
`;

function smtplib(lmtp: boolean, from: string, to: string[], message: Buffer) {
  return python<Array<[number, string]>>(smtplibScript, {
    lmtp,
    port: lmtp ? server.lmtpPort : server.smtpPort,
    from,
    to,
    message: message.toString('latin1'),
  });
}

async function newestUid(user: string): Promise<number> {
  const store = server.server.store;
  const account = (await store.getUserByUsername(user))!;
  const inbox = (await store.getMailbox(account.id, 'INBOX'))!;
  return (await store.listMessages(inbox.id)).at(-1)!.uid;
}

describe('trace header fields', () => {
  it('LMTP (smtplib.LMTP): one copy per recipient, each naming its recipient, Return-Path replaced', async () => {
    const { sent, kept } = messageWithReturnPath('traced over lmtp');
    const replies = await smtplib(
      true,
      'sender@remote.test',
      ['alice@example.test', 'bob@example.test'],
      sent,
    );
    expect(replies.map(([code]) => code)).toEqual([250, 250]);
    for (const [index, user] of ['alice@example.test', 'bob@example.test'].entries()) {
      const uid = Number(/Saved as UID (\d+)/.exec(replies[index]![1])![1]);
      const { trace, rest } = await servedOverImap(user, uid, kept);
      expect(trace).toMatch(networkTrace('sender@remote.test', user, 'LMTP'));
      expect(rest.equals(kept)).toBe(true);
    }
  });

  it('LMTP: the null sender is Return-Path <>', async () => {
    const { sent, kept } = messageWithReturnPath('bounce over lmtp');
    const { client } = await SmtpLineClient.connect(server.lmtpPort);
    await client.command('LHLO client.test');
    expect(await client.command('MAIL FROM:<>')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<bob@example.test>')).toMatch(/^250 /);
    const [reply] = await client.data(sent);
    client.close();
    const uid = Number(/Saved as UID (\d+)/.exec(reply!)![1]);
    const { trace, rest } = await servedOverImap('bob@example.test', uid, kept);
    expect(trace).toMatch(networkTrace('', 'bob@example.test', 'LMTP'));
    expect(rest.equals(kept)).toBe(true);
  });

  it('SMTP (smtplib): each recipient copy has its own Delivered-To and "for"', async () => {
    const { sent, kept } = messageWithReturnPath('traced over smtp');
    const replies = await smtplib(
      false,
      'sender@remote.test',
      ['alice@example.test', 'bob@example.test'],
      sent,
    );
    const [code, text] = replies[0]!;
    expect(code).toBe(250);
    const id = escape(/delivered as (\S+)/.exec(text)![1]!);
    for (const user of ['alice@example.test', 'bob@example.test']) {
      const { trace, rest } = await servedOverImap(user, await newestUid(user), kept);
      expect(trace).toMatch(networkTrace('sender@remote.test', user, 'ESMTP', id));
      expect(rest.equals(kept)).toBe(true);
    }
  });

  describe('mallard deliver', () => {
    const deliver = (args: string[], message: Buffer) =>
      runProcess(process.execPath, [MALLARD_BIN, 'deliver', ...args], {
        cwd: ROOT,
        env: {
          ...process.env,
          MALLARD_CONFIG: '',
          MALLARD_DATA_DIR: server.config.data_dir,
          MALLARD_HOSTNAME: 'localhost',
          MALLARD_LOG_LEVEL: 'warn',
        },
        input: message,
      });

    function localTrace(sender: string, recipient: string): RegExp {
      return new RegExp(
        `^Return-Path: <${escape(sender)}>\r\n` +
          `Delivered-To: ${escape(recipient)}\r\n` +
          String.raw`Received: by localhost \(Mallard(, from userid \d+)?\)` +
          `\r\n\tid [0-9a-f]+\r\n\tfor <${escape(recipient)}>; ${DATE}\r\n$`,
      );
    }

    it('--from gives the Return-Path; each recipient gets its own copy', async () => {
      const { sent, kept } = messageWithReturnPath('traced by the cli');
      const result = await deliver(
        ['--from', 'sender@remote.test', 'alice@example.test', 'bob@example.test'],
        sent,
      );
      expect(result.status, result.stderr).toBe(0);
      const uids = [...result.stdout.matchAll(/delivered uid (\d+)/g)].map((match) => Number(match[1]));
      expect(uids).toHaveLength(2);
      for (const [index, user] of ['alice@example.test', 'bob@example.test'].entries()) {
        const { trace, rest } = await servedOverImap(user, uids[index]!, kept);
        expect(trace).toMatch(localTrace('sender@remote.test', user));
        expect(rest.equals(kept)).toBe(true);
      }
    });

    it('without --from keeps the sender of the message’s Return-Path (as dovecot-lda); --from "" is <>', async () => {
      const { sent, kept } = messageWithReturnPath('no --from');
      const plain = await deliver(['alice@example.test'], sent);
      expect(plain.status, plain.stderr).toBe(0);
      const first = await servedOverImap('alice@example.test', await newestUid('alice@example.test'), kept);
      expect(first.trace).toMatch(localTrace('forged@elsewhere.test', 'alice@example.test'));

      const bounce = await deliver(['--from', '', 'alice@example.test'], sent);
      expect(bounce.status, bounce.stderr).toBe(0);
      const second = await servedOverImap('alice@example.test', await newestUid('alice@example.test'), kept);
      expect(second.trace).toMatch(localTrace('', 'alice@example.test'));
      expect(second.rest.equals(kept)).toBe(true);
    });

    it('refuses a --from that would break the header', async () => {
      const result = await deliver(['--from', 'a>\r\nX-Evil: 1', 'alice@example.test'], Buffer.from('x\r\n'));
      expect(result.status).toBe(64);
      expect(result.stderr).toMatch(/--from: not an address/);
    });
  });
});
