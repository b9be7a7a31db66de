/**
 * The rule form's address checker (renderer/src/components/rules/cidr.ts) must accept and refuse
 * what the server does: every case is also run through the server's parser (server/hooks/cidr.ts,
 * built on node:net) so the two cannot drift apart unnoticed.
 */
import { describe, expect, it } from 'vitest';
import {
  checkCidr,
  cidrListErrors,
  hostRange,
  isIpAddress,
  parseIPv6,
  splitCidrs,
} from '../../renderer/src/components/rules/cidr.ts';
import { parseCidr } from '../../server/hooks/cidr.ts';

const VALID: Array<[string, string]> = [
  ['192.0.2.10', '192.0.2.10'],
  ['10.1.2.3/8', '10.0.0.0/8'],
  ['0.0.0.0/0', '0.0.0.0/0'],
  ['127.0.0.1/32', '127.0.0.1'],
  ['255.255.255.255', '255.255.255.255'],
  ['::1', '::1'],
  ['::', '::'],
  ['::/0', '::/0'],
  ['2001:db8::/32', '2001:db8::/32'],
  ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
  ['2001:db8::1:0:0:1', '2001:db8::1:0:0:1'],
  ['fe80::/10', 'fe80::/10'],
  ['2001:db8:abcd:12::/64', '2001:db8:abcd:12::/64'],
  ['2001:db8::ffff/120', '2001:db8::ff00/120'],
  ['::ffff:192.0.2.1', '::ffff:c000:201'],
  ['64:ff9b::192.0.2.33/120', '64:ff9b::c000:200/120'],
  ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
  ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8'],
  ['[2001:db8::1]', '2001:db8::1'],
  ['  10.0.0.0/24  ', '10.0.0.0/24'],
  ['2001:db8::1/128', '2001:db8::1'],
];

const INVALID: Array<[string, RegExp]> = [
  ['', /empty/],
  ['256.1.1.1', /four numbers from 0 to 255/],
  ['1.2.3', /four numbers/],
  ['1.2.3.4.5', /four numbers/],
  ['01.2.3.4', /four numbers/],
  ['10.0.0.0/33', /prefix length must be 0 to 32/],
  ['10.0.0.0/-1', /prefix length/],
  ['10.0.0.0/', /prefix length/],
  ['10.0.0.0/8/8', /prefix length/],
  ['2001:db8::/129', /prefix length must be 0 to 128/],
  ['2001:db8:::1', /not an IPv4 or IPv6/],
  ['1::2::3', /not an IPv4 or IPv6/],
  ['1:2:3:4:5:6:7:8:9', /not an IPv4 or IPv6/],
  ['1:2:3:4:5:6:7', /not an IPv4 or IPv6/],
  ['1:2:3:4:5:6:7:8::', /not an IPv4 or IPv6/],
  ['12345::', /not an IPv4 or IPv6/],
  ['g::1', /not an IPv4 or IPv6/],
  ['::1.2.3.4:5', /not an IPv4 or IPv6/],
  ['1.2.3.4::', /not an IPv4 or IPv6/],
  ['::ffff:300.1.1.1', /not an IPv4 or IPv6/],
  ['fe80::1%eth0', /zone/],
  ['example.com', /not an IPv4 or IPv6/],
];

function serverAccepts(text: string): string | null {
  try {
    return parseCidr(text).text;
  } catch {
    return null;
  }
}

describe('checkCidr', () => {
  it.each(VALID)('accepts %s as %s, as the server does', (input, canonical) => {
    const result = checkCidr(input);
    expect(result).toMatchObject({ ok: true, canonical });
    // The server keeps IPv4-mapped addresses in dotted form; otherwise the texts agree.
    const server = serverAccepts(input);
    expect(server).not.toBeNull();
    if (!input.includes('ffff:')) expect(server).toBe(canonical);
  });

  it.each(INVALID)('refuses %j with a message (%s), as the server does', (input, message) => {
    const result = checkCidr(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(message);
    expect(serverAccepts(input)).toBeNull();
  });

  it('reports the family, prefix and whether the entry is one address', () => {
    expect(checkCidr('10.0.0.0/8')).toMatchObject({ family: 4, prefix: 8, single: false });
    expect(checkCidr('192.0.2.1')).toMatchObject({ family: 4, prefix: 32, single: true });
    expect(checkCidr('2001:db8::/48')).toMatchObject({ family: 6, prefix: 48, single: false });
    expect(checkCidr('::1')).toMatchObject({ family: 6, prefix: 128, single: true });
  });

  it('agrees with the server on every prefix length of both families', () => {
    for (let prefix = 0; prefix <= 129; prefix++) {
      for (const address of ['203.0.113.77', '2001:db8:1234:5678:9abc:def0:1234:5678']) {
        const text = `${address}/${prefix}`;
        const mine = checkCidr(text);
        const server = serverAccepts(text);
        expect(mine.ok, text).toBe(server !== null);
        if (mine.ok) expect(mine.canonical, text).toBe(server);
      }
    }
  });
});

describe('parseIPv6', () => {
  it('expands compressed forms to eight groups', () => {
    expect(parseIPv6('::')).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIPv6('1::')).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIPv6('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
    expect(parseIPv6('1:2:3:4:5:6:7:8')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(parseIPv6('1:2:3:4:5:6:7:8::')).toBeNull();
  });
});

describe('entry lists', () => {
  it('splits on lines, commas and spaces and reports each bad entry', () => {
    const entries = splitCidrs('10.0.0.0/8\n 192.0.2.300, 2001:db8::/32;fe80::1%lo\n\n');
    expect(entries).toEqual(['10.0.0.0/8', '192.0.2.300', '2001:db8::/32', 'fe80::1%lo']);
    const errors = cidrListErrors(entries);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/^192\.0\.2\.300:/);
    expect(errors[1]).toMatch(/^fe80::1%lo:/);
  });
});

describe('hostRange and isIpAddress', () => {
  it('turns a client address into the range that blocks only it', () => {
    expect(hostRange('127.0.0.1')).toBe('127.0.0.1/32');
    expect(hostRange('::ffff:127.0.0.1')).toBe('127.0.0.1/32');
    expect(hostRange('2001:DB8:0::1')).toBe('2001:db8::1/128');
    expect(hostRange('not an address')).toBeNull();
    for (const address of ['127.0.0.1', '::ffff:10.0.0.1', '2001:db8::5']) {
      expect(serverAccepts(hostRange(address)!)).not.toBeNull();
    }
  });

  it('tells addresses from ranges and names', () => {
    expect(isIpAddress('192.0.2.1')).toBe(true);
    expect(isIpAddress('::1')).toBe(true);
    expect(isIpAddress('10.0.0.0/8')).toBe(false);
    expect(isIpAddress('localhost')).toBe(false);
  });
});
