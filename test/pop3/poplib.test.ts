/**
 * Python's poplib against Mallard: STLS, USER/PASS, STAT/LIST/UIDL/RETR/TOP/DELE/RSET/NOOP/QUIT,
 * implicit TLS with AUTH PLAIN, [IN-USE], and pipelined commands sent in one write over a raw
 * socket. The script prints what it saw as JSON; the checks are here.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { message, pop3Account, unstuff } from '../helpers/pop3.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'clients', 'poplib_session.py');

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

interface PoplibOutput {
  welcome: string;
  capa_plain: string[];
  capa_tls: string[];
  stat: [number, number];
  list: string[];
  list_1: string;
  uidl: string[];
  messages: Array<{ status: string; octets: number; data: string }>;
  top_1_0: string;
  noop: string;
  dele_2: string;
  retr_deleted: string;
  rset: string;
  dele_1: string;
  quit: string;
  auth_plain: string;
  stat_after: [number, number];
  uidl_after: string[];
  in_use: string;
  pipelined: string;
  pipelined_commands: string[];
}

/** Splits a raw transcript into one answer per command (multi-line answers with their body). */
function splitAnswers(raw: string, commands: string[]): string[] {
  const multiline = (command: string) =>
    /^(CAPA|LIST|UIDL|RETR|TOP)$/.test(command.split(' ')[0]!) && !/^(LIST|UIDL) \d/.test(command);
  const answers: string[] = [];
  let rest = raw.slice(raw.indexOf('\r\n') + 2); // the greeting
  for (const command of commands) {
    const lineEnd = rest.indexOf('\r\n') + 2;
    let end = lineEnd;
    if (multiline(command) && rest.startsWith('+OK')) {
      end = rest.slice(lineEnd - 2).indexOf('\r\n.\r\n') + lineEnd - 2 + 5;
    }
    answers.push(rest.slice(0, end));
    rest = rest.slice(end);
  }
  expect(rest).toBe('');
  return answers;
}

it('works with poplib, over STLS and implicit TLS, and with pipelined commands', async () => {
  const stored = [
    message('first', 'Plain body.\r\n'),
    Buffer.from('Subject: second\n\n.starts with a dot\n..two dots\n.\nend\n'),
    message('third', `${'long line '.repeat(100)}\r\n\r\n.\r\n`),
  ];
  const account = await pop3Account(server, stored);
  const inbox = (await server.server.store.getMailbox(account.userId, 'INBOX'))!;
  const { stdout } = await promisify(execFile)(
    'python3',
    [
      SCRIPT,
      '127.0.0.1',
      String(server.pop3Port),
      String(server.pop3sPort),
      account.username,
      account.password,
    ],
    { timeout: 60_000 },
  );
  const out = JSON.parse(stdout) as PoplibOutput;
  const crlf = stored.map((raw) => Buffer.from(raw.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1'));

  expect(out.welcome).toBe('+OK Mallard POP3 ready');
  expect(out.capa_plain).toEqual([
    'AUTH-RESP-CODE',
    'EXPIRE',
    'IMPLEMENTATION',
    'PIPELINING',
    'RESP-CODES',
    'SASL',
    'STLS',
    'TOP',
    'UIDL',
    'USER',
  ]);
  expect(out.capa_tls).not.toContain('STLS');
  expect(out.stat).toEqual([3, crlf.reduce((sum, raw) => sum + raw.length, 0)]);
  expect(out.list).toEqual(crlf.map((raw, index) => `${index + 1} ${raw.length}`));
  expect(out.list_1).toBe(`+OK 1 ${crlf[0]!.length}`);
  expect(out.uidl).toEqual([1, 2, 3].map((uid) => `${uid} ${inbox.uidValidity}-${uid}`));
  out.messages.forEach((retrieved, index) => {
    expect(retrieved.status).toBe(`+OK ${crlf[index]!.length} octets`);
    expect(Buffer.from(retrieved.data, 'base64')).toEqual(crlf[index]);
  });
  expect(Buffer.from(out.top_1_0, 'base64').toString()).toBe(
    'From: sender@example.test\r\nTo: rcpt@example.test\r\nSubject: first\r\n\r\n',
  );
  expect(out.noop).toBe('+OK Done');
  expect(out.dele_2).toBe('+OK Message 2 deleted');
  expect(out.retr_deleted).toBe('-ERR Message 2 is deleted');
  expect(out.rset).toMatch(/^\+OK Maildrop has 3 messages/);
  expect(out.quit).toBe('+OK Bye, 1 messages deleted');

  expect(out.auth_plain).toBe('+OK Logged in');
  expect(out.stat_after).toEqual([2, crlf[1]!.length + crlf[2]!.length]);
  expect(out.uidl_after).toEqual([`1 ${inbox.uidValidity}-2`, `2 ${inbox.uidValidity}-3`]);
  expect(out.in_use).toBe('-ERR [IN-USE] Mailbox is locked by another POP3 session');

  const answers = splitAnswers(
    Buffer.from(out.pipelined, 'base64').toString('latin1'),
    out.pipelined_commands,
  );
  const byCommand = Object.fromEntries(
    out.pipelined_commands.map((command, index) => [command.split(' ')[0], answers[index]!]),
  );
  expect(byCommand.CAPA).toMatch(/^\+OK Capability list follows\r\n/);
  expect(byCommand.USER).toBe('+OK Send your password\r\n');
  expect(byCommand.PASS).toBe('+OK Logged in\r\n');
  expect(byCommand.STAT).toBe(`+OK 2 ${crlf[1]!.length + crlf[2]!.length}\r\n`);
  expect(byCommand.LIST).toBe(
    `+OK 2 messages (${crlf[1]!.length + crlf[2]!.length} octets)\r\n1 ${crlf[1]!.length}\r\n2 ${crlf[2]!.length}\r\n.\r\n`,
  );
  expect(byCommand.UIDL).toBe(
    `+OK Unique-ID listing follows\r\n1 ${inbox.uidValidity}-2\r\n2 ${inbox.uidValidity}-3\r\n.\r\n`,
  );
  const retr = byCommand.RETR!;
  const body = retr.slice(retr.indexOf('\r\n') + 2, -3);
  expect(retr.startsWith(`+OK ${crlf[1]!.length} octets\r\n`)).toBe(true);
  expect(body).toContain('\r\n..starts with a dot\r\n...two dots\r\n..\r\nend\r\n');
  expect(unstuff(Buffer.from(body, 'latin1'))).toEqual(crlf[1]);
  expect(byCommand.TOP).toMatch(
    /^\+OK Top of message follows\r\n[^]*Subject: third\r\n\r\nlong line [^\r]*\r\n\.\r\n$/,
  );
  expect(byCommand.DELE).toBe('+OK Message 1 deleted\r\n');
  expect(byCommand.NOOP).toBe('+OK Done\r\n');
  expect(byCommand.RSET).toMatch(/^\+OK Maildrop has 2 messages/);
  expect(byCommand.QUIT).toBe('+OK Bye, 0 messages deleted\r\n');

  // Only message 1 was deleted for good (the first session's QUIT).
  expect((await server.server.store.listMessages(account.inboxId)).map((summary) => summary.uid)).toEqual([
    2, 3,
  ]);
});
