import { describe, expect, it } from 'vitest';
import {
  compileScript,
  messageWithHeaders,
  runScripts,
  SieveMessage,
  type SieveEnvironment,
} from './index.ts';

const RAW = Buffer.from(
  'Received: by mx\r\nFrom: Alice <alice@example.com>\r\nSubject: Hi\r\n  there\r\nMessage-ID: <a@b>\r\n\r\nBody\r\n',
);

function run(source: string, env: Partial<SieveEnvironment> = {}) {
  const message = new SieveMessage(RAW);
  const result = runScripts([compileScript(source)], {
    message,
    envelope: { from: 'alice@example.com', to: 'bob@example.net' },
    ...env,
  });
  return { result, message };
}

describe('Sieve interpreter', () => {
  it('keeps implicitly when nothing cancels the keep (RFC 5228 2.10.2)', () => {
    expect(run('require "imap4flags"; addflag "\\\\Seen";').result).toMatchObject({
      actions: [],
      implicitKeep: { flags: ['\\Seen'] },
    });
  });

  it('ereject refuses like reject, marked as extended (RFC 5429)', () => {
    expect(run('require "ereject"; ereject "no thanks";').result).toMatchObject({
      actions: [{ type: 'reject', reason: 'no thanks', extended: true }],
      implicitKeep: null,
    });
  });

  it('cuts off 10,000 redirects at the redirect limit and falls back to the implicit keep', () => {
    const script = Array.from({ length: 10_000 }, (_, n) => `redirect "r${n}@example.org";`).join('\n');
    const { result } = run(script);
    expect(result.actions).toEqual([]);
    expect(result.implicitKeep).toEqual({ flags: [] });
    expect(result.error).toMatch(/too many redirects \(the limit is 4\)/);
  });

  it('cuts off a script that runs too long (step limit)', () => {
    const tests = Array.from({ length: 2000 }, () => 'header :contains "subject" ["a", "b", "c"]').join(', ');
    const script = `if anyof (${tests}) { discard; }\n`.repeat(50);
    const { result } = run(script, { limits: { maxSteps: 50_000 } });
    expect(result.error).toMatch(/ran too long/);
    expect(result.implicitKeep).toEqual({ flags: [] });
  });

  it('refuses include loops and too deep includes at run time', () => {
    const loop = run('require "include"; include "a";', {
      loadScript: (name) =>
        name === 'a' ? 'require "include"; include "b";' : 'require "include"; include "a";',
    });
    expect(loop.result.error).toMatch(/include loop/);
    const deep = run('require "include"; include "s0";', {
      loadScript: (name) => `require "include"; include "s${Number(name.slice(1)) + 1}";`,
    });
    expect(deep.result.error).toMatch(/include nested too deeply/);
  });

  it('edits the header and writes the message with untouched fields byte for byte', () => {
    const { result, message } = run(
      'require "editheader"; addheader "X-Filtered" "yes"; addheader :last "X-Last" "1"; deleteheader "message-id"; deleteheader "received";',
    );
    expect(result.headerEdited).toBe(true);
    expect(messageWithHeaders(message).toString()).toBe(
      'X-Filtered: yes\r\nReceived: by mx\r\nFrom: Alice <alice@example.com>\r\nSubject: Hi\r\n  there\r\nX-Last: 1\r\n\r\nBody\r\n',
    );
  });

  it('asks the environment whether a message is a duplicate and remembers ids only in the result', () => {
    const seen = new Set(['\u0000<a@b>']);
    const { result } = run('require "duplicate"; if duplicate { discard; }', {
      duplicateSeen: (id) => seen.has(id),
    });
    expect(result.actions).toEqual([{ type: 'discard' }]);
    expect(result.duplicates).toMatchObject([{ id: '\u0000<a@b>', seconds: 604_800 }]);
  });

  it('runs an admin script before the user script, and its stop ends the run', () => {
    const admin = compileScript(
      'require "fileinto"; if header :contains "subject" "hi" { fileinto "Admin"; stop; }',
    );
    const user = compileScript('discard;');
    const result = runScripts([admin, user], {
      message: new SieveMessage(RAW),
      envelope: { from: '', to: 'bob@example.net' },
    });
    expect(result.actions).toMatchObject([{ type: 'fileinto', mailbox: 'Admin' }]);
  });
});
