/**
 * DNS blocklist lookups of the connecting IP (RFC 5782): the address reversed (IPv4 octets, IPv6
 * nibbles) under each list's zone; an A record in 127.0.0.0/8 means "listed". Answers in
 * 127.255.255.0/24 are Spamhaus's error codes (a query through a public resolver, over quota), not
 * listings. Asked on the configured DNS servers; a list that does not answer counts as not listed.
 */
import dns from 'node:dns';
import { isIPv4, isIPv6 } from 'node:net';

/** The query name of `ip` under `zone`: "2.0.0.127.zen.spamhaus.org". */
export function dnsblName(ip: string, zone: string): string | null {
  if (isIPv4(ip)) return `${ip.split('.').reverse().join('.')}.${zone}`;
  const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (v4mapped) return dnsblName(v4mapped[1]!, zone);
  if (!isIPv6(ip)) return null;
  const [head = '', tail = ''] = ip.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const missing = 8 - groups(head).length - groups(tail).length;
  const full = [
    ...groups(head),
    ...Array<string>(ip.includes('::') ? missing : 0).fill('0'),
    ...groups(tail),
  ];
  const nibbles = full.map((group) => group.padStart(4, '0')).join('');
  return `${[...nibbles].reverse().join('.')}.${zone}`;
}

function isListing(address: string): boolean {
  return address.startsWith('127.') && !address.startsWith('127.255.255.');
}

export class Dnsbl {
  private readonly resolver: dns.promises.Resolver;

  constructor(
    private readonly zones: readonly string[],
    servers: readonly string[],
    timeoutMs = 3000,
  ) {
    this.resolver = new dns.promises.Resolver({ timeout: timeoutMs, tries: 2 });
    if (servers.length > 0) this.resolver.setServers([...servers]);
  }

  get enabled(): boolean {
    return this.zones.length > 0;
  }

  /** The zones that list `ip`, with their answer: ["zen.spamhaus.org=127.0.0.2"]. */
  async listings(ip: string): Promise<string[]> {
    const found = await Promise.all(
      this.zones.map(async (zone) => {
        const name = dnsblName(ip, zone);
        if (!name) return null;
        try {
          const answers = await this.resolver.resolve4(name);
          const listed = answers.filter(isListing);
          return listed.length > 0 ? `${zone}=${listed.join(',')}` : null;
        } catch {
          // NXDOMAIN is "not listed"; a list that is down must not hold mail up or refuse it.
          return null;
        }
      }),
    );
    return found.filter((zone): zone is string => zone !== null);
  }
}
