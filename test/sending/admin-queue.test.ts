/**
 * The outbound queue through the admin API (the panel's view): list, show, retry now, delete, and
 * the submission listeners in the status.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminHarness, type AdminHarness } from '../admin/harness.ts';

let h: AdminHarness;
let id: string;

beforeAll(async () => {
  h = await startAdminHarness();
  const store = h.server.store;
  const queued = await store.enqueueOutbound({
    userId: null,
    sender: 'alice@example.test',
    recipients: ['bob@remote.test'],
    raw: Buffer.from('Subject: hi\r\n\r\nhello\r\n'),
  });
  id = queued.id;
  // As a failed attempt leaves it (the worker is not asked: it would look the domain up).
  await store.claimOutbound('test', 60_000, 10);
  await store.recordOutbound(id, 'test', 'bob@remote.test', {
    state: 'deferred',
    error: '451 4.7.1 Greylisted',
    nextAttemptAt: new Date(Date.now() + 3_600_000),
  });
  await store.releaseOutbound(id, 'test');
});
afterAll(() => h.stop());

describe('admin API: queue', () => {
  it('lists and shows queued messages with each recipient state', async () => {
    const list = await h.call('GET', '/api/queue');
    expect(list.status).toBe(200);
    expect(list.body.messages).toHaveLength(1);
    const shown = await h.call('GET', `/api/queue/${id}`);
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({
      id,
      sender: 'alice@example.test',
      recipients: [
        { address: 'bob@remote.test', state: 'deferred', attempts: 1, lastError: '451 4.7.1 Greylisted' },
      ],
    });
    expect((await h.call('GET', '/api/queue/nope')).status).toBe(404);
  });

  it('retries now and deletes', async () => {
    await h.server.outbound.stop(); // keep this process's worker from trying the made-up domain
    const retried = await h.call('POST', `/api/queue/${id}/retry`);
    expect(retried.status).toBe(200);
    expect(Date.parse(retried.body.recipients[0].nextAttemptAt)).toBeLessThanOrEqual(Date.now());
    expect((await h.call('DELETE', `/api/queue/${id}`)).status).toBe(204);
    expect((await h.call('DELETE', `/api/queue/${id}`)).status).toBe(404);
    expect((await h.call('GET', '/api/queue')).body.messages).toEqual([]);
  });

  it('shows the submission listeners in the status', async () => {
    const status = await h.call('GET', '/api/status');
    expect(status.body.listeners).toContainEqual(
      expect.objectContaining({ protocol: 'submission', tls: 'implicit' }),
    );
    expect(status.body.listeners).toContainEqual(
      expect.objectContaining({ protocol: 'submission', tls: 'starttls' }),
    );
    expect(status.body.connections.submission).toBe(0);
  });
});

describe('admin API: DKIM keys', () => {
  it('shows the records, rotates (rsa and ed25519) keeping the old key published, and retires it', async () => {
    await h.addUser('dkim@example.test', 'long-enough-pw');
    expect((await h.call('GET', '/api/dkim/not-ours.test')).status).toBe(404);
    const shown = await h.call('GET', '/api/dkim/example.test');
    expect(shown.status).toBe(200);
    expect(shown.body.records).toMatchObject([{ selector: 'mallard', algorithm: 'rsa', active: true }]);
    expect(shown.body.records[0].value).toMatch(/^v=DKIM1; k=rsa; p=/);
    const rotated = await h.call('POST', '/api/dkim/example.test/rotate', { body: {} });
    expect(rotated.status).toBe(200);
    const rsa = rotated.body.records as Array<{ selector: string; algorithm: string; active: boolean }>;
    expect(rsa.map((r) => `${r.algorithm} ${r.active}`).sort()).toEqual(['rsa false', 'rsa true']);
    const ed = await h.call('POST', '/api/dkim/example.test/rotate', { body: { algorithm: 'ed25519' } });
    expect(ed.body.records.filter((r: { active: boolean }) => r.active)).toHaveLength(2);
    expect(ed.body.records.find((r: { algorithm: string }) => r.algorithm === 'ed25519').value).toMatch(
      /^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$/,
    );
    const active = rsa.find((r) => r.active)!.selector;
    expect((await h.call('DELETE', `/api/dkim/example.test/keys/${active}`)).status).toBe(409);
    expect((await h.call('DELETE', '/api/dkim/example.test/keys/nope')).status).toBe(404);
    expect((await h.call('DELETE', '/api/dkim/example.test/keys/mallard')).status).toBe(204);
    const after = await h.call('GET', '/api/dkim/example.test');
    expect(after.body.records.map((r: { selector: string }) => r.selector)).not.toContain('mallard');
    expect((await h.call('GET', '/api/dkim/not_a_domain')).status).toBe(400);
  });
});

describe('admin API: save a copy to Sent', () => {
  it('is off for a new user and set with PATCH /api/users/{id}', async () => {
    const id = await h.addUser('dora@example.test', 'long-enough-pw');
    expect((await h.call('GET', `/api/users/${id}`)).body.saveSentCopy).toBe(false);
    const on = await h.call('PATCH', `/api/users/${id}`, { body: { saveSentCopy: true } });
    expect(on.status).toBe(200);
    expect(on.body.saveSentCopy).toBe(true);
    expect((await h.server.store.getUser(id))!.saveSentCopy).toBe(true);
    expect((await h.call('PATCH', `/api/users/${id}`, { body: { saveSentCopy: 'yes' } })).status).toBe(400);
  });
});
