/**
 * Sieve reject after acceptance (SMTP with several recipients: the dialogue cannot refuse one of
 * them) sends the sender an MDN (RFC 5429 2.1.1, RFC 3798) through the outbound queue. The queued
 * message is read back and parsed by Python's email package, an independent MIME parser: a
 * multipart/report with the human part, the disposition notification and the refused header.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { newAccount } from '../helpers/mail-fixtures.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { python, SmtpLineClient } from './clients.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const PARSE = `
import email, json, sys
from email import policy
raw = json.load(sys.stdin).encode('utf-8')
message = email.message_from_bytes(raw, policy=policy.compat32)
parts = message.get_payload()
def fields(text):
    return dict((line.split(':', 1)[0].strip(), line.split(':', 1)[1].strip())
                for line in text.strip().splitlines() if ':' in line)
notification = parts[1].get_payload()
if isinstance(notification, list):
    notification = ''.join(str(part) for part in notification)
print(json.dumps({
    'from': message['From'], 'to': message['To'], 'auto_submitted': message['Auto-Submitted'],
    'in_reply_to': message['In-Reply-To'], 'type': message.get_content_type(),
    'report_type': message.get_param('report-type'),
    'part_types': [part.get_content_type() for part in parts],
    'human': parts[0].get_payload(decode=True).decode('utf-8'),
    'notification': fields(notification),
    'original_header': parts[2].get_payload(),
}))
`;

it('queues an RFC 3798 MDN to the sender: human part, disposition notification, original header', async () => {
  const rejecting = await newAccount(server);
  await server.server.store.putSieveScript(
    rejecting.userId,
    'main',
    'require "reject";\nreject "No newsletters, please.";\n',
  );
  await server.server.store.activateSieveScript(rejecting.userId, 'main');
  const other = await newAccount(server);
  const original = [
    'From: News <news@remote.test>',
    `To: ${rejecting.username}, ${other.username}`,
    'Subject: Weekly news',
    'Message-ID: <weekly-42@remote.test>',
    '',
    'This week...',
    '',
  ].join('\r\n');
  const { client } = await SmtpLineClient.connect(server.smtpPort);
  try {
    await client.command('EHLO client.test');
    expect(await client.command('MAIL FROM:<news@remote.test>')).toMatch(/^250 /);
    expect(await client.command(`RCPT TO:<${rejecting.username}>`)).toMatch(/^250 /);
    expect(await client.command(`RCPT TO:<${other.username}>`)).toMatch(/^250 /);
    expect(await client.data(Buffer.from(original))).toEqual([expect.stringMatching(/^250 /)]);
  } finally {
    client.close();
  }
  const [queued] = (await server.server.store.listOutbound()).filter((entry) =>
    entry.recipients.some((recipient) => recipient.address === 'news@remote.test'),
  );
  expect(queued?.sender).toBe('');
  const raw = (await server.server.store.readOutboundRaw(queued!.id)).toString('utf8');
  const mdn = await python<{
    from: string;
    to: string;
    auto_submitted: string;
    in_reply_to: string;
    type: string;
    report_type: string;
    part_types: string[];
    human: string;
    notification: Record<string, string>;
    original_header: string;
  }>(PARSE, raw);
  expect(mdn.from).toBe(`<${rejecting.username}>`);
  expect(mdn.to).toBe('<news@remote.test>');
  expect(mdn.auto_submitted).toBe('auto-replied (rejected)');
  expect(mdn.in_reply_to).toBe('<weekly-42@remote.test>');
  expect(mdn.type).toBe('multipart/report');
  expect(mdn.report_type).toBe('disposition-notification');
  expect(mdn.part_types).toEqual(['text/plain', 'message/disposition-notification', 'text/rfc822-headers']);
  expect(mdn.human).toContain('No newsletters, please.');
  expect(mdn.notification).toEqual({
    'Reporting-UA': 'localhost; Mallard Sieve',
    'Final-Recipient': `rfc822; ${rejecting.username}`,
    'Original-Message-ID': '<weekly-42@remote.test>',
    Disposition: 'automatic-action/MDN-sent-automatically; deleted',
  });
  expect(mdn.original_header).toContain('Subject: Weekly news');
  expect(mdn.original_header).toContain('Message-ID: <weekly-42@remote.test>');
  expect(mdn.original_header).not.toContain('This week');
});
