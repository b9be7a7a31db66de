import net from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  CidrError,
  CidrSet,
  formatIp,
  isIPv4,
  isIPv6,
  normalizeCidr,
  normalizeIp,
  parseCidr,
  parseIp,
} from './cidr.ts';

describe('isIPv4 / isIPv6 (written out so that node:net need not load)', () => {
  /** A small deterministic generator (mulberry32): the same texts at every run. */
  function random(seed: number): () => number {
    let state = seed;
    return () => {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  const cases = [
    '',
    '0.0.0.0',
    '255.255.255.255',
    '256.1.1.1',
    '01.2.3.4',
    '1.2.3',
    '1.2.3.4.',
    ' 1.2.3.4',
    '::',
    '::1',
    '1::',
    ':::',
    '1:2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7::',
    '::2:3:4:5:6:7:8',
    '1::2::3',
    '::ffff:1.2.3.4',
    '::ffff:1.2.3',
    '1:2:3:4:5:6:1.2.3.4',
    '1:2:3:4:5:6:7:1.2.3.4',
    'fe80::1%eth0',
    'fe80::1%',
    '12345::',
    'g::1',
    '2001:DB8::1',
  ];

  it('agree with net.isIPv4 and net.isIPv6 on edge cases', () => {
    for (const text of cases) {
      expect(isIPv4(text), text).toBe(net.isIPv4(text));
      expect(isIPv6(text), text).toBe(net.isIPv6(text));
    }
  });

  it('agree with net.isIPv4 and net.isIPv6 on generated texts', () => {
    const next = random(11);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
    const v4Parts = ['0', '1', '9', '25', '99', '199', '249', '255', '256', '010', '1000', ''];
    const v6Parts = ['0', '1', 'a', 'ffff', 'FFFF', 'db8', '12345', 'g', ''];
    const dotted = (count: number) =>
      Array.from({ length: count }, () => pick(v4Parts)).join(next() < 0.95 ? '.' : ':');
    let ipv4 = 0;
    let ipv6 = 0;
    for (let round = 0; round < 20_000; round++) {
      let text: string;
      if (next() < 0.4) text = dotted(3 + Math.floor(next() * 3));
      else {
        const groups = Array.from({ length: 1 + Math.floor(next() * 9) }, () => pick(v6Parts));
        // at most one "::" (sometimes two), sometimes an IPv4 tail
        const gap = next() < 0.6 ? Math.floor(next() * groups.length) : -1;
        text = groups.map((group, index) => (index === gap ? `${group}:` : group)).join(':');
        if (next() < 0.05) text = text.replace(':', '::');
        if (next() < 0.2) text += `:${dotted(4)}`;
      }
      if (next() < 0.05) text += pick(['%eth0', '%', '%1']);
      expect(isIPv4(text), text).toBe(net.isIPv4(text));
      expect(isIPv6(text), text).toBe(net.isIPv6(text));
      if (net.isIPv4(text)) ipv4++;
      if (net.isIPv6(text)) ipv6++;
    }
    // The generated texts must include addresses, not only refusals.
    expect(ipv4).toBeGreaterThan(200);
    expect(ipv6).toBeGreaterThan(500);
  });
});

describe('parseIp / formatIp', () => {
  it.each([
    ['10.0.0.1', '10.0.0.1'],
    ['::ffff:10.0.0.1', '10.0.0.1'],
    ['::FFFF:0a00:0001', '10.0.0.1'],
    ['[::1]', '::1'],
    ['::', '::'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0db8:0000:0001:0001:0001:0001:0001', '2001:db8:0:1:1:1:1:1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['1::', '1::'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    [' 192.0.2.7 ', '192.0.2.7'],
  ])('%s is %s', (text, canonical) => {
    const bytes = parseIp(text);
    expect(bytes).not.toBeNull();
    expect(formatIp(bytes!)).toBe(canonical);
    expect(normalizeIp(text)).toBe(canonical);
  });

  it.each([
    '',
    '10.0.0',
    '10.0.0.256',
    '010.0.0.1',
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    'example.com',
    '10.0.0.1/8',
  ])('%j is no address', (text) => {
    expect(parseIp(text)).toBeNull();
    expect(normalizeIp(text)).toBe(text);
  });
});

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/8', '10.0.0.0/8', 104],
    ['10.1.2.3/8', '10.0.0.0/8', 104],
    ['192.0.2.7', '192.0.2.7', 128],
    ['192.0.2.7/32', '192.0.2.7', 128],
    ['0.0.0.0/0', '0.0.0.0/0', 96],
    ['2001:DB8::/32', '2001:db8::/32', 32],
    ['2001:db8::1/128', '2001:db8::1', 128],
    ['2001:db8::1', '2001:db8::1', 128],
    ['::/0', '::/0', 0],
    ['::ffff:10.0.0.0/104', '10.0.0.0/8', 104],
    ['::ffff:0:0/96', '0.0.0.0/0', 96],
    [' 172.16.0.0/12 ', '172.16.0.0/12', 108],
  ])('%j is %s (prefix %i of 128)', (text, canonical, prefix) => {
    const cidr = parseCidr(text);
    expect(cidr.text).toBe(canonical);
    expect(cidr.prefix).toBe(prefix);
    expect(normalizeCidr(canonical)).toBe(canonical);
  });

  it.each([
    ['', /empty/],
    ['10.0.0.0/33', /prefix length.*0 to 32/],
    ['2001:db8::/129', /prefix length.*0 to 128/],
    ['10.0.0.0/', /prefix length/],
    ['10.0.0.0/-1', /prefix length/],
    ['10.0.0.0/8/8', /prefix length/],
    ['10.0.0.0/ 8', /prefix length/],
    ['10.0.0/8', /not an IP address/],
    ['fe80::1%eth0/64', /not an IP address/],
    ['10.0.0.0 /8', /not an IP address/],
    ['localhost', /not an IP address/],
    ['10.0.0.0-10.0.0.255', /not an IP address/],
  ])('refuses %j', (text, message) => {
    expect(() => parseCidr(text)).toThrow(CidrError);
    expect(() => parseCidr(text)).toThrow(message);
  });
});

describe('CidrSet.has', () => {
  const table: Array<[string[], string, boolean]> = [
    [['10.0.0.0/8'], '10.0.0.1', true],
    [['10.0.0.0/8'], '10.255.255.255', true],
    [['10.0.0.0/8'], '11.0.0.0', false],
    [['10.0.0.0/8'], '::ffff:10.0.0.1', true],
    [['10.0.0.0/8'], '::ffff:11.0.0.1', false],
    [['10.0.0.0/8'], '::a00:1', false], // IPv4-compatible, not mapped: an IPv6 address
    [['127.0.0.0/8'], '127.0.0.1', true],
    [['127.0.0.0/8'], '::1', false],
    [['192.168.1.0/25'], '192.168.1.127', true],
    [['192.168.1.0/25'], '192.168.1.128', false],
    [['172.16.0.0/12'], '172.31.255.1', true],
    [['172.16.0.0/12'], '172.32.0.1', false],
    [['192.0.2.7'], '192.0.2.7', true],
    [['192.0.2.7'], '192.0.2.8', false],
    [['0.0.0.0/0'], '203.0.113.9', true],
    [['0.0.0.0/0'], '::ffff:203.0.113.9', true],
    [['0.0.0.0/0'], '2001:db8::1', false],
    [['::/0'], '2001:db8::1', true],
    [['::/0'], '::1', true],
    [['::/0'], '10.0.0.1', false],
    [['::/0'], '::ffff:10.0.0.1', false],
    [['2001:db8::/32'], '2001:db8:ffff::1', true],
    [['2001:db8::/32'], '2001:db9::1', false],
    [['2001:db8::/33'], '2001:db8:7fff::1', true],
    [['2001:db8::/33'], '2001:db8:8000::1', false],
    [['fe80::/10'], 'fe80::1%eth0', true],
    [['fe80::/10'], 'febf::1', true],
    [['fe80::/10'], 'fec0::1', false],
    [['::1'], '::1', true],
    [['::ffff:10.0.0.0/104'], '10.1.2.3', true],
    [['10.0.0.0/8', '2001:db8::/32'], '2001:db8::5', true],
    [['10.0.0.0/8', '2001:db8::/32'], '192.0.2.1', false],
    [['10.0.0.0/8'], 'not-an-ip', false],
    [['10.0.0.0/8'], '', false],
  ];
  it.each(table)('%j has %j: %s', (cidrs, address, expected) => {
    expect(new CidrSet(cidrs).has(address)).toBe(expected);
  });

  it('agrees with node:net BlockList on IPv4', async () => {
    const { BlockList } = await import('node:net');
    const ranges = ['10.0.0.0/8', '192.168.4.0/22', '203.0.113.128/25', '198.51.100.7/32'];
    const list = new BlockList();
    for (const range of ranges) {
      const [network, prefix] = range.split('/');
      list.addSubnet(network!, Number(prefix), 'ipv4');
    }
    const set = new CidrSet(ranges);
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const near = ['10.0.0.0', '192.168.4.0', '203.0.113.128', '198.51.100.7'];
    for (let i = 0; i < 2000; i++) {
      const base = near[i % near.length]!.split('.').map(Number);
      const offset = random() % 2048;
      const value =
        (((base[0]! << 24) | (base[1]! << 16) | (base[2]! << 8) | base[3]!) >>> 0) + offset - 1024;
      const address = [24, 16, 8, 0].map((shift) => (value >>> shift) & 0xff).join('.');
      expect(set.has(address), address).toBe(list.check(address, 'ipv4'));
    }
  });
});
