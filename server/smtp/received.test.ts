import { describe, expect, it } from 'vitest';
import { addressLiteral, receivedHeader, rfc5322Date, type ReceivedInfo } from './received.ts';

const base: ReceivedInfo = {
  helo: 'client.example',
  reverseName: 'mail.example',
  remoteAddress: '192.0.2.1',
  hostname: 'mx.example.org',
  protocol: 'ESMTP',
  tls: null,
  id: 'abc123-1',
  recipients: ['user@example.org'],
  utf8: false,
  date: new Date('2025-06-03T10:00:00Z'),
};

const text = (info: Partial<ReceivedInfo>) => receivedHeader({ ...base, ...info }).toString('utf8');

describe('Received header', () => {
  it('is folded in Postfix layout and ends with CRLF', () => {
    const header = text({});
    const lines = header.split('\r\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe('Received: from client.example (mail.example [192.0.2.1])');
    expect(lines[1]).toBe('\tby mx.example.org (Mallard) with ESMTP id abc123-1');
    expect(lines[2]).toBe(`\tfor <user@example.org>; ${rfc5322Date(base.date)}`);
    expect(lines[3]).toBe('');
  });

  it('names the TLS version and cipher, and leaves out an unknown reverse name', () => {
    const header = text({
      protocol: 'ESMTPS',
      reverseName: '',
      tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
    });
    expect(header).toMatch(
      /^Received: from client\.example \(\[192\.0\.2\.1\]\)\r\n\t\(using TLSv1\.3 with cipher TLS_AES_256_GCM_SHA384\)\r\n\tby mx\.example\.org \(Mallard\) with ESMTPS id /,
    );
  });

  it('names no recipient when there are several (Bcc stays private)', () => {
    const header = text({ recipients: ['a@example.org', 'b@example.org'] });
    expect(header).not.toContain('for <');
    expect(header).toMatch(/with ESMTP id abc123-1; \w{3}, \d+ \w{3} \d{4} /);
  });

  it('names a non-ASCII recipient only with SMTPUTF8', () => {
    expect(text({ recipients: ['jörg@example.org'] })).not.toContain('for <');
    expect(text({ recipients: ['jörg@example.org'], utf8: true })).toContain('for <jörg@example.org>;');
  });

  it('writes IPv6 address literals', () => {
    expect(addressLiteral('2001:db8::1')).toBe('[IPv6:2001:db8::1]');
    expect(text({ remoteAddress: '::1', reverseName: '' })).toMatch(
      /^Received: from client\.example \(\[IPv6:::1\]\)\r\n/,
    );
  });

  it('cannot be broken by odd client values', () => {
    const header = text({ helo: 'evil\r\nX-Injected: 1', reverseName: 'a (b) c', recipients: ['x>@y'] });
    // Every line is the first or a continuation: nothing was injected.
    expect(header.split('\r\n').every((line) => line === '' || /^(Received: |\t)/.test(line))).toBe(true);
    expect(header).toContain('from evilX-Injected:1 (abc [192.0.2.1])');
    expect(header).not.toContain('for <');
  });
});

describe('rfc5322Date', () => {
  it('formats day, date, time and zone offset', () => {
    expect(rfc5322Date(new Date('2025-06-03T10:00:00Z'))).toMatch(
      /^(Mon|Tue|Wed), [1-4] Jun 2025 \d\d:\d\d:00 [+-]\d{4}$/,
    );
  });
});
