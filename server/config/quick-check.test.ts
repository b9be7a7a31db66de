/**
 * The hand-written check (quick-check.ts) against the schema (zod, the source of truth): over valid,
 * boundary and invalid values of every key, it accepts exactly what the schema accepts and returns
 * exactly what the schema returns (same values, same key order).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configRuleToNew } from '../hooks/seed.ts';
import { validateRule } from '../store/rules.ts';
import { configDefaults } from './defaults.ts';
import { ConfigError, configFileOf, loadConfig } from './load.ts';
import { loadConfigLazily, quickCheck, quickCheckPaths, type RuleCheck } from './quick-check.ts';
import { configSchema } from './schema.ts';

const checkRule: RuleCheck = (rule) => void validateRule(configRuleToNew(rule));

/** Values tried at every key: each type, and the boundaries the schema draws. */
const PROBES: unknown[] = [
  ...[-1, 0, 0.05, 0.1, 0.5, 1, 1.5, 3, 24, 32, 31, 255, 256, 599, 600, 1023, 1024, 1799, 1800],
  ...[3600, 3600.5, 3601, 60_000, 60_001, 65535, 65536, 2 ** 53, -0, NaN, Infinity, -Infinity],
  ...['', ' ', 'x', '0.0.0.0', 'sqlite', 'mongodb', 'info', 'silent', 'loud', 'trash', 'expunge'],
  ...['starttls', 'tls', 'none', 'mongodb://db/mallard', 'mongodb+srv://db/x', 'http://db', '143'],
  ...['mallard', '-bad-', 'a'.repeat(63), 'a'.repeat(64), '10.0.0.1', '10.0.0.1:53, [::1]:5353'],
  ...['not-an-ip', '[{"kind":"deny","cidrs":["10.0.0.0/8"]}]', '[{"kind":"nonsense"}]', '{'],
  ...[true, false, null, undefined, [], {}, ['10.0.0.1'], ['10.0.0.1:5353', '::1'], ['x'], [1]],
  ...[[{ kind: 'deny', cidrs: ['10.0.0.0/8'] }], [{ kind: 'max-conn', limit: 20 }], [{ kind: 'deny' }]],
  ...[[{ kind: 'rate', limit: 5, window_seconds: 60, protocols: ['imap'], enabled: false, note: 'n' }]],
  ...[[{ kind: 'deny', cidrs: ['10.0.0.0/33'] }], [{ kind: 'deny', cidrs: ['10.0.0.0/8'], extra: 1 }]],
  ...[[{ kind: 'max-conn', limit: 'many' }]],
  ...[['not a rule'], [{ cidrs: ['10.0.0.0/8'] }], { kind: 'deny' }, { port: 143 }],
];

function setAt(tree: Record<string, unknown>, keyPath: string[], value: unknown): void {
  let node = tree;
  for (const key of keyPath.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[keyPath[keyPath.length - 1]!] = value;
}

/** The leaf key paths of a zod object schema. */
function schemaPaths(schema: z.ZodType, prefix: string[] = []): string[][] {
  if (schema instanceof z.ZodObject) {
    return Object.entries(schema.shape as Record<string, z.ZodType>).flatMap(([key, child]) =>
      schemaPaths(child, [...prefix, key]),
    );
  }
  return [prefix];
}

function compare(tree: unknown): void {
  const expected = configSchema.safeParse(tree);
  const quick = quickCheck(tree, checkRule);
  const label = JSON.stringify(tree);
  expect(quick !== null, `quick check ${quick ? 'accepts' : 'refuses'} ${label}`).toBe(expected.success);
  if (quick && expected.success) {
    expect(quick).toStrictEqual(expected.data);
    expect(JSON.stringify(quick)).toBe(JSON.stringify(expected.data));
  }
}

describe('quickCheck', () => {
  it('knows the keys the schema has, in its order', () => {
    expect(quickCheckPaths()).toEqual(schemaPaths(configSchema));
  });

  it('accepts the defaults and returns what the schema returns', () => {
    compare(configDefaults());
    expect(quickCheck(configDefaults())).not.toBeNull();
  });

  it.each(quickCheckPaths().map((keyPath) => [keyPath.join('.'), keyPath] as const))(
    'agrees with the schema on every probe value of %s',
    (_, keyPath) => {
      for (const probe of PROBES) {
        const tree = configDefaults() as Record<string, unknown>;
        setAt(tree, keyPath, probe);
        compare(tree);
      }
    },
  );

  it('refuses what the schema refuses in the shape: extra, missing and mistyped sections', () => {
    const extra = { ...configDefaults(), surplus: 1 };
    const missing: Record<string, unknown> = configDefaults();
    delete missing.imap;
    const flat = { ...configDefaults(), imap: 143 };
    const innerExtra = configDefaults() as Record<string, unknown>;
    (innerExtra.imap as Record<string, unknown>).surplus = 1;
    for (const tree of [extra, missing, flat, innerExtra, null, [], 'config']) compare(tree);
  });

  it('leaves a list of rules to zod when it is given no rule check', () => {
    const tree = { ...configDefaults(), rules: [{ kind: 'deny', cidrs: ['10.0.0.0/8'] }] };
    expect(quickCheck(tree)).toBeNull();
    expect(quickCheck(tree, checkRule)).not.toBeNull();
  });

  it('leaves to zod a rule key given as undefined (no YAML, JSON or environment value is)', () => {
    const rules = [{ kind: 'deny', cidrs: ['10.0.0.0/8'], note: undefined }];
    const tree = { ...configDefaults(), rules };
    expect(configSchema.safeParse(tree).success).toBe(true);
    expect(quickCheck(tree, checkRule)).toBeNull();
  });
});

describe('loadConfigLazily', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  function writeConfig(text: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-quick-'));
    dirs.push(dir);
    const file = path.join(dir, 'mallard.yaml');
    fs.writeFileSync(file, text);
    return file;
  }
  async function problemsOf(load: () => unknown): Promise<string[]> {
    try {
      await load();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).problems;
    }
    throw new Error('expected a ConfigError');
  }

  it('gives what loadConfig gives, and remembers the file', async () => {
    const file = writeConfig(
      'imap:\n  port: 1143\nrules:\n  - kind: deny\n    cidrs: [10.0.0.0/8]\ndns:\n  servers: [127.0.0.1:5353]\n',
    );
    const env = { MALLARD_POP3_DELETE_MODE: 'trash', MALLARD_STORE_SQLITE_CALL_TIMEOUT: '2.5' };
    const lazily = await loadConfigLazily({ file, env });
    expect(lazily).toStrictEqual(loadConfig({ file, env }));
    expect(configFileOf(lazily)).toBe(path.resolve(file));
    const fromEnv = {
      MALLARD_DNS_SERVERS: '10.0.0.1, [::1]:53',
      MALLARD_RULES: '[{"kind":"max-conn","limit":3}]',
    };
    expect(await loadConfigLazily({ env: fromEnv })).toStrictEqual(loadConfig({ env: fromEnv }));
  });

  it('refuses with the words of the schema', async () => {
    const file = writeConfig('imap:\n  port: 70000\nrules:\n  - kind: deny\n    cidrs: [10.0.0.0/33]\n');
    const env = { MALLARD_LOG_LEVEL: 'loud' };
    const expected = await problemsOf(() => loadConfig({ file, env }));
    expect(expected.length).toBe(3);
    expect(await problemsOf(() => loadConfigLazily({ file, env }))).toEqual(expected);
    expect(await problemsOf(() => loadConfigLazily({ file: writeConfig('bogus: 1\n'), env: {} }))).toEqual([
      expect.stringMatching(/^bogus: unknown key/),
    ]);
  });
});
