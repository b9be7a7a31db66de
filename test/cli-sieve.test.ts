/**
 * `mallard sieve` as a user runs it (the real binary, store opened directly): check a file, upload
 * (refused with line and column when broken), activate, list, and the script at work on mail
 * handed in by `mallard deliver`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDataDir, runMallard } from './helpers/cli.ts';

describe('mallard sieve', () => {
  let dataDir: string;
  const run = (args: string[], input?: Buffer | string) => runMallard(args, { dataDir, input });
  const file = (name: string, content: string) => {
    const target = path.join(dataDir, name);
    fs.writeFileSync(target, content);
    return target;
  };

  beforeAll(() => {
    dataDir = makeDataDir();
    expect(run(['domain', 'add', 'example.test']).status).toBe(0);
    expect(run(['user', 'add', 'eve@example.test', '--password', 'correct horse']).status).toBe(0);
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('checks a file: ok, or the error with line and column and exit 65', () => {
    const good = file('good.sieve', 'require "fileinto";\nfileinto "Lists";\n');
    expect(run(['sieve', 'check', good])).toMatchObject({ status: 0, text: `${good}: ok\n` });
    const bad = file(
      'bad.sieve',
      'require "fileinto";\nif header :is "subject" "x" {\n  fileinto "Lists"\n}\n',
    );
    const checked = run(['sieve', 'check', bad]);
    expect(checked.status).toBe(65);
    expect(checked.stderr).toBe(`${bad}:4:1: expected ";" or "{", found punct "}"\n`);
    expect(run(['sieve', 'check', path.join(dataDir, 'missing.sieve')]).status).toBe(66);
  });

  it('stores, activates and lists scripts, refusing a broken one', () => {
    const broken = run(['sieve', 'put', 'eve@example.test', 'broken', '-'], 'fileinto "x";');
    expect(broken.status).toBe(65);
    expect(broken.stderr).toMatch(/line 1, column 1: command "fileinto" used without require "fileinto"/);
    const script =
      'require ["fileinto", "mailbox"];\nif header :contains "subject" "report" { fileinto :create "Reports"; }\n';
    expect(run(['sieve', 'put', 'eve@example.test', 'main', file('main.sieve', script)]).text).toBe(
      'main\tstored\n',
    );
    expect(run(['sieve', 'activate', 'eve@example.test', 'main']).text).toBe('main\tactive\n');
    expect(run(['sieve', 'activate', 'eve@example.test', 'nope']).status).toBe(67);
    expect(run(['sieve', 'list', 'eve@example.test']).text).toMatch(
      /^main\tactive\t\d{4}-\d\d-\d\dT[^\n]+\n$/,
    );
    expect(JSON.parse(run(['sieve', 'list', 'eve@example.test', '--json']).text)).toMatchObject([
      { name: 'main', active: true, content: script },
    ]);
  });

  it('runs the active script on mail handed in by mallard deliver', () => {
    const report =
      'From: boss@remote.test\r\nTo: eve@example.test\r\nSubject: Weekly report\r\n\r\nNumbers.\r\n';
    expect(run(['deliver', '--from', 'boss@remote.test', 'eve@example.test'], report).status).toBe(0);
    expect(run(['message', 'list', 'eve@example.test', 'Reports']).text).toMatch(/Weekly report/);
    expect(run(['message', 'list', 'eve@example.test', 'INBOX']).text).not.toMatch(/Weekly report/);
  });
});
