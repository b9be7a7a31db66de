import { describe, expect, it } from 'vitest';
import { hostOfHeader, isLoopbackHost } from './loopback-host.ts';

describe('the panel Host check', () => {
  it.each([
    ['127.0.0.1:8026', '127.0.0.1'],
    ['[::1]:8026', '::1'],
    ['localhost', 'localhost'],
    ['127.0.0.1.nip.io:8026', '127.0.0.1.nip.io'],
    ['[::1', '[::1'],
    ['[::1].evil.example:8026', '[::1].evil.example:8026'],
  ])('host of %s is %s', (header, host) => {
    expect(hostOfHeader(header)).toBe(host);
  });

  it.each([
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['::1', true],
    ['[::1]', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['localhost', true],
    ['LocalHost.', true],
    ['mallard.lan', false],
    ['127.0.0.1.nip.io', false],
    ['127.example', false],
    ['127.1', false],
    ['128.0.0.1', false],
    ['::2', false],
    ['::ffff:10.0.0.1', false],
    ['', false],
  ])('%s is loopback: %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });

  it('accepts the names the panel was configured to listen on', () => {
    expect(isLoopbackHost('mallard.lan', ['mallard.lan'])).toBe(true);
    expect(isLoopbackHost('MALLARD.LAN', ['mallard.lan'])).toBe(true);
  });
});
