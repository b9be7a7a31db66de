/**
 * "Check DNS": what the configured resolver finds for each record a domain should publish
 * (records.ts), with a verdict and a hint for the person fixing the zone — after Mail-in-a-Box's
 * status checks. Also the reverse name (PTR) of the mail host's addresses, which receivers check.
 */
import dns from 'node:dns';
import type { DnsRecord } from './records.ts';

export type CheckStatus = 'ok' | 'missing' | 'wrong';

export interface RecordCheck {
  purpose: DnsRecord['purpose'] | 'PTR';
  name: string;
  type: DnsRecord['type'] | 'PTR';
  expected: string;
  /** What the resolver answered, one entry per record ([] for none). */
  found: string[];
  status: CheckStatus;
  /** What to do about it; "" when ok. */
  hint: string;
}

const ABSENT = new Set(['ENOTFOUND', 'ENODATA', dns.NOTFOUND, dns.NODATA]);

/** A resolver on `servers` (the system's when empty). */
export function checkResolver(servers: readonly string[], timeoutMs = 3000): dns.promises.Resolver {
  const resolver = new dns.promises.Resolver({ timeout: timeoutMs, tries: 2 });
  if (servers.length > 0) resolver.setServers([...servers]);
  return resolver;
}

/** The answers, [] when the name or the type has none; other failures (timeouts) throw. */
async function answers<T>(query: () => Promise<T[]>): Promise<T[]> {
  try {
    return await query();
  } catch (error) {
    if (ABSENT.has((error as { code?: string }).code ?? '')) return [];
    throw error;
  }
}

const bare = (name: string) => name.toLowerCase().replace(/\.$/, '');

export async function checkRecords(
  resolver: dns.promises.Resolver,
  records: readonly DnsRecord[],
  hostname: string,
): Promise<RecordCheck[]> {
  const checks = await Promise.all(records.map((record) => checkOne(resolver, record, hostname)));
  return [...checks, ...(await checkPtr(resolver, hostname))];
}

async function checkOne(
  resolver: dns.promises.Resolver,
  record: DnsRecord,
  host: string,
): Promise<RecordCheck> {
  const result = (found: string[], status: CheckStatus, hint = ''): RecordCheck => ({
    purpose: record.purpose,
    name: record.name,
    type: record.type,
    expected: record.value,
    found,
    status,
    hint: status === 'ok' ? '' : hint,
  });
  try {
    switch (record.type) {
      case 'MX': {
        const found = (await answers(() => resolver.resolveMx(record.name))).map(
          (mx) => `${mx.priority} ${bare(mx.exchange)}.`,
        );
        if (found.length === 0)
          return result(
            found,
            'missing',
            `Add an MX record for ${record.name} pointing at ${host}: without it, other servers deliver to the domain's own address or not at all.`,
          );
        const ours = found.some((entry) => entry.split(' ')[1] === `${bare(host)}.`);
        return ours
          ? result(found, 'ok')
          : result(
              found,
              'wrong',
              `The MX points elsewhere: mail for ${record.name} goes to ${found.join(', ')}, not to ${host}.`,
            );
      }
      case 'TXT':
        return checkTxt(record, await answers(() => resolver.resolveTxt(record.name)), result);
      case 'SRV': {
        const found = (await answers(() => resolver.resolveSrv(record.name))).map(
          (entry) => `${entry.priority} ${entry.weight} ${entry.port} ${bare(entry.name) || ''}.`,
        );
        const [, , port, target] = record.value.split(' ');
        if (found.length === 0)
          return result(
            found,
            'missing',
            `Add the SRV record ${record.name} so that mail clients find the service by themselves (RFC 6186).`,
          );
        const matches = found.some((entry) => {
          const [, , foundPort, foundTarget] = entry.split(' ');
          return target === '.' ? foundTarget === '.' : foundPort === port && foundTarget === target;
        });
        return matches
          ? result(found, 'ok')
          : result(
              found,
              'wrong',
              target === '.'
                ? `The service is not offered: publish target "." so clients do not try it.`
                : `Clients would look for the service at ${found.join(', ')}; it is on ${target} port ${port}.`,
            );
      }
      case 'CNAME': {
        const cnames = (await answers(() => resolver.resolveCname(record.name))).map(
          (name) => `${bare(name)}.`,
        );
        if (cnames.includes(`${bare(host)}.`)) return result(cnames, 'ok');
        // An A record with the mail host's address serves as well.
        const [own, theirs] = await Promise.all([
          answers(() => resolver.resolve4(record.name)),
          answers(() => resolver.resolve4(host)),
        ]);
        const found = cnames.length > 0 ? cnames : own;
        if (own.length > 0 && own.some((address) => theirs.includes(address))) return result(found, 'ok');
        if (found.length === 0)
          return result(
            found,
            'missing',
            `Add ${record.name} as a CNAME of ${host} so that mail clients set themselves up.`,
          );
        return result(
          found,
          'wrong',
          `${record.name} should lead to ${host} (a CNAME, or an A record with its address).`,
        );
      }
    }
  } catch (error) {
    return result(
      [],
      'missing',
      `The resolver did not answer (${(error as { code?: string }).code ?? 'error'}): check the DNS servers in the settings.`,
    );
  }
}

type Result = (found: string[], status: CheckStatus, hint?: string) => RecordCheck;

/** The start of a TXT value that marks its kind, per purpose. */
const TXT_TAG: Record<string, string> = {
  SPF: 'v=spf1',
  DMARC: 'v=dmarc1',
  'MTA-STS': 'v=stsv1',
  'TLS-RPT': 'v=tlsrptv1',
  DKIM: '',
};

function checkTxt(record: DnsRecord, chunks: string[][], result: Result): RecordCheck {
  const all = chunks.map((parts) => parts.join(''));
  const tag = TXT_TAG[record.purpose] ?? '';
  const found =
    record.purpose === 'DKIM'
      ? all.filter((value) => /(^|;)\s*p=/.test(value))
      : all.filter((value) => value.toLowerCase().startsWith(tag));
  if (found.length === 0) return result(all, 'missing', MISSING_HINT[record.purpose]!(record));
  switch (record.purpose) {
    case 'SPF': {
      if (found.length > 1)
        return result(
          found,
          'wrong',
          'More than one SPF record: receivers then treat SPF as broken (RFC 7208 3.2). Merge them into one.',
        );
      const spf = found[0]!;
      if (spf === record.value) return result(found, 'ok');
      if (/[?+]all\b/.test(spf))
        return result(
          found,
          'wrong',
          'The SPF record ends in "+all" or "?all", which lets anyone send as the domain: use "-all" (or "~all").',
        );
      if (!/\s(mx|a)(\s|$)|\sa:|\sinclude:|\sip[46]:/.test(spf))
        return result(
          found,
          'wrong',
          `The SPF record does not allow this server: add "mx" (${record.value}).`,
        );
      return result(found, 'ok');
    }
    case 'DKIM': {
      const key = (value: string) => /(?:^|;)\s*p=([^;\s]*)/.exec(value)?.[1] ?? '';
      return found.some((value) => key(value) === key(record.value))
        ? result(found, 'ok')
        : result(
            found,
            'wrong',
            `The published key is not this server's: replace it with the value shown (receivers would fail the signatures).`,
          );
    }
    case 'DMARC':
      return /(^|;)\s*p=(none|quarantine|reject)/i.test(found[0]!)
        ? result(found, 'ok')
        : result(found, 'wrong', 'The DMARC record has no policy (p=none, quarantine or reject).');
    case 'MTA-STS':
      return /(^|;)\s*id=[A-Za-z0-9]{1,32}\s*(;|$)/.test(found[0]!)
        ? result(found, 'ok')
        : result(
            found,
            'wrong',
            'The MTA-STS record needs an id (letters and digits, changed with every policy change).',
          );
    // A TLS-RPT record only needs to be there; the other kinds are not TXT records.
    case 'TLS-RPT':
    case 'MX':
    case 'SRV':
    case 'AUTOCONFIG':
    case 'AUTODISCOVER':
      return result(found, 'ok');
  }
}

const MISSING_HINT: Record<string, (record: DnsRecord) => string> = {
  SPF: (r) =>
    `Add a TXT record at ${r.name}: without SPF, receivers cannot tell this server may send for the domain and often file its mail as spam.`,
  DKIM: (r) =>
    `Add the TXT record ${r.name} with the key shown: without it, receivers cannot check the signatures of mail from the domain.`,
  DMARC: (r) =>
    `Add the TXT record ${r.name}: DMARC tells receivers what to do with mail that fails SPF and DKIM, and big providers expect it.`,
  'MTA-STS': (r) =>
    `Add the TXT record ${r.name} so that senders insist on TLS when they deliver to the domain (RFC 8461).`,
  'TLS-RPT': (r) => `Add the TXT record ${r.name} to get reports of TLS failures from senders (RFC 8460).`,
};

/** Receivers check that the sending address has a reverse name, and that it is the host name. */
async function checkPtr(resolver: dns.promises.Resolver, host: string): Promise<RecordCheck[]> {
  let addresses: string[];
  try {
    addresses = await answers(() => resolver.resolve4(host));
  } catch {
    return [];
  }
  return Promise.all(
    addresses.map(async (address): Promise<RecordCheck> => {
      const found = (await answers(() => resolver.reverse(address)).catch(() => [] as string[])).map(
        (name) => `${bare(name)}.`,
      );
      const status: CheckStatus = found.includes(`${bare(host)}.`)
        ? 'ok'
        : found.length === 0
          ? 'missing'
          : 'wrong';
      const hint =
        status === 'ok'
          ? ''
          : `Ask whoever provides ${address} (your ISP or hosting) to set its reverse name to ${host}: many receivers refuse mail from an address without a matching one.`;
      return { purpose: 'PTR', name: address, type: 'PTR', expected: `${bare(host)}.`, found, status, hint };
    }),
  );
}
