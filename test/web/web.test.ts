/**
 * Mallard's HTTPS server for client set-up, over real TLS with a certificate from the local CA:
 * curl fetches (SNI and verification against the CA, as a client does), Python parses the XML and
 * the property list, openssl verifies the profile's CMS signature.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const run = promisify(execFile);
const DOMAIN = 'example.test';
const PUBLIC_NAME = 'mail.example.test';
const NAMES = [PUBLIC_NAME, DOMAIN, `autoconfig.${DOMAIN}`, `autodiscover.${DOMAIN}`, `mta-sts.${DOMAIN}`];

interface Fetched {
  status: number;
  headers: string;
  body: Buffer;
}

/** curl to `https://HOST:PORT/PATH`, HOST resolved to loopback, verified against `caFile`. */
async function curl(
  port: number,
  caFile: string,
  host: string,
  urlPath: string,
  extra: string[] = [],
): Promise<Fetched> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-web-'));
  const headerFile = path.join(dir, 'headers');
  const bodyFile = path.join(dir, 'body');
  const { stdout } = await run('curl', [
    '--silent',
    '--show-error',
    '--resolve',
    `${host}:${port}:127.0.0.1`,
    '--cacert',
    caFile,
    '--dump-header',
    headerFile,
    '--output',
    bodyFile,
    '--write-out',
    '%{http_code}',
    ...extra,
    `https://${host}:${port}${urlPath}`,
  ]);
  const fetched = {
    status: Number(stdout),
    headers: fs.readFileSync(headerFile, 'utf8').toLowerCase(),
    body: fs.readFileSync(bodyFile),
  };
  fs.rmSync(dir, { recursive: true, force: true });
  return fetched;
}

/** Runs a Python script with `input` on stdin; its stdout parsed as JSON. */
async function python(script: string, input: Buffer | string): Promise<unknown> {
  const child = execFile('python3', ['-c', script], { maxBuffer: 1 << 20 });
  child.stdin!.end(input);
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: string) => (out += chunk));
  child.stderr!.on('data', (chunk: string) => (err += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(code, err).toBe(0);
  return JSON.parse(out);
}

/** Thunderbird's config-v1.1.xml as Python's XML parser reads it. */
const READ_AUTOCONFIG = `
import sys, json, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.buffer.read())
assert root.tag == 'clientConfig' and root.get('version') == '1.1', root.tag
provider = root.find('emailProvider')
def server(node):
    return {child.tag: child.text for child in node} | {'type': node.get('type')}
print(json.dumps({
  'id': provider.get('id'),
  'domains': [d.text for d in provider.findall('domain')],
  'incoming': [server(n) for n in provider.findall('incomingServer')],
  'outgoing': [server(n) for n in provider.findall('outgoingServer')],
}))`;

const AUTODISCOVER_NS = 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006';
const OUTLOOK_NS = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a';

const READ_AUTODISCOVER = `
import sys, json, xml.etree.ElementTree as ET
A = '{${AUTODISCOVER_NS}}'
O = '{${OUTLOOK_NS}}'
root = ET.fromstring(sys.stdin.buffer.read())
assert root.tag == A + 'Autodiscover', root.tag
error = root.find(A + 'Response/' + A + 'Error')
if error is not None:
    print(json.dumps({'error': error.find(A + 'ErrorCode').text}))
    sys.exit(0)
response = root.find(O + 'Response')
account = response.find(O + 'Account')
print(json.dumps({
  'address': response.find(O + 'User/' + O + 'AutoDiscoverSMTPAddress').text,
  'type': account.find(O + 'AccountType').text,
  'action': account.find(O + 'Action').text,
  'protocols': [{c.tag[len(O):]: c.text for c in p} for p in account.findall(O + 'Protocol')],
}))`;

function autodiscoverRequest(address: string, schema = OUTLOOK_NS): string {
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">',
    '  <Request>',
    `    <EMailAddress>${address}</EMailAddress>`,
    `    <AcceptableResponseSchema>${schema}</AcceptableResponseSchema>`,
    '  </Request>',
    '</Autodiscover>',
  ].join('\n');
}

function issueCertificate(server: TestServer, keyType: 'rsa' | 'ecdsa', dir: string): string {
  const store = server.server.tls.certificates;
  store.createAuthority({
    keyType,
    ...(keyType === 'rsa' ? { rsaBits: 2048 } : {}),
    commonName: 'Web test CA',
  });
  store.issueServerCertificate({
    names: NAMES,
    keyType,
    ...(keyType === 'rsa' ? { rsaBits: 2048 } : {}),
    activate: true,
  });
  const caFile = path.join(dir, `${keyType}-ca.pem`);
  fs.writeFileSync(caFile, store.exportAuthority().pem);
  return caFile;
}

describe('the HTTPS server with every protocol on (RSA certificate)', () => {
  let server: TestServer;
  let dir: string;
  let caFile: string;
  let port: number;
  const get = (host: string, urlPath: string, extra: string[] = []) =>
    curl(port, caFile, host, urlPath, extra);

  beforeAll(async () => {
    server = await startTestServer({ MALLARD_HOSTNAME: PUBLIC_NAME });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-web-ca-'));
    await server.addUser(`alice@${DOMAIN}`, 'secret-password');
    caFile = issueCertificate(server, 'rsa', dir);
    port = server.server.web.listeners[0]!.port;
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers Thunderbird on autoconfig.<domain> with every listener in force, best first', async () => {
    const reply = await get(`autoconfig.${DOMAIN}`, `/mail/config-v1.1.xml?emailaddress=alice%40${DOMAIN}`);
    expect(reply.status).toBe(200);
    expect(reply.headers).toMatch(/^content-type: application\/xml/m);
    expect(reply.headers).toMatch(/^strict-transport-security: max-age=31536000/m);
    const config = await python(READ_AUTOCONFIG, reply.body);
    const imap = server.server.imap.listeners;
    const pop3 = server.server.pop3.listeners;
    const submission = server.server.submission.listeners;
    const portOf = (listeners: typeof imap, implicit: boolean) =>
      String(listeners.find((listener) => listener.implicitTls === implicit)!.port);
    const incoming = (type: string, listeners: typeof imap, implicit: boolean) => ({
      type,
      hostname: PUBLIC_NAME,
      port: portOf(listeners, implicit),
      socketType: implicit ? 'SSL' : 'STARTTLS',
      authentication: 'password-cleartext',
      username: '%EMAILADDRESS%',
    });
    const outgoing = (implicit: boolean) => ({ ...incoming('smtp', submission, implicit) });
    expect(config).toEqual({
      id: DOMAIN,
      domains: [DOMAIN],
      incoming: [
        incoming('imap', imap, true),
        incoming('imap', imap, false),
        incoming('pop3', pop3, true),
        incoming('pop3', pop3, false),
      ],
      outgoing: [outgoing(true), outgoing(false)],
    });
  });

  it('answers the .well-known path on the domain itself, with or without an address', async () => {
    const withAddress = await get(
      DOMAIN,
      `/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=alice@${DOMAIN}`,
    );
    expect(withAddress.status).toBe(200);
    const bare = await get(DOMAIN, '/.well-known/autoconfig/mail/config-v1.1.xml');
    expect(bare.status).toBe(200);
    expect(await python(READ_AUTOCONFIG, bare.body)).toMatchObject({ id: DOMAIN });
  });

  it('says 404 for a domain that is not ours, and 400 for an address that is not one', async () => {
    const stranger = await get(
      `autoconfig.${DOMAIN}`,
      '/mail/config-v1.1.xml?emailaddress=bob%40elsewhere.test',
    );
    expect(stranger.status).toBe(404);
    const otherHost = await get(PUBLIC_NAME, '/mail/config-v1.1.xml');
    expect(otherHost.status).toBe(404); // /mail/… is the autoconfig.<domain> host's path only
    const bad = await get(`autoconfig.${DOMAIN}`, '/mail/config-v1.1.xml?emailaddress=%3Cscript%3E');
    expect(bad.status).toBe(400);
  });

  it('answers Outlook autodiscover on both paths, echoing the address', async () => {
    for (const urlPath of ['/autodiscover/autodiscover.xml', '/Autodiscover/Autodiscover.xml']) {
      const reply = await get(`autodiscover.${DOMAIN}`, urlPath, [
        '--data-binary',
        autodiscoverRequest(`Alice@${DOMAIN}`),
        '-H',
        'content-type: text/xml',
      ]);
      expect(reply.status).toBe(200);
      expect(reply.headers).toMatch(/^content-type: text\/xml/m);
      const parsed = (await python(READ_AUTODISCOVER, reply.body)) as {
        protocols: Array<Record<string, string>>;
      };
      expect(parsed).toMatchObject({ address: `Alice@${DOMAIN}`, type: 'email', action: 'settings' });
      const imaps = server.server.imap.listeners.find((listener) => listener.implicitTls)!.port;
      const smtps = server.server.submission.listeners.find((listener) => listener.implicitTls)!.port;
      const starttls = server.server.submission.listeners.find((listener) => !listener.implicitTls)!.port;
      expect(parsed.protocols.map((p) => [p.Type, Number(p.Port), p.Encryption])).toEqual([
        ['IMAP', imaps, 'SSL'],
        ['IMAP', server.imapPort, 'TLS'],
        ['POP3', server.pop3sPort, 'SSL'],
        ['POP3', server.pop3Port, 'TLS'],
        ['SMTP', smtps, 'SSL'],
        ['SMTP', starttls, 'TLS'],
      ]);
      for (const protocol of parsed.protocols) {
        expect(protocol).toMatchObject({
          Server: PUBLIC_NAME,
          LoginName: `Alice@${DOMAIN}`,
          AuthRequired: 'on',
        });
      }
    }
  });

  it('answers a GET, another schema or a garbled request with Exchange’s error 600', async () => {
    const getReply = await get(`autodiscover.${DOMAIN}`, '/autodiscover/autodiscover.xml');
    expect(await python(READ_AUTODISCOVER, getReply.body)).toEqual({ error: '600' });
    const mobile = await get(`autodiscover.${DOMAIN}`, '/autodiscover/autodiscover.xml', [
      '--data-binary',
      autodiscoverRequest(
        `alice@${DOMAIN}`,
        'http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006',
      ),
    ]);
    expect(await python(READ_AUTODISCOVER, mobile.body)).toEqual({ error: '600' });
    const garbled = await get(`autodiscover.${DOMAIN}`, '/autodiscover/autodiscover.xml', [
      '--data-binary',
      'hello',
    ]);
    expect(await python(READ_AUTODISCOVER, garbled.body)).toEqual({ error: '600' });
    const stranger = await get(`autodiscover.${DOMAIN}`, '/autodiscover/autodiscover.xml', [
      '--data-binary',
      autodiscoverRequest('bob@elsewhere.test'),
    ]);
    expect(stranger.status).toBe(404);
  });

  it('refuses a body over the limit with 413', async () => {
    const big = path.join(dir, 'big.xml');
    fs.writeFileSync(big, 'x'.repeat(64 * 1024));
    const reply = await get(`autodiscover.${DOMAIN}`, '/autodiscover/autodiscover.xml', [
      '--data-binary',
      `@${big}`,
    ]);
    expect(reply.status).toBe(413);
  });

  it('serves a signed Apple profile without a password, verified by openssl against the CA', async () => {
    const reply = await get(PUBLIC_NAME, `/apple/mobileconfig?emailaddress=alice%40${DOMAIN}`);
    expect(reply.status).toBe(200);
    expect(reply.headers).toMatch(/^content-type: application\/x-apple-aspen-config/m);
    expect(reply.headers).toContain(`filename="alice@${DOMAIN}.mobileconfig"`);
    const signed = path.join(dir, 'profile.p7');
    fs.writeFileSync(signed, reply.body);
    const { stdout: content } = await run('openssl', [
      'cms',
      '-verify',
      '-inform',
      'DER',
      '-in',
      signed,
      '-CAfile',
      caFile,
      '-purpose',
      'any',
    ]);
    const profile = (await python(
      `import sys, json, plistlib
p = plistlib.loads(sys.stdin.buffer.read())
print(json.dumps(p))`,
      content,
    )) as { PayloadType: string; PayloadContent: Array<Record<string, unknown>> };
    expect(profile.PayloadType).toBe('Configuration');
    const mail = profile.PayloadContent.find((payload) => payload.PayloadType === 'com.apple.mail.managed')!;
    expect(mail).toMatchObject({
      EmailAddress: `alice@${DOMAIN}`,
      EmailAccountType: 'EmailTypeIMAP',
      IncomingMailServerHostName: PUBLIC_NAME,
      IncomingMailServerPortNumber: server.imapsPort,
      IncomingMailServerUseSSL: true,
      OutgoingMailServerHostName: PUBLIC_NAME,
      OutgoingMailServerPortNumber: server.server.submission.listeners.find((l) => l.implicitTls)!.port,
      OutgoingMailServerAuthentication: 'EmailAuthPassword',
    });
    expect(JSON.stringify(profile)).not.toMatch(/Password"\s*:\s*"/);
    expect(mail).not.toHaveProperty('IncomingPassword');
    // A tampered profile fails verification.
    const tampered = Buffer.from(reply.body);
    const at = tampered.indexOf(Buffer.from(PUBLIC_NAME));
    tampered[at] = 'x'.charCodeAt(0);
    fs.writeFileSync(signed, tampered);
    await expect(
      run('openssl', [
        'cms',
        '-verify',
        '-inform',
        'DER',
        '-in',
        signed,
        '-CAfile',
        caFile,
        '-purpose',
        'any',
      ]),
    ).rejects.toThrow();
  });

  it('serves the MTA-STS policy on mta-sts.<domain> only', async () => {
    const reply = await get(`mta-sts.${DOMAIN}`, '/.well-known/mta-sts.txt');
    expect(reply.status).toBe(200);
    expect(reply.headers).toMatch(/^content-type: text\/plain/m);
    expect(reply.body.toString()).toBe(
      `version: STSv1\r\nmode: testing\r\nmx: ${PUBLIC_NAME}\r\nmax_age: 604800\r\n`,
    );
    expect((await get(PUBLIC_NAME, '/.well-known/mta-sts.txt')).status).toBe(404);
  });

  it('says 404 to anything else and 405 to other methods, with no listing', async () => {
    expect((await get(PUBLIC_NAME, '/')).status).toBe(404);
    expect((await get(PUBLIC_NAME, '/.well-known/')).status).toBe(404);
    expect((await get(PUBLIC_NAME, '/../../etc/passwd', ['--path-as-is'])).status).toBe(404);
    const put = await get(`mta-sts.${DOMAIN}`, '/.well-known/mta-sts.txt', ['-X', 'DELETE']);
    expect(put.status).toBe(405);
    expect(put.headers).toMatch(/^allow: get$/m);
  });
});

describe('the HTTPS server with POP3 off and an ECDSA certificate', () => {
  let server: TestServer;
  let dir: string;
  let caFile: string;
  let port: number;

  beforeAll(async () => {
    server = await startTestServer({
      MALLARD_HOSTNAME: PUBLIC_NAME,
      MALLARD_POP3_ENABLED: 'false',
      MALLARD_WEB_MTA_STS_MODE: 'enforce',
    });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-web-ca-'));
    await server.addUser(`alice@${DOMAIN}`, 'secret-password');
    caFile = issueCertificate(server, 'ecdsa', dir);
    port = server.server.web.listeners[0]!.port;
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('leaves the disabled protocol out of autoconfig', async () => {
    const reply = await curl(
      port,
      caFile,
      `autoconfig.${DOMAIN}`,
      `/mail/config-v1.1.xml?emailaddress=alice%40${DOMAIN}`,
    );
    const config = (await python(READ_AUTOCONFIG, reply.body)) as { incoming: Array<{ type: string }> };
    expect(config.incoming.map((server) => server.type)).toEqual(['imap', 'imap']);
  });

  it('serves the Apple profile unsigned', async () => {
    const reply = await curl(port, caFile, PUBLIC_NAME, `/apple/mobileconfig?emailaddress=alice%40${DOMAIN}`);
    expect(reply.status).toBe(200);
    expect(reply.body.toString('utf8', 0, 5)).toBe('<?xml');
    const profile = (await python(
      'import sys, json, plistlib\nprint(json.dumps(plistlib.loads(sys.stdin.buffer.read())))',
      reply.body,
    )) as { PayloadContent: Array<Record<string, unknown>> };
    expect(profile.PayloadContent[0]).toMatchObject({ EmailAddress: `alice@${DOMAIN}` });
  });

  it('says enforce in the MTA-STS policy when configured', async () => {
    const reply = await curl(port, caFile, `mta-sts.${DOMAIN}`, '/.well-known/mta-sts.txt');
    expect(reply.body.toString()).toContain('\r\nmode: enforce\r\n');
  });
});
