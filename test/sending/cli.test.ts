/**
 * `mallard queue ...` and `mallard dkim show` as a person runs them (the real bin, a real sqlite
 * store in a temp data dir).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../server/store/sqlite/store.ts';
import { makeDataDir, runMallard } from '../helpers/cli.ts';

let dataDir: string;
let queueId: string;
const env = { MALLARD_ADMIN_PORT: '0' };
const run = (args: string[]) => runMallard(args, { dataDir, env });

beforeAll(async () => {
  dataDir = makeDataDir();
  const store = await SqliteStore.open(dataDir);
  await store.createDomain({ name: 'example.test' });
  const queued = await store.enqueueOutbound({
    userId: null,
    sender: 'alice@example.test',
    recipients: ['bob@remote.test'],
    raw: Buffer.from('Subject: hi\r\n\r\nhello\r\n'),
  });
  queueId = queued.id;
  await store.claimOutbound('test', 60_000, 1);
  await store.recordOutbound(queueId, 'test', 'bob@remote.test', {
    state: 'deferred',
    error: '451 4.7.1 Greylisted',
    nextAttemptAt: new Date(Date.now() + 3_600_000),
  });
  await store.releaseOutbound(queueId, 'test');
  await store.close();
});
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

describe('mallard queue', () => {
  it('lists, shows, retries and deletes queued messages', () => {
    const list = run(['queue', 'list']);
    expect(list.status).toBe(0);
    expect(list.text).toMatch(
      new RegExp(`^${queueId}\\t.*\\t<alice@example\\.test>\\t22 bytes\\tbob@remote\\.test:deferred\\n$`),
    );
    const shown = run(['queue', 'show', queueId, '--json']);
    const json = JSON.parse(shown.text) as {
      recipients: Array<{ lastError: string; nextAttemptAt: string }>;
    };
    expect(json.recipients[0]!.lastError).toBe('451 4.7.1 Greylisted');
    expect(Date.parse(json.recipients[0]!.nextAttemptAt)).toBeGreaterThan(Date.now() + 3_000_000);
    expect(run(['queue', 'retry', queueId]).status).toBe(0);
    const retried = JSON.parse(run(['queue', 'show', queueId, '--json']).text) as typeof json;
    expect(Date.parse(retried.recipients[0]!.nextAttemptAt)).toBeLessThanOrEqual(Date.now());
    expect(run(['queue', 'delete', queueId]).status).toBe(0);
    expect(run(['queue', 'list']).text).toBe('');
    const missing = run(['queue', 'show', queueId]);
    expect(missing.status).toBe(67);
    expect(run(['queue', 'delete', queueId]).status).toBe(67);
    expect(run(['queue', 'frobnicate']).status).toBe(64);
  });
});

describe('mallard dkim show', () => {
  it('prints the TXT record of a key made on first use, kept 0600 and stable', () => {
    const first = run(['dkim', 'show', 'example.test']);
    expect(first.status).toBe(0);
    expect(first.text).toMatch(
      /^mallard\._domainkey\.example\.test\. IN TXT \( "v=DKIM1; k=rsa; p=[A-Za-z0-9+/=" ]+\)\n$/,
    );
    const file = path.join(dataDir, 'dkim', 'example.test.mallard.pem');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const json = JSON.parse(run(['dkim', 'show', 'example.test', '--json']).text) as { value: string };
    // The same key as the file's, 2048-bit RSA.
    const key = crypto.createPublicKey(fs.readFileSync(file, 'utf8'));
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(json.value).toBe(
      `v=DKIM1; k=rsa; p=${key.export({ type: 'spki', format: 'der' }).toString('base64')}`,
    );
    expect(run(['dkim', 'show', 'not a domain']).status).toBe(64);
  });
});

describe('mallard dkim rotate and retire', () => {
  it('adds an ed25519 key beside rsa, rotates rsa to a new selector keeping the old one published, and retires it', () => {
    const rotated = run(['dkim', 'rotate', 'rotate.test', '--ed25519']);
    expect(rotated.status).toBe(0);
    // The default rsa key and the new ed25519 key both sign.
    expect(rotated.text).toMatch(/; rsa, signing\nmallard\._domainkey\.rotate\.test\. IN TXT/);
    expect(rotated.text).toMatch(
      /; ed25519, signing\nmallard-ed-\d{8}\._domainkey\.rotate\.test\. IN TXT \( "v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=" \)/,
    );
    const json = JSON.parse(run(['dkim', 'rotate', 'rotate.test', '--json']).text) as Array<{
      selector: string;
      algorithm: string;
      active: boolean;
    }>;
    const summary = json.map(({ selector, algorithm, active }) => `${selector} ${algorithm} ${active}`);
    expect(summary).toHaveLength(3);
    expect(summary).toContain('mallard rsa false');
    expect(summary.filter((line) => /^mallard-\d{8} rsa true$/.test(line))).toHaveLength(1);
    expect(summary.filter((line) => / ed25519 true$/.test(line))).toHaveLength(1);
    // The active key cannot be retired; the old one can, and its file goes.
    const active = json.find((key) => key.active && key.algorithm === 'rsa')!.selector;
    expect(run(['dkim', 'retire', 'rotate.test', active]).status).toBe(64);
    expect(run(['dkim', 'retire', 'rotate.test', 'mallard']).status).toBe(0);
    expect(fs.existsSync(path.join(dataDir, 'dkim', 'rotate.test.mallard.pem'))).toBe(false);
    const after = run(['dkim', 'show', 'rotate.test']).text;
    expect(after).not.toMatch(/^mallard\._domainkey/m);
    expect(after).toMatch(new RegExp(`^${active}\\._domainkey`, 'm'));
  });
});

describe('mallard user save-sent', () => {
  it('turns "save a copy to Sent" on and off (off by default), shown by user show', async () => {
    expect(run(['user', 'add', 'carol@example.test', '--password', 'long-enough']).status).toBe(0);
    expect(run(['user', 'show', 'carol@example.test']).text).toMatch(/copy to Sent: off/);
    const on = run(['user', 'save-sent', 'carol@example.test', 'on']);
    expect(on.status).toBe(0);
    expect(on.text).toBe('carol@example.test\tcopy to Sent on\n');
    const shown = JSON.parse(run(['user', 'show', 'carol@example.test', '--json']).text) as {
      saveSentCopy: boolean;
    };
    expect(shown.saveSentCopy).toBe(true);
    expect(run(['user', 'save-sent', 'carol@example.test', 'maybe']).status).toBe(64);
    expect(run(['user', 'save-sent', 'carol@example.test', 'off']).text).toMatch(/copy to Sent off/);
    const store = await SqliteStore.open(dataDir);
    try {
      expect((await store.getUserByUsername('carol@example.test'))!.saveSentCopy).toBe(false);
    } finally {
      await store.close();
    }
  });
});
