/**
 * The device set-up files the panel makes in the browser (renderer/src/components/devices/
 * profiles.ts): the Apple profile must be a property list Python's plistlib (expat underneath)
 * reads back with the same values, and hostile names must stay text, never markup.
 */
import { describe, expect, it } from 'vitest';
import {
  escapeXml,
  mobileconfig,
  randomUuid,
  safeFileName,
  thunderbirdAutoconfig,
  type AccountSettings,
} from '../../renderer/src/components/devices/profiles.ts';
import { parsePlist, parseXml } from './plist-parse.ts';

interface XmlNode {
  tag: string;
  attrib: Record<string, string>;
  text: string;
  children: XmlNode[];
}

const account: AccountSettings = {
  hostname: 'mail.example.org',
  email: 'ada@example.org',
  displayName: 'Ada Lovelace',
  incoming: [
    { protocol: 'imap', port: 143, security: 'starttls' },
    { protocol: 'imap', port: 993, security: 'ssl' },
    { protocol: 'pop3', port: 995, security: 'ssl' },
    { protocol: 'pop3', port: 110, security: 'starttls' },
  ],
  outgoing: { hostname: 'smtp.provider.example', port: 587, security: 'starttls', authenticate: true },
};

type Payload = Record<string, unknown>;

function payloads(tree: Record<string, unknown>): Payload[] {
  return tree.PayloadContent as Payload[];
}

describe('mobileconfig', () => {
  it('is a property list with a com.apple.mail.managed payload for IMAP over implicit TLS', () => {
    const tree = parsePlist(mobileconfig({ account, accountType: 'imap' }));
    expect(tree.PayloadType).toBe('Configuration');
    expect(tree.PayloadVersion).toBe(1);
    const [mail, ...rest] = payloads(tree);
    expect(rest).toEqual([]);
    expect(mail).toMatchObject({
      PayloadType: 'com.apple.mail.managed',
      EmailAccountType: 'EmailTypeIMAP',
      EmailAddress: 'ada@example.org',
      EmailAccountName: 'Ada Lovelace',
      IncomingMailServerHostName: 'mail.example.org',
      IncomingMailServerPortNumber: 993,
      IncomingMailServerUseSSL: true,
      IncomingMailServerAuthentication: 'EmailAuthPassword',
      IncomingMailServerUsername: 'ada@example.org',
      OutgoingMailServerHostName: 'smtp.provider.example',
      OutgoingMailServerPortNumber: 587,
      OutgoingMailServerAuthentication: 'EmailAuthPassword',
      OutgoingPasswordSameAsIncomingPassword: true,
    });
    // No password unless the admin typed one.
    expect(mail).not.toHaveProperty('IncomingPassword');
    expect(mobileconfig({ account, accountType: 'imap' })).not.toContain('<key>IncomingPassword</key>');
  });

  it('uses POP3 when asked, and STARTTLS when that is the only way in', () => {
    const pop = payloads(parsePlist(mobileconfig({ account, accountType: 'pop3' })))[0]!;
    expect(pop).toMatchObject({ EmailAccountType: 'EmailTypePOP', IncomingMailServerPortNumber: 995 });
    const starttlsOnly = { ...account, incoming: [{ protocol: 'imap', port: 1143, security: 'starttls' }] };
    const imap = payloads(
      parsePlist(mobileconfig({ account: starttlsOnly as AccountSettings, accountType: 'imap' })),
    )[0]!;
    expect(imap.IncomingMailServerPortNumber).toBe(1143);
    expect(() => mobileconfig({ account: starttlsOnly as AccountSettings, accountType: 'pop3' })).toThrow(
      /no POP3 listener/,
    );
  });

  it('gives every payload its own random UUID, a fresh set each time', () => {
    const first = parsePlist(mobileconfig({ account, accountType: 'imap', caDerBase64: 'AAEC' }));
    const second = parsePlist(mobileconfig({ account, accountType: 'imap', caDerBase64: 'AAEC' }));
    const uuids = (tree: Record<string, unknown>) => [
      tree.PayloadUUID as string,
      ...payloads(tree).map((payload) => payload.PayloadUUID as string),
    ];
    const all = [...uuids(first), ...uuids(second)];
    expect(new Set(all).size).toBe(6);
    for (const uuid of all)
      expect(uuid).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
    expect(randomUuid()).not.toBe(randomUuid());
  });

  it('carries the local CA as a com.apple.security.root payload with the DER bytes', () => {
    const der = Buffer.from(Array.from({ length: 700 }, (_, i) => (i * 7) % 256));
    const tree = parsePlist(
      mobileconfig({ account, accountType: 'imap', caDerBase64: der.toString('base64') }),
    );
    const root = payloads(tree).find((payload) => payload.PayloadType === 'com.apple.security.root');
    expect(root).toBeDefined();
    const data = (root!.PayloadContent as { $data: string }).$data;
    expect(Buffer.from(data, 'base64').equals(der)).toBe(true);
  });

  it('includes the password only when one is given, escaped', () => {
    const password = 'p<a>&"ss\'</string><key>x';
    const tree = parsePlist(mobileconfig({ account, accountType: 'imap', password }));
    expect(payloads(tree)[0]!.IncomingPassword).toBe(password);
  });

  it('keeps hostile names as text: markup, entities and control characters', () => {
    const hostile: AccountSettings = {
      ...account,
      email: 'x</string><key>IncomingPassword</key><string>pwned@evil.example',
      displayName: 'Bobby <b>&amp; "Tables"\u0000\u0007\uFFFF\uD800 ]]> <!-- -->',
      hostname: 'mail.example.org"><evil/>',
    };
    const text = mobileconfig({ account: hostile, accountType: 'imap' });
    const tree = parsePlist(text);
    const mail = payloads(tree)[0]!;
    expect(mail.EmailAddress).toBe(hostile.email);
    expect(mail.EmailAccountName).toBe('Bobby <b>&amp; "Tables" ]]> <!-- -->');
    expect(mail.IncomingMailServerHostName).toBe(hostile.hostname);
    expect(mail).not.toHaveProperty('IncomingPassword');
    // The identifiers stay reverse-DNS shaped whatever the names hold.
    expect(tree.PayloadIdentifier).toMatch(/^[a-z0-9.-]+$/);
  });
});

describe('thunderbirdAutoconfig', () => {
  it('lists every way in, IMAP first and implicit TLS before STARTTLS, with %EMAILADDRESS%', () => {
    const root = parseXml(thunderbirdAutoconfig(account)) as XmlNode;
    expect(root.tag).toBe('clientConfig');
    expect(root.attrib.version).toBe('1.1');
    const provider = root.children[0]!;
    expect(provider.attrib.id).toBe('example.org');
    const field = (node: XmlNode, tag: string) => node.children.find((child) => child.tag === tag)?.text;
    const incoming = provider.children.filter((child) => child.tag === 'incomingServer');
    expect(
      incoming.map((server) => [server.attrib.type, field(server, 'port'), field(server, 'socketType')]),
    ).toEqual([
      ['imap', '993', 'SSL'],
      ['imap', '143', 'STARTTLS'],
      ['pop3', '995', 'SSL'],
      ['pop3', '110', 'STARTTLS'],
    ]);
    for (const server of incoming) {
      expect(field(server, 'hostname')).toBe('mail.example.org');
      expect(field(server, 'username')).toBe('%EMAILADDRESS%');
      expect(field(server, 'authentication')).toBe('password-cleartext');
    }
    const outgoing = provider.children.find((child) => child.tag === 'outgoingServer')!;
    expect(field(outgoing, 'hostname')).toBe('smtp.provider.example');
    expect(field(outgoing, 'socketType')).toBe('STARTTLS');
  });

  it('stays well-formed with hostile names', () => {
    const hostile = { ...account, email: 'a@b"/><x y="', hostname: '<script>&</script>' };
    const root = parseXml(thunderbirdAutoconfig(hostile)) as XmlNode;
    const provider = root.children[0]!;
    expect(provider.attrib.id).toBe('b"/><x y="');
    expect(provider.children.find((child) => child.tag === 'incomingServer')!.children[0]!.text).toBe(
      '<script>&</script>',
    );
  });
});

describe('helpers', () => {
  it('escapeXml escapes the five specials and drops characters XML cannot hold', () => {
    expect(escapeXml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&apos;y&apos;&gt;&amp;&lt;/a&gt;',
    );
    expect(escapeXml('a\u0000b\u001Fc\td\ne')).toBe('abc\td\ne');
    expect(escapeXml('ok 😀 \uD800 end')).toBe('ok 😀  end');
  });

  it('safeFileName keeps addresses readable and drops path characters', () => {
    expect(safeFileName('ada@example.org')).toBe('ada@example.org');
    expect(safeFileName('../../etc/passwd')).toBe('.._.._etc_passwd');
    expect(safeFileName('')).toBe('mail');
  });
});
