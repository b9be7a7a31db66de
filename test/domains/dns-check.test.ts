/**
 * The DNS records a domain publishes and "Check DNS", through the admin API, against dnsmasq on
 * loopback serving a zone that has every record right and one with the usual mistakes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminHarness, type AdminHarness } from '../admin/harness.ts';
import { startDnsmasq, type Dnsmasq } from '../helpers/dnsmasq.ts';

const HOST = 'mail.good.example';
const ADDRESS = '192.0.2.10';

let h: AdminHarness;
let dnsmasq: Dnsmasq | undefined;

interface Check {
  purpose: string;
  name: string;
  status: 'ok' | 'missing' | 'wrong';
  found: string[];
  expected: string;
  hint: string;
}

beforeAll(async () => {
  h = await startAdminHarness();
  h.server.config.hostname = HOST;
  for (const name of ['good.example', 'broken.example']) {
    expect((await h.call('POST', '/api/domains', { body: { name } })).status).toBe(201);
  }
  const good = (await h.call('GET', '/api/domains/good.example/dns')).body.records as Array<{
    purpose: string;
    name: string;
    type: string;
    value: string;
  }>;
  const txt = good.filter((record) => record.type === 'TXT').map(({ name, value }) => ({ name, value }));
  dnsmasq = await startDnsmasq({
    zones: ['good.example', 'broken.example'],
    a: [
      { name: HOST, address: ADDRESS },
      { name: 'autoconfig.broken.example', address: '198.51.100.7' },
    ],
    mx: [
      { domain: 'good.example', host: HOST, preference: 10 },
      { domain: 'broken.example', host: 'mx.elsewhere.example', preference: 10 },
    ],
    txt: [
      ...txt,
      { name: 'broken.example', value: 'v=spf1 +all' },
      {
        name: `${h.server.config.dkim.selector}._domainkey.broken.example`,
        value: 'v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAstale',
      },
      { name: '_mta-sts.broken.example', value: 'v=STSv1;' },
    ],
    srv: [
      ...['_imaps._tcp', '_submission._tcp', '_pop3s._tcp', '_imap._tcp', '_pop3._tcp'].map((service) => {
        const record = good.find((entry) => entry.name === `${service}.good.example`)!;
        const [priority, weight, port, target] = record.value.split(' ');
        return target === '.'
          ? { name: record.name }
          : {
              name: record.name,
              target: target!.replace(/\.$/, ''),
              port: Number(port),
              priority: Number(priority),
              weight: Number(weight),
            };
      }),
      { name: '_imaps._tcp.broken.example', target: HOST, port: 1993, priority: 0, weight: 1 },
    ],
    cname: [
      { name: 'autoconfig.good.example', target: HOST },
      { name: 'autodiscover.good.example', target: HOST },
    ],
  });
  h.server.config.dns.servers = [dnsmasq.server];
}, 120_000);

afterAll(async () => {
  await dnsmasq?.stop();
  await h?.stop();
});

const check = async (domain: string) => {
  const result = await h.call('POST', `/api/domains/${domain}/dns-check`);
  expect(result.status, JSON.stringify(result.body)).toBe(200);
  return result.body as { ok: boolean; checks: Check[] };
};

describe('DNS records of a domain', () => {
  it('lists every record to publish, ready to copy', async () => {
    const { body } = await h.call('GET', '/api/domains/good.example/dns');
    const byName = new Map(
      (body.records as Array<{ name: string; type: string; value: string }>).map((record) => [
        `${record.type} ${record.name}`,
        record.value,
      ]),
    );
    expect(byName.get('MX good.example')).toBe(`10 ${HOST}.`);
    expect(byName.get('TXT good.example')).toBe('v=spf1 mx -all');
    expect(byName.get(`TXT ${h.server.config.dkim.selector}._domainkey.good.example`)).toMatch(
      /^v=DKIM1; k=rsa; p=MII/,
    );
    expect(byName.get('TXT _dmarc.good.example')).toMatch(/^v=DMARC1; p=quarantine/);
    expect(byName.get('TXT _mta-sts.good.example')).toMatch(/^v=STSv1; id=\w+$/);
    expect(byName.get('TXT _smtp._tls.good.example')).toBe('v=TLSRPTv1; rua=mailto:postmaster@good.example');
    expect(byName.get('SRV _imaps._tcp.good.example')).toBe(`0 1 ${h.server.config.imap.tls_port} ${HOST}.`);
    expect(byName.get('SRV _submission._tcp.good.example')).toBe(
      `0 1 ${h.server.config.submission.port} ${HOST}.`,
    );
    expect(byName.get('CNAME autoconfig.good.example')).toBe(`${HOST}.`);
    expect(byName.get('CNAME autodiscover.good.example')).toBe(`${HOST}.`);
  });

  it('leaves the DKIM records out while signing is off for the domain', async () => {
    await h.call('PATCH', '/api/domains/good.example', { body: { dkim: false } });
    const { body } = await h.call('GET', '/api/domains/good.example/dns');
    expect(body.records.map((record: { purpose: string }) => record.purpose)).not.toContain('DKIM');
    await h.call('PATCH', '/api/domains/good.example', { body: { dkim: true } });
  });
});

describe('Check DNS', () => {
  it('finds every record of a zone that has them right, and the PTR of the mail host', async () => {
    const result = await check('good.example');
    const wrong = result.checks.filter((entry) => entry.status !== 'ok');
    expect(wrong, JSON.stringify(wrong, null, 2)).toEqual([]);
    expect(result.ok).toBe(true);
    const purposes = new Set(result.checks.map((entry) => entry.purpose));
    for (const purpose of [
      'MX',
      'SPF',
      'DKIM',
      'DMARC',
      'MTA-STS',
      'TLS-RPT',
      'SRV',
      'AUTOCONFIG',
      'AUTODISCOVER',
      'PTR',
    ]) {
      expect(purposes, purpose).toContain(purpose);
    }
    expect(result.checks.find((entry) => entry.purpose === 'PTR')).toMatchObject({
      name: ADDRESS,
      found: [`${HOST}.`],
    });
  });

  it('says what is missing or wrong in a broken zone, with a hint for each', async () => {
    const result = await check('broken.example');
    expect(result.ok).toBe(false);
    const of = (purpose: string, name?: string) =>
      result.checks.find(
        (entry) => entry.purpose === purpose && (name === undefined || entry.name === name),
      )!;
    expect(of('MX')).toMatchObject({ status: 'wrong', found: ['10 mx.elsewhere.example.'] });
    expect(of('MX').hint).toContain('mx.elsewhere.example');
    expect(of('SPF')).toMatchObject({ status: 'wrong', found: ['v=spf1 +all'] });
    expect(of('SPF').hint).toMatch(/\+all/);
    expect(of('DKIM').status).toBe('wrong');
    expect(of('DMARC')).toMatchObject({ status: 'missing', found: [] });
    expect(of('MTA-STS').status).toBe('wrong');
    expect(of('TLS-RPT').status).toBe('missing');
    expect(of('SRV', '_imaps._tcp.broken.example')).toMatchObject({
      status: 'wrong',
      found: [`0 1 1993 ${HOST}.`],
    });
    expect(of('SRV', '_submission._tcp.broken.example').status).toBe('missing');
    expect(of('AUTOCONFIG')).toMatchObject({ status: 'wrong', found: ['198.51.100.7'] });
    expect(of('AUTODISCOVER').status).toBe('missing');
    for (const entry of result.checks.filter((item) => item.status !== 'ok')) {
      expect(entry.hint.length, `${entry.purpose} ${entry.name}: ${entry.hint}`).toBeGreaterThan(30);
    }
  });

  it('answers 404 for a domain that is not local', async () => {
    expect((await h.call('POST', '/api/domains/nowhere.example/dns-check')).status).toBe(404);
  });
});
