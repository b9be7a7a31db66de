/**
 * `mallard rule ...`: most cases call the command in this process (a child process costs seconds
 * on a busy machine); a few run the real `mallard` command to check the wiring and exit codes.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CliError } from '../../server/cli/cli-error.ts';
import { ruleCommand } from '../../server/cli/commands/rule.ts';
import { isStoreError } from '../../server/store/errors.ts';
import type { ConnectionRule } from '../../server/store/types.ts';
import { makeDataDir, runMallard } from '../helpers/cli.ts';

/** Runs `mallard rule ARGS` in this process: exit code (as the CLI maps it), stdout, error text. */
async function rule(...args: string[]): Promise<{ status: number; text: string; error: string }> {
  const output: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    output.push(String(chunk));
    return true;
  });
  try {
    const status = await ruleCommand(args);
    return { status, text: output.join(''), error: '' };
  } catch (error) {
    if (error instanceof CliError) return { status: error.code, text: output.join(''), error: error.message };
    if (isStoreError(error, 'INVALID')) return { status: 65, text: output.join(''), error: error.message };
    throw error;
  } finally {
    spy.mockRestore();
  }
}

describe('mallard rule', () => {
  let dataDir: string;
  const saved = { dir: process.env.MALLARD_DATA_DIR, config: process.env.MALLARD_CONFIG };

  const ok = async (...args: string[]) => {
    const result = await rule(...args);
    expect(result.error).toBe('');
    expect(result.status).toBe(0);
    return result.text;
  };
  const lines = async () =>
    (await ok('list'))
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split('\t'));

  beforeAll(() => {
    dataDir = makeDataDir();
    process.env.MALLARD_DATA_DIR = dataDir;
    process.env.MALLARD_CONFIG = '';
  });
  afterAll(() => {
    process.env.MALLARD_DATA_DIR = saved.dir;
    process.env.MALLARD_CONFIG = saved.config;
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists nothing at first', async () => {
    expect(await ok('list')).toBe('');
    expect(JSON.parse(await ok('list', '--json'))).toEqual([]);
  });

  it('adds every kind of rule, with protocols and notes', async () => {
    expect(
      await ok('add', 'deny', '10.1.0.0/8,2001:DB8::/32', '--protocol', 'imap', '--protocol', 'pop3'),
    ).toBe('1\tadded at position 1: deny 10.0.0.0/8,2001:db8::/32\n');
    await ok('add', 'allow', '192.168.0.0/16', '--note', 'the LAN', '--position', '1');
    await ok('add', 'max-conn', '20', '--protocol', 'smtp,lmtp');
    await ok('add', 'rate', '60');
    await ok('add', 'lockout', '5', '--window', '900', '-p', 'imap');
    await ok('add', 'require-tls');
    expect(await lines()).toEqual([
      ['2', '1', 'allow', '192.168.0.0/16', 'all', 'enabled', 'the LAN'],
      ['1', '2', 'deny', '10.0.0.0/8,2001:db8::/32', 'imap,pop3', 'enabled', ''],
      ['3', '3', 'max-conn', '20', 'lmtp,smtp', 'enabled', ''],
      ['4', '4', 'rate', '60/min', 'all', 'enabled', ''],
      ['5', '5', 'lockout', '5 in 900s', 'imap', 'enabled', ''],
      ['6', '6', 'require-tls', '-', 'all', 'enabled', ''],
    ]);
    const json = JSON.parse(await ok('list', '--json')) as ConnectionRule[];
    expect(json[4]).toMatchObject({
      id: '5',
      kind: 'lockout',
      limit: 5,
      windowSeconds: 900,
      protocols: ['imap'],
    });
  });

  it.each([
    [['add', 'deny', '10.0.0.0/33'], 65, /bad prefix length in 10\.0\.0\.0\/33/],
    [['add', 'allow', 'example.com'], 65, /not an IP address or CIDR range: example\.com/],
    [['add', 'max-conn', 'many'], 65, /not a whole number/],
    [['add', 'rate', '0'], 65, /not a whole number/],
    [['add', 'deny', '10.0.0.0/8', '--protocol', 'http'], 65, /unknown protocol: http/],
    [['add', 'lockout', '5'], 64, /missing --window/],
    [['add', 'rate', '5', '--window', '60'], 64, /--window is for lockout/],
    [['add', 'deny'], 64, /missing CIDR/],
    [['add', 'greylist'], 64, /unknown rule kind: greylist/],
    [['add', 'require-tls', 'now'], 64, /unexpected argument: now/],
    [['del', '99'], 65, /no such rule: 99/],
    [['move', '1'], 64, /missing POSITION/],
    [['move', '1', 'first'], 65, /not a whole number/],
    [['test', 'nope'], 65, /not an IP address: nope/],
    [['test', '10.0.0.1', '-p', 'imap,pop3'], 64, /one --protocol/],
    [['frobnicate'], 64, /unknown action/],
  ])('refuses %j (exit %i)', async (args, status, message) => {
    const result = await rule(...args);
    expect(result.status).toBe(status);
    expect(result.error).toMatch(message);
  });

  it('stored nothing for the refused commands', async () => {
    expect(await lines()).toHaveLength(6);
  });

  it('moves, disables and deletes rules', async () => {
    expect(await ok('move', '6', '1')).toBe('6\tnow at position 1\n');
    expect(await ok('disable', '6')).toBe('6\tdisabled\n');
    expect((await lines())[0]).toEqual(['6', '1', 'require-tls', '-', 'all', 'disabled', '']);
    expect(await ok('del', '4')).toBe('4\tdeleted\n');
    expect((await lines()).map(([id, position]) => `${position}:${id}`)).toEqual([
      '1:6',
      '2:2',
      '3:1',
      '4:3',
      '5:5',
    ]);
  });

  it('tests an address in a dry run', async () => {
    expect(await ok('test', '::ffff:10.9.9.9')).toBe(
      'connect: refused by rule 1 (#3 deny 10.0.0.0/8,2001:db8::/32): "Connection refused"\n' +
        'login (no tls): refused by rule 1 (#3 deny 10.0.0.0/8,2001:db8::/32): "Connection refused"\n',
    );
    expect(await ok('test', '10.9.9.9', '--protocol', 'smtp')).toMatch(
      /^connect: allowed \(no rule decides\)\n/,
    );
    expect(await ok('test', '192.168.1.20')).toMatch(
      /^connect: allowed by rule 2 \(#2 allow 192\.168\.0\.0\/16\)\n/,
    );
    await ok('enable', '6');
    expect(await ok('test', '203.0.113.5')).toBe(
      'connect: allowed (no rule decides)\nlogin (no tls): refused by rule 6 (#1 require-tls): "Authentication failed"\n',
    );
    expect(await ok('test', '203.0.113.5', '--tls')).toMatch(/login \(tls\): allowed \(no rule decides\)/);
    const json = JSON.parse(await ok('test', '2001:db8::1', '--json')) as {
      connect: { allow: boolean; rule: { id: string } };
    };
    expect(json.connect).toMatchObject({ allow: false, rule: { id: '1' } });
  });

  it('works as the real mallard command, with its exit codes', () => {
    const run = (...args: string[]) => runMallard(['rule', ...args], { dataDir });
    const added = run('add', 'deny', '198.51.100.0/24', '--note', 'from a child process');
    expect(added.stderr).toBe('');
    expect(added.text).toMatch(/^7\tadded at position 6: deny 198\.51\.100\.0\/24\n$/);
    const bad = run('add', 'deny', '198.51.100.0/24/1');
    expect(bad.status).toBe(65);
    expect(bad.stderr).toBe('mallard: bad prefix length in 198.51.100.0/24/1: expected 0 to 32\n');
    const list = run('list');
    expect(list.status).toBe(0);
    expect(
      list.text
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split('\t')[0]),
    ).toEqual(['6', '2', '1', '3', '5', '7']);
  });
});
