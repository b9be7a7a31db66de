/**
 * `mallard filters`, `mallard forward` and `mallard vacation` as a user runs them (the real binary,
 * store opened directly): settings saved from a JSON file, shown back, refused readably when
 * wrong, never replacing a hand-written script unless asked, and at work on mail handed in by
 * `mallard deliver`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDataDir, runMallard } from './helpers/cli.ts';

describe('mallard filters, forward, vacation', () => {
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

  it('saves filters from a JSON file and shows them back', () => {
    const settings = {
      filters: [
        { name: 'reports', conditions: { subject: 'report' }, actions: { label: 'Reports', markRead: true } },
      ],
    };
    expect(
      run(['filters', 'set', 'eve@example.test', file('f.json', JSON.stringify(settings))]),
    ).toMatchObject({
      status: 0,
      text: '1 filter(s) saved; in force (script "mallard-filters" is active)\n',
    });
    expect(run(['filters', 'show', 'eve@example.test']).text).toBe(
      [
        'state: in force (script "mallard-filters" is active)',
        'forwarding: off',
        'vacation: off',
        'filter 1 (reports): subject="report" → markRead label="Reports"',
        '',
      ].join('\n'),
    );
    const shown = JSON.parse(run(['filters', 'show', 'eve@example.test', '--json']).text);
    expect(shown).toMatchObject({ state: 'managed', settings: { filters: [{ name: 'reports' }] } });
    // What show --json prints can be set again as it is.
    expect(run(['filters', 'set', 'eve@example.test', '-'], JSON.stringify(shown)).status).toBe(0);
  });

  it('refuses wrong settings with where and why', () => {
    const wrong = run(
      ['filters', 'set', 'eve@example.test', '-'],
      '{"filters":[{"conditions":{},"actions":{"star":true}}]}',
    );
    expect(wrong).toMatchObject({
      status: 65,
      stderr: 'mallard: -: filters.0.conditions: a filter needs at least one condition\n',
    });
    expect(run(['filters', 'set', 'eve@example.test', '-'], '{nope').stderr).toMatch(
      /^mallard: -: not JSON: /,
    );
    expect(run(['forward', 'eve@example.test', 'not-an-address']).stderr).toBe(
      'mallard: not-an-address: must be an email address\n',
    );
    expect(
      run(['vacation', 'eve@example.test', '--subject', 'x', '--body', 'y', '--from', '2026-13-01']).stderr,
    ).toBe('mallard: --from: must be a date (YYYY-MM-DD)\n');
    expect(run(['vacation', 'eve@example.test', '--subject', 'x']).status).toBe(64);
    expect(run(['filters', 'show', 'nobody@example.test']).status).toBe(67);
  });

  it('sets forwarding and vacation, which mallard deliver then carries out', () => {
    expect(run(['forward', 'eve@example.test', 'eve@elsewhere.example', '--keep']).text).toBe(
      'eve@example.test: forwarding to eve@elsewhere.example, keeping a copy\n',
    );
    expect(
      run([
        'vacation',
        'eve@example.test',
        '--subject',
        'Away',
        '--body',
        'Back soon.',
        '--until',
        '2999-01-01',
      ]).text,
    ).toBe('eve@example.test: vacation reply "Away" until 2999-01-01\n');
    const shown = run(['filters', 'show', 'eve@example.test']).text;
    expect(shown).toContain('forwarding: to eve@elsewhere.example, keeping a copy\n');
    expect(shown).toContain('vacation: "Away" until 2999-01-01, once per sender in 7 days\n');
    expect(shown).toContain('filter 1 (reports)');

    const report =
      'From: boss@remote.test\r\nTo: eve@example.test\r\nSubject: Weekly report\r\n\r\nNumbers.\r\n';
    expect(run(['deliver', '--from', 'boss@remote.test', 'eve@example.test'], report).status).toBe(0);
    expect(run(['message', 'list', 'eve@example.test', 'Reports']).text).toMatch(/Weekly report/);
    const queue = run(['queue', 'list']).text;
    expect(queue).toMatch(/eve@elsewhere\.example/);
    expect(queue).toMatch(/boss@remote\.test/);

    expect(run(['vacation', 'eve@example.test', '--off']).text).toBe(
      'eve@example.test: vacation reply off\n',
    );
    expect(run(['forward', 'eve@example.test', '--off']).text).toBe('eve@example.test: forwarding off\n');
    expect(run(['filters', 'show', 'eve@example.test']).text).toMatch(/forwarding: off\nvacation: off\n/);
  });

  it('does not replace a hand-written script unless --overwrite', () => {
    expect(run(['sieve', 'put', 'eve@example.test', 'mine', '-'], 'keep;\n').status).toBe(0);
    expect(run(['sieve', 'activate', 'eve@example.test', 'mine']).status).toBe(0);
    expect(run(['filters', 'show', 'eve@example.test']).text).toMatch(
      /^state: not in force: a hand-written script is active/,
    );
    const refused = run(['forward', 'eve@example.test', 'x@elsewhere.example']);
    expect(refused.status).toBe(65);
    expect(refused.stderr).toMatch(/the active Sieve script "mine" was written by hand/);
    expect(run(['forward', 'eve@example.test', 'x@elsewhere.example', '--overwrite']).status).toBe(0);
    expect(run(['sieve', 'list', 'eve@example.test']).text).toMatch(/^mallard-filters\tactive/m);
  });
});
