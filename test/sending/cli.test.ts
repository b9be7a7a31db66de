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
