import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config/load.ts';
import { SqliteStore } from '../store/sqlite/index.ts';
import { startRuleHooks } from './runner.ts';
import { seedConfiguredRules } from './seed.ts';

const silent = pino({ level: 'silent' });

describe('connection rules from the configuration', () => {
  let dir: string;
  let store: SqliteStore;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-seed-'));
    store = await SqliteStore.open(dir);
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function configFile(yaml: string): string {
    const file = path.join(dir, 'mallard.yaml');
    fs.writeFileSync(file, yaml);
    return file;
  }

  it('defaults to no rules', () => {
    expect(loadConfig({ env: {} }).rules).toEqual([]);
    expect(loadConfig({ env: { MALLARD_RULES: '' } }).rules).toEqual([]);
  });

  it('reads rules from the YAML file and from MALLARD_RULES as JSON', () => {
    const file = configFile(`
rules:
  - { kind: allow, cidrs: [192.168.0.0/16] }
  - kind: lockout
    limit: 5
    window_seconds: 900
    protocols: [imap, pop3]
`);
    expect(loadConfig({ file, env: {} }).rules).toEqual([
      { kind: 'allow', cidrs: ['192.168.0.0/16'] },
      { kind: 'lockout', limit: 5, window_seconds: 900, protocols: ['imap', 'pop3'] },
    ]);
    const env = { MALLARD_RULES: '[{"kind":"max-conn","limit":20}]' };
    expect(loadConfig({ file, env }).rules).toEqual([{ kind: 'max-conn', limit: 20 }]);
  });

  it.each([
    ['not json', /^rules: got "not json" \(from MALLARD_RULES\), expected a list of connection rules/],
    ['[{"kind":"deny","cidrs":["10.0.0.0/33"]}]', /expected valid rules \(rule 1: bad prefix length/],
    ['[{"kind":"allow"}]', /rule 1: an allow rule needs at least one address/],
    ['[{"kind":"rate","limit":5},{"kind":"lockout","limit":5}]', /rule 2: a lockout rule needs a window/],
    ['[{"kind":"deny","cidrs":["10.0.0.0/8"],"protocols":["ftp"]}]', /unknown protocol "ftp"/],
  ])('refuses MALLARD_RULES=%s', (text, message) => {
    let problems: string[] = [];
    try {
      loadConfig({ env: { MALLARD_RULES: text } });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      problems = (error as ConfigError).problems;
    }
    expect(problems.join('\n')).toMatch(message);
  });

  it('seeds a store that never had rules, once', async () => {
    const rules = [
      { kind: 'deny', cidrs: ['198.51.100.0/24'] },
      { kind: 'rate', limit: 30, protocols: ['smtp'] },
    ];
    expect(await seedConfiguredRules(store, rules, silent)).toBe(true);
    const seeded = await store.listRules();
    expect(seeded.map((rule) => [rule.kind, rule.note])).toEqual([
      ['deny', 'from the configuration file'],
      ['rate', 'from the configuration file'],
    ]);
    expect(await seedConfiguredRules(store, [{ kind: 'require-tls' }], silent)).toBe(false);
    expect(await store.listRules()).toEqual(seeded);
  });

  it('starts hooks with the seeded rules in force', async () => {
    const hooks = await startRuleHooks(store, [{ kind: 'deny', cidrs: ['198.51.100.0/24'] }], silent, {
      pollMs: 0,
    });
    try {
      expect((await hooks.test('198.51.100.7', 'pop3')).connect.allow).toBe(false);
      expect(hooks.rules()).toHaveLength(1);
    } finally {
      hooks.stop();
    }
  });

  it('fails to start when the rules cannot be read', async () => {
    await store.close();
    await expect(startRuleHooks(store, [], silent)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    store = await SqliteStore.open(dir);
  });
});
