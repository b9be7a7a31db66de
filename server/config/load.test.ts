import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, envName, leafPaths, loadConfig } from './load.ts';
import { configDefaults } from './defaults.ts';

const tmpDirs: string[] = [];
function writeConfig(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-config-'));
  tmpDirs.push(dir);
  const file = path.join(dir, 'mallard.yml');
  fs.writeFileSync(file, text);
  return file;
}
afterEach(() => {
  for (const dir of tmpDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('works with no file and no environment', () => {
    const config = loadConfig({ env: {} });
    expect(config.imap.port).toBe(143);
    expect(config.imap.tls_port).toBe(993);
    expect(config.pop3.idle_timeout).toBe(600);
    expect(config.store.engine).toBe('sqlite');
    expect(config.lmtp.host).toBe('127.0.0.1');
  });

  it('reads snake_case keys from a YAML file', () => {
    const file = writeConfig(
      'data_dir: /srv/mail\nimap:\n  port: 1143\n  tls_port: 0\nstore:\n  engine: mongodb\n',
    );
    const config = loadConfig({ file, env: {} });
    expect(config.data_dir).toBe('/srv/mail');
    expect(config.imap.port).toBe(1143);
    expect(config.imap.tls_port).toBe(0);
    expect(config.imap.host).toBe('0.0.0.0');
    expect(config.store.engine).toBe('mongodb');
  });

  it('takes the file from MALLARD_CONFIG', () => {
    const file = writeConfig('hostname: mail.example.net\n');
    expect(loadConfig({ env: { MALLARD_CONFIG: file } }).hostname).toBe('mail.example.net');
  });

  it('lets the environment override the file', () => {
    const file = writeConfig('imap:\n  port: 1143\n');
    const config = loadConfig({
      file,
      env: {
        MALLARD_IMAP_PORT: '2143',
        MALLARD_IMAP_TLS_PORT: '2993',
        MALLARD_DATA_DIR: '/var/lib/mallard',
        MALLARD_STORE_ENGINE: 'mongodb',
        MALLARD_STORE_MONGODB_URI: 'mongodb://db1,db2/mallard?replicaSet=rs0',
        MALLARD_POP3_DELETE_MODE: 'trash',
      },
    });
    expect(config.imap.port).toBe(2143);
    expect(config.imap.tls_port).toBe(2993);
    expect(config.data_dir).toBe('/var/lib/mallard');
    expect(config.store.engine).toBe('mongodb');
    expect(config.store.mongodb.uri).toBe('mongodb://db1,db2/mallard?replicaSet=rs0');
    expect(config.pop3.delete_mode).toBe('trash');
  });

  it('has an environment variable for every key', () => {
    const names = leafPaths(configDefaults()).map(envName);
    expect(names).toContain('MALLARD_IMAP_TLS_PORT');
    expect(names).toContain('MALLARD_LIMITS_MAX_MESSAGE_SIZE');
    expect(new Set(names).size).toBe(names.length);
  });

  it.each([
    [
      { MALLARD_IMAP_PORT: 'abc' },
      /^imap\.port: got "abc" \(from MALLARD_IMAP_PORT\), expected a port number/,
    ],
    [{ MALLARD_IMAP_PORT: '70000' }, /^imap\.port: got 70000 .*expected a port number from 0 to 65535/],
    [{ MALLARD_STORE_ENGINE: 'postgres' }, /^store\.engine: got "postgres" .*expected sqlite or mongodb/],
    [{ MALLARD_POP3_IDLE_TIMEOUT: '60' }, /^pop3\.idle_timeout: got 60 .*at least 600 \(RFC 1939\)/],
    [{ MALLARD_STORE_MONGODB_URI: 'http://x' }, /^store\.mongodb\.uri: got "http:\/\/x" .*mongodb:\/\//],
  ])('refuses a bad environment value %o naming key, value and expectation', (env, pattern) => {
    const problems = problemsOf(() => loadConfig({ env }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(pattern);
  });

  it('refuses unknown keys and wrong types in the file, naming the file', () => {
    const file = writeConfig('imap:\n  prot: 1\npop3: 5\nlog_level: loud\n');
    const problems = problemsOf(() => loadConfig({ file, env: {} }));
    expect(problems).toEqual(
      expect.arrayContaining([
        `imap.prot: unknown key (in ${file})`,
        `pop3: got 5 (in ${file}), expected a section`,
      ]),
    );
  });

  it('names the file in value errors', () => {
    const file = writeConfig('log_level: loud\n');
    expect(problemsOf(() => loadConfig({ file, env: {} }))).toEqual([
      `log_level: got "loud" (in ${file}), expected one of fatal, error, warn, info, debug, trace, silent`,
    ]);
  });

  it('reports an unreadable file and invalid YAML clearly', () => {
    expect(problemsOf(() => loadConfig({ file: '/nonexistent/mallard.yml', env: {} }))[0]).toMatch(
      /^cannot read config file \/nonexistent\/mallard\.yml/,
    );
    const file = writeConfig('imap: [1, 2\n');
    expect(problemsOf(() => loadConfig({ file, env: {} }))[0]).toMatch(/is not valid YAML/);
  });
});
