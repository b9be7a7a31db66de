import fs from 'node:fs';
import { withCrlfLineEnds } from '../server/mime/line-ends.ts';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDataDir, runMallard } from './helpers/cli.ts';
import { freshDatabaseUri, startMongoStandIn, type MongoStandIn } from './helpers/mongo.ts';

// 8-bit bytes, a bare LF, a CR alone and no final line end: all must come back as they went in.
const MESSAGE = Buffer.concat([
  Buffer.from('From: Alice <alice@example.org>\r\nTo: bob@example.test\r\nSubject: Hello there\r\n'),
  Buffer.from(
    'Content-Type: text/plain; charset=iso-8859-1\r\n\r\nGr\xfc\xdfe aus K\xf6ln\r\nbare lf\nlone cr\rend',
    'latin1',
  ),
]);

/** Every command works on either store engine: the same tests run on both. */
let mongo: MongoStandIn | null = null;
const ENGINES: ReadonlyArray<{ engine: string; env: () => Promise<NodeJS.ProcessEnv> }> = [
  { engine: 'sqlite', env: async () => ({}) },
  {
    engine: 'mongodb',
    env: async () => {
      mongo ??= await startMongoStandIn();
      return { MALLARD_STORE_ENGINE: 'mongodb', MALLARD_STORE_MONGODB_URI: freshDatabaseUri(mongo.uri) };
    },
  },
];

afterAll(async () => {
  await mongo?.stop();
});

describe.each(ENGINES)('mallard CLI on the $engine store', ({ engine, env: storeEnv }) => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  const run = (args: string[], input?: Buffer | string) => runMallard(args, { dataDir, input, env });

  beforeAll(async () => {
    dataDir = makeDataDir();
    env = await storeEnv();
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('refuses a user in a domain that is not local, until the domain is added', () => {
    const refused = run(['user', 'add', 'bob@example.test', '--password', 'correct horse']);
    expect(refused.status).toBe(65);
    expect(refused.stderr).toContain('mallard domain add example.test');
    expect(run(['domain', 'add', 'mail']).stderr).toMatch(/at least one dot/);
    expect(run(['domain', 'add', 'Example.TEST']).text).toBe('example.test\tadded\n');
    const again = run(['domain', 'add', 'example.test']);
    expect(again.status).toBe(65);
    expect(again.stderr).toMatch(/exists/);
    expect(run(['domain', 'list']).text).toBe('example.test\t-\tdkim\n');
  });

  it('adds users with a password from the command line or stdin', () => {
    expect(run(['user', 'add', 'bob@example.test', '--password', 'correct horse']).status).toBe(0);
    const fromStdin = run(
      ['user', 'add', 'Carol@Example.test', '--password', '-', '--quota', '10M'],
      'battery staple\n',
    );
    expect(fromStdin.stderr).toBe('');
    expect(fromStdin.status).toBe(0);
    const again = run(['user', 'add', 'bob@example.test', '--password', 'whatever1']);
    expect(again.status).not.toBe(0);
    expect(again.stderr).toMatch(/exists/i);
  });

  it('lists users one per line beginning with the address, and as JSON', () => {
    const list = run(['user', 'list']);
    expect(list.status).toBe(0);
    expect(
      list.text
        .trim()
        .split('\n')
        .map((line) => line.split('\t')[0]),
    ).toEqual(['bob@example.test', 'carol@example.test']);
    const json = JSON.parse(run(['user', 'list', '--json']).text) as Array<{
      username: string;
      quotaBytes: number;
    }>;
    expect(json.map((user) => user.username)).toEqual(['bob@example.test', 'carol@example.test']);
    expect(json[1]!.quotaBytes).toBe(10 * 1024 * 1024);
  });

  it('delivers, then shows the trace header fields and the exact bytes after a restart', () => {
    const delivered = run(['deliver', '--from', 'alice@example.org', 'bob@example.test'], MESSAGE);
    expect(delivered.stderr).toBe('');
    expect(delivered.status).toBe(0);
    const list = run(['message', 'list', 'bob@example.test', 'INBOX']);
    expect(list.status).toBe(0);
    const [uid] = list.text.trim().split('\t');
    expect(uid).toBe('1');
    expect(list.text).toContain('Hello there');
    const shown = run(['message', 'show', 'bob@example.test', 'INBOX', '1', '--raw']);
    expect(shown.status).toBe(0);
    // The message is stored with its one bare LF made CRLF (as IMAP and POP3 send it).
    const stored = withCrlfLineEnds(MESSAGE);
    const header = shown.stdout.subarray(0, shown.stdout.length - stored.length).toString('utf8');
    expect(header).toMatch(
      /^Return-Path: <alice@example\.org>\r\nDelivered-To: bob@example\.test\r\nReceived: by \S+ \(Mallard(, from userid \d+)?\)\r\n\tid [0-9a-f]+\r\n\tfor <bob@example\.test>; .+\r\n$/,
    );
    expect(shown.stdout.subarray(header.length).equals(stored)).toBe(true);
  });

  it('delivers through an alias and a catch-all', () => {
    expect(run(['alias', 'add', 'robert@example.test', 'bob@example.test']).status).toBe(0);
    expect(run(['alias', 'add', '*@example.test', 'carol@example.test']).status).toBe(0);
    expect(run(['deliver', 'robert@example.test', 'anyone@example.test'], MESSAGE).status).toBe(0);
    expect(run(['message', 'list', 'bob@example.test', 'INBOX']).text.trim().split('\n')).toHaveLength(2);
    expect(run(['message', 'list', 'carol@example.test', 'INBOX']).text.trim().split('\n')).toHaveLength(1);
  });

  it('shows, sets and removes a domain; the catch-all set by alias shows on it', () => {
    const shown = run(['domain', 'show', 'example.test']);
    expect(shown.status).toBe(0);
    expect(shown.text).toMatch(/^catch-all: carol@example\.test$/m);
    expect(shown.text).toMatch(/^example\.test\. IN MX 10 \S+\.$/m);
    expect(shown.text).toMatch(/^_dmarc\.example\.test\. IN TXT "v=DMARC1; p=quarantine/m);
    expect(shown.text).toMatch(/^_imaps\._tcp\.example\.test\. IN SRV 0 1 \d+ \S+\.$/m);
    const json = JSON.parse(run(['domain', 'show', 'example.test', '--json']).text) as {
      dkim: boolean;
      records: Array<{ purpose: string }>;
    };
    expect(json.records.map((record) => record.purpose)).toContain('DKIM');
    expect(run(['domain', 'set', 'example.test', '--dkim', 'off', '--catch-all', 'none']).text).toBe(
      'example.test\t-\tno-dkim\n',
    );
    expect(run(['domain', 'set', 'example.test', '--catch-all', 'robert@example.test']).text).toBe(
      'example.test\tbob@example.test\tno-dkim\n',
    );
    expect(run(['domain', 'set', 'example.test', '--dkim', 'maybe']).status).toBe(64);
    const inUse = run(['domain', 'remove', 'example.test']);
    expect(inUse.status).toBe(65);
    expect(inUse.stderr).toMatch(/used by 2 users and 1 alias/);
    expect(run(['domain', 'add', 'spare.example']).status).toBe(0);
    expect(run(['domain', 'remove', 'spare.example']).text).toBe('spare.example\tremoved\n');
    expect(run(['domain', 'show', 'spare.example']).status).toBe(65);
    expect(
      run(['domain', 'set', 'example.test', '--dkim', 'on', '--catch-all', 'carol@example.test']).status,
    ).toBe(0);
  });

  it('exits 67 for an unknown recipient, after delivering to the known ones', () => {
    const result = run(['deliver', 'bob@example.test', 'nobody@elsewhere.test'], MESSAGE);
    expect(result.status).toBe(67);
    expect(result.stderr).toContain('nobody@elsewhere.test\tunknown user');
    expect(run(['message', 'list', 'bob@example.test', 'INBOX']).text.trim().split('\n')).toHaveLength(3);
  });

  it('exits 75 when the mailbox is over quota', () => {
    expect(
      run(['user', 'add', 'tiny@example.test', '--password', 'password1', '--quota', '100']).status,
    ).toBe(0);
    const result = run(['deliver', 'tiny@example.test'], MESSAGE);
    expect(result.status).toBe(75);
    expect(result.stderr).toMatch(/quota/);
  });

  it('lists mailboxes with the special-use ones', () => {
    const result = run(['mailbox', 'list', 'bob@example.test']);
    expect(result.status).toBe(0);
    const paths = result.text
      .trim()
      .split('\n')
      .map((line) => line.split('\t')[0]);
    expect(paths).toEqual(expect.arrayContaining(['INBOX', 'Sent', 'Drafts', 'Trash', 'Junk', 'Archive']));
    expect(result.text).toMatch(/^Sent\t\\Sent\t/m);
  });

  it('changes a password and deletes a user', () => {
    expect(run(['user', 'passwd', 'carol@example.test'], 'new password here\n').status).toBe(0);
    expect(run(['user', 'del', 'carol@example.test']).status).toBe(0);
    expect(run(['user', 'show', 'carol@example.test']).status).toBe(67);
  });

  it('shows status', () => {
    const result = run(['status', '--json']);
    expect(result.status).toBe(0);
    expect(JSON.parse(result.text)).toMatchObject({ store: { ok: true, engine }, users: 2 });
  });

  it('refuses a bad configuration value naming the key, the value and what is expected', () => {
    const result = runMallard(['status'], { dataDir, env: { ...env, MALLARD_IMAP_PORT: 'many' } });
    expect(result.status).toBe(78);
    expect(result.stderr).toContain('imap.port: got "many" (from MALLARD_IMAP_PORT), expected a port number');
  });

  it('refuses a bad config file', () => {
    const file = path.join(dataDir, 'bad.yml');
    fs.writeFileSync(file, 'store:\n  engine: oracle\n');
    // Without the engine's environment: a variable would win over the file.
    const result = runMallard(['status', '--config', file], { dataDir });
    expect(result.status).toBe(78);
    expect(result.stderr).toContain(`store.engine: got "oracle" (in ${file}), expected sqlite or mongodb`);
  });

  it('gives usage errors on stderr with exit 64', () => {
    const result = run(['user', 'frobnicate']);
    expect(result.status).toBe(64);
    expect(result.stderr).toMatch(/usage:/);
    expect(run(['nonsense']).status).toBe(64);
    expect(run(['message', 'show', 'bob@example.test', 'INBOX', 'x']).status).toBe(64);
  });
});
