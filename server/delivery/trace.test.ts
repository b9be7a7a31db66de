import { describe, expect, it } from 'vitest';
import {
  addressLiteral,
  returnPathOf,
  rfc5322Date,
  traceHeaders,
  withoutReturnPath,
  withTrace,
  type NetworkOrigin,
  type TraceInfo,
} from './trace.ts';

const network: NetworkOrigin = {
  kind: 'network',
  helo: 'client.example',
  reverseName: 'mail.example',
  remoteAddress: '192.0.2.1',
  protocol: 'ESMTP',
  tls: null,
};

const base: TraceInfo = {
  origin: network,
  sender: 'sender@remote.example',
  recipient: 'user@example.org',
  hostname: 'mx.example.org',
  id: 'abc123-1',
  utf8: false,
  date: new Date('2025-06-03T10:00:00Z'),
};

const text = (info: Partial<TraceInfo>) => traceHeaders({ ...base, ...info }).toString('utf8');
const onNetwork = (origin: Partial<NetworkOrigin>) => text({ origin: { ...network, ...origin } });

describe('trace headers', () => {
  it('are Return-Path, Delivered-To and a Received in Postfix layout, each ending with CRLF', () => {
    const lines = text({}).split('\r\n');
    expect(lines).toEqual([
      'Return-Path: <sender@remote.example>',
      'Delivered-To: user@example.org',
      'Received: from client.example (mail.example [192.0.2.1])',
      '\tby mx.example.org (Mallard) with ESMTP id abc123-1',
      `\tfor <user@example.org>; ${rfc5322Date(base.date)}`,
      '',
    ]);
  });

  it('write the null sender as <>, and a quoted local part as it is', () => {
    expect(text({ sender: '' })).toMatch(/^Return-Path: <>\r\n/);
    expect(text({ sender: '"john doe"@remote.example' })).toMatch(
      /^Return-Path: <"john doe"@remote\.example>\r\n/,
    );
  });

  it('name the TLS version and cipher, and leave out an unknown reverse name', () => {
    const header = onNetwork({
      protocol: 'LMTPS',
      reverseName: '',
      tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
    });
    expect(header).toContain(
      'Received: from client.example ([192.0.2.1])\r\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)\r\n\tby mx.example.org (Mallard) with LMTPS id ',
    );
  });

  it('say who handed a local delivery in, as Postfix does for local submissions', () => {
    const lines = text({ origin: { kind: 'local', uid: 1000 } }).split('\r\n');
    expect(lines.slice(2)).toEqual([
      'Received: by mx.example.org (Mallard, from userid 1000)',
      '\tid abc123-1',
      `\tfor <user@example.org>; ${rfc5322Date(base.date)}`,
      '',
    ]);
    expect(text({ origin: { kind: 'local', uid: null } })).toContain(
      'Received: by mx.example.org (Mallard)\r\n',
    );
  });

  it('name a non-ASCII recipient only when UTF-8 headers are allowed', () => {
    const plain = text({ recipient: 'jörg@example.org' });
    expect(plain).not.toContain('for <');
    expect(plain).not.toContain('Delivered-To');
    expect(plain).toMatch(/with ESMTP id abc123-1; \w{3}, \d+ \w{3} \d{4} /);
    const utf8 = text({ recipient: 'jörg@example.org', utf8: true });
    expect(utf8).toContain('Delivered-To: jörg@example.org\r\n');
    expect(utf8).toContain('for <jörg@example.org>;');
  });

  it('write IPv6 address literals', () => {
    expect(addressLiteral('2001:db8::1')).toBe('[IPv6:2001:db8::1]');
    expect(onNetwork({ remoteAddress: '::1', reverseName: '' })).toContain(
      'Received: from client.example ([IPv6:::1])\r\n',
    );
  });

  it('cannot be broken by odd client values', () => {
    const header = text({
      origin: { ...network, helo: 'evil\r\nX-Injected: 1', reverseName: 'a (b) c' },
      sender: 'x>\r\nX-Evil: 1',
      recipient: 'x>@y',
    });
    // Every line is a field of ours or a continuation: nothing was injected.
    expect(
      header.split('\r\n').every((line) => line === '' || /^(Return-Path: |Received: |\t)/.test(line)),
    ).toBe(true);
    expect(header).toContain('from evilX-Injected:1 (abc [192.0.2.1])');
    expect(header).toMatch(/^Return-Path: <>\r\n/);
    expect(header).not.toContain('for <');
  });
});

describe('Return-Path in the message', () => {
  const body = Buffer.from('\r\nReturn-Path: <in-the-body@example>\r\n', 'latin1');

  it('is removed with its continuation lines; every other byte stays', () => {
    const message = Buffer.concat([
      Buffer.from('Received: x\r\nRETURN-PATH :\r\n <forged@example>\r\nSubject: caf\xe9\n', 'latin1'),
      Buffer.from('return-path: <again@example>\r\nX-Return-Path: kept\r\n'),
      body,
    ]);
    expect(withoutReturnPath(message).toString('latin1')).toBe(
      'Received: x\r\nSubject: caf\xe9\nX-Return-Path: kept\r\n' + body.toString('latin1'),
    );
    expect(returnPathOf(message)).toBe('forged@example');
  });

  it('is looked for in the header only; a message without one is returned as it is', () => {
    const message = Buffer.concat([Buffer.from('Subject: hi\n'), body]);
    expect(withoutReturnPath(message)).toBe(message);
    expect(returnPathOf(message)).toBeNull();
    expect(returnPathOf(Buffer.from('Return-Path: <>\r\n\r\n'))).toBe('');
  });

  it('is replaced by ours', () => {
    const message = Buffer.from('Return-Path: <old@example>\r\nSubject: s\r\n\r\nbody\r\n');
    const stored = withTrace(message, base).toString('utf8');
    expect(stored.match(/^Return-Path:/gim)).toHaveLength(1);
    expect(stored).toMatch(/^Return-Path: <sender@remote\.example>\r\n/);
    expect(stored.endsWith('Subject: s\r\n\r\nbody\r\n')).toBe(true);
  });
});

describe('rfc5322Date', () => {
  it('formats day, date, time and zone offset', () => {
    expect(rfc5322Date(new Date('2025-06-03T10:00:00Z'))).toMatch(
      /^(Mon|Tue|Wed), [1-4] Jun 2025 \d\d:\d\d:00 [+-]\d{4}$/,
    );
  });
});
