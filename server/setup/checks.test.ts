import { describe, expect, it } from 'vitest';
import { isPublicName, setupChecks, type SetupFacts } from './checks.ts';

const ready: SetupFacts = {
  hostname: 'mail.example.org',
  domains: ['example.org'],
  accounts: 2,
  activeCertificate: { names: ['mail.example.org'], kind: 'server', trust: 'public', expired: false },
  dnsChecks: { 'example.org': { at: '2026-12-01T10:00:00.000Z', ok: true } },
};

const failing = (facts: SetupFacts) =>
  setupChecks(facts)
    .filter((check) => !check.ok)
    .map((check) => check.title);

describe('setup checks', () => {
  it('finds nothing missing on a server that is set up', () => {
    expect(failing(ready)).toEqual([]);
  });

  it('lists everything a new install lacks, each with the step that fixes it', () => {
    const checks = setupChecks({
      hostname: 'vm',
      domains: [],
      accounts: 0,
      activeCertificate: null,
      dnsChecks: {},
    });
    expect(checks.map((check) => [check.id, check.ok, check.step])).toEqual([
      ['domains', false, 0],
      ['public-name', false, 1],
      ['accounts', false, 2],
      ['certificate', false, 3],
    ]);
    expect(checks[1]!.title).toBe('The server\'s public name is "vm"');
  });

  it('says when the certificate does not cover the public name (the first-run trap)', () => {
    const titles = failing({
      ...ready,
      hostname: 'vm.lan',
      activeCertificate: { ...ready.activeCertificate!, names: ['mail.home.arpa'] },
    });
    expect(titles).toEqual(['The certificate does not cover vm.lan']);
  });

  it('accepts a wildcard on one label, refuses self-signed and expired certificates', () => {
    const wildcard = { ...ready.activeCertificate!, names: ['*.example.org'] };
    expect(failing({ ...ready, activeCertificate: wildcard })).toEqual([]);
    expect(failing({ ...ready, hostname: 'a.mail.example.org', activeCertificate: wildcard })).toEqual([
      'The certificate does not cover a.mail.example.org',
    ]);
    expect(failing({ ...ready, activeCertificate: { ...wildcard, kind: 'self-signed' } })).toEqual([
      'Clients see a self-signed certificate',
    ]);
    expect(failing({ ...ready, activeCertificate: { ...wildcard, expired: true } })).toEqual([
      'The active certificate has expired',
    ]);
  });

  it('asks for a DNS check per domain until one passes', () => {
    const two = { ...ready, domains: ['example.org', 'example.net'] };
    expect(failing(two)).toEqual(['DNS not checked for example.net']);
    expect(
      failing({ ...two, dnsChecks: { ...two.dnsChecks, 'example.net': { at: 'x', ok: false } } }),
    ).toEqual(['DNS records of example.net are missing or wrong']);
  });

  it('takes only dotted DNS names as public names', () => {
    expect(isPublicName('mail.example.org')).toBe(true);
    expect(isPublicName('mail.example.org.')).toBe(true);
    for (const name of ['vm', 'localhost', 'a.localhost', '192.168.1.2', '::1'])
      expect(isPublicName(name)).toBe(false);
  });
});
