/**
 * The outbound queue's part of the store contract suite (see contract.ts, which runs it for every
 * engine): durability of what was queued, per-recipient states, and one lease holder at a time.
 */
import { describe, expect, it } from 'vitest';
import { StoreError } from './errors.ts';
import type { NewOutboundMessage } from './outbound.ts';
import type { Store } from './types.ts';

const RAW = Buffer.from('From: a@example.com\r\nTo: b@remote.test\r\nSubject: out\r\n\r\nbody\r\n');

async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(StoreError);
  expect((error as StoreError).code).toBe(code);
}

export function outboundQueueContract(current: () => Store): void {
  describe('outbound queue', () => {
    const enqueue = (recipients = ['b@remote.test', 'c@other.test']) =>
      current().enqueueOutbound({ userId: null, sender: 'a@example.com', recipients, raw: RAW });

    it('keeps a queued message with its bytes and one queued entry per distinct recipient', async () => {
      const store = current();
      const queued = await enqueue(['b@remote.test', 'c@other.test', 'b@remote.test']);
      expect(queued.size).toBe(RAW.length);
      expect(queued.recipients.map((r) => [r.address, r.state, r.attempts])).toEqual([
        ['b@remote.test', 'queued', 0],
        ['c@other.test', 'queued', 0],
      ]);
      expect((await store.readOutboundRaw(queued.id)).equals(RAW)).toBe(true);
      expect(await store.getOutbound(queued.id)).toEqual(queued);
      expect((await store.listOutbound()).map((m) => m.id)).toEqual([queued.id]);
    });

    it('refuses a message without recipients or body', async () => {
      const store = current();
      await rejectsWithCode(
        store.enqueueOutbound({ userId: null, sender: '', recipients: [], raw: RAW }),
        'INVALID',
      );
      await rejectsWithCode(
        store.enqueueOutbound({ userId: null, sender: '', recipients: ['x@y.test'], raw: Buffer.alloc(0) }),
        'INVALID',
      );
    });

    it('keeps the RFC 3461 parameters of a submission (RET, ENVID; NOTIFY and ORCPT per recipient)', async () => {
      const store = current();
      const queued = await store.enqueueOutbound({
        userId: null,
        sender: 'a@example.com',
        recipients: ['b@remote.test', 'c@other.test', 'd@third.test'],
        raw: RAW,
        dsn: {
          ret: 'HDRS',
          envid: 'QQ314159',
          recipients: {
            'b@remote.test': { notify: ['SUCCESS', 'FAILURE'], orcpt: 'rfc822;B@Remote.test' },
            'c@other.test': { notify: ['NEVER'] },
          },
        },
      });
      for (const message of [queued, (await store.getOutbound(queued.id))!]) {
        expect(message.dsn).toEqual({ ret: 'HDRS', envid: 'QQ314159' });
        expect(message.recipients.map(({ notify, orcpt }) => ({ notify, orcpt }))).toEqual([
          { notify: ['SUCCESS', 'FAILURE'], orcpt: 'rfc822;B@Remote.test' },
          { notify: ['NEVER'], orcpt: null },
          { notify: null, orcpt: null },
        ]);
      }
      // Kept through a recorded result.
      await store.claimOutbound('w1', 60_000, 10);
      await store.recordOutbound(queued.id, 'w1', 'b@remote.test', { state: 'delivered' });
      expect((await store.getOutbound(queued.id))!.recipients[0]).toMatchObject({
        state: 'delivered',
        notify: ['SUCCESS', 'FAILURE'],
      });
      const plain = await enqueue(['e@remote.test']);
      expect(plain.dsn).toEqual({ ret: null, envid: null });
      const bad = (dsn: NewOutboundMessage['dsn']) =>
        store.enqueueOutbound({ userId: null, sender: '', recipients: ['x@y.test'], raw: RAW, dsn });
      await rejectsWithCode(bad({ ret: 'ALL' as 'FULL' }), 'INVALID');
      await rejectsWithCode(bad({ envid: 'x'.repeat(101) }), 'INVALID');
      await rejectsWithCode(bad({ envid: 'caf\u00e9' }), 'INVALID');
      await rejectsWithCode(bad({ recipients: { 'x@y.test': { notify: ['NEVER', 'SUCCESS'] } } }), 'INVALID');
      await rejectsWithCode(bad({ recipients: { 'x@y.test': { orcpt: 'no-type' } } }), 'INVALID');
    });

    it('leases a due message to one holder; another gets it only after release or expiry', async () => {
      const store = current();
      const queued = await enqueue();
      const first = await store.claimOutbound('w1', 60_000, 10);
      expect(first.map((m) => m.id)).toEqual([queued.id]);
      expect(await store.claimOutbound('w2', 60_000, 10)).toEqual([]);
      // Nor to its own holder again while it delivers it (the worker's next poll would send twice).
      expect(await store.claimOutbound('w1', 60_000, 10)).toEqual([]);
      await store.releaseOutbound(queued.id, 'w2'); // not the holder: changes nothing
      expect(await store.claimOutbound('w2', 60_000, 10)).toEqual([]);
      await store.releaseOutbound(queued.id, 'w1');
      expect((await store.claimOutbound('w2', 60_000, 10)).map((m) => m.id)).toEqual([queued.id]);
      // Expired: w3 takes it over, and w2 can no longer record results.
      const later = new Date(Date.now() + 120_000);
      expect((await store.claimOutbound('w3', 60_000, 10, later)).map((m) => m.id)).toEqual([queued.id]);
    });

    it('renews a live lease for its holder only, so that a short lease outlives a long delivery', async () => {
      const store = current();
      const queued = await enqueue();
      await store.claimOutbound('w1', 50, 10);
      expect(await store.renewOutbound(queued.id, 'w2', 60_000)).toBe(false);
      expect(await store.renewOutbound(queued.id, 'w1', 60_000)).toBe(true);
      // Renewed for a minute: still w1's once the first 50 ms are over.
      await new Promise((resolve) => setTimeout(resolve, 60));
      expect(await store.claimOutbound('w2', 60_000, 10)).toEqual([]);
      expect(await store.recordOutbound(queued.id, 'w1', 'b@remote.test', { state: 'delivered' })).toBe(true);
      // A lapsed lease is not renewed: another holder may have it by now.
      const other = await enqueue(['d@remote.test']);
      await store.claimOutbound('w1', 1, 10);
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(await store.renewOutbound(other.id, 'w1', 60_000)).toBe(false);
    });

    it('gives each message to exactly one of many concurrent claimants', async () => {
      const store = current();
      for (let i = 0; i < 5; i += 1) await enqueue([`r${i}@remote.test`]);
      const claims = await Promise.all(
        ['a', 'b', 'c', 'd'].map((holder) => store.claimOutbound(holder, 60_000, 10)),
      );
      const ids = claims.flat().map((m) => m.id);
      expect(ids).toHaveLength(5);
      expect(new Set(ids).size).toBe(5);
    });

    it('records each recipient once, only for the lease holder, and stops offering finished ones', async () => {
      const store = current();
      const queued = await enqueue();
      await store.claimOutbound('w1', 60_000, 10);
      expect(await store.recordOutbound(queued.id, 'w2', 'b@remote.test', { state: 'delivered' })).toBe(
        false,
      );
      expect(await store.recordOutbound(queued.id, 'w1', 'b@remote.test', { state: 'delivered' })).toBe(true);
      // Delivered is final: a second result (a worker that retried after a crash) is refused.
      expect(
        await store.recordOutbound(queued.id, 'w1', 'b@remote.test', { state: 'bounced', error: '550 x' }),
      ).toBe(false);
      const next = new Date(Date.now() + 300_000);
      expect(
        await store.recordOutbound(queued.id, 'w1', 'c@other.test', {
          state: 'deferred',
          error: '451 4.7.1 try later',
          nextAttemptAt: next,
        }),
      ).toBe(true);
      await store.releaseOutbound(queued.id, 'w1');
      const after = (await store.getOutbound(queued.id))!;
      expect(after.recipients).toMatchObject([
        { address: 'b@remote.test', state: 'delivered', attempts: 1, nextAttemptAt: null },
        {
          address: 'c@other.test',
          state: 'deferred',
          attempts: 1,
          lastError: '451 4.7.1 try later',
          warned: false,
        },
      ]);
      expect(after.recipients[1]!.nextAttemptAt!.getTime()).toBe(next.getTime());
      // Not due yet; due at `next`.
      expect(await store.claimOutbound('w1', 60_000, 10)).toEqual([]);
      const due = await store.claimOutbound('w1', 60_000, 10, new Date(next.getTime() + 1));
      expect(due.map((m) => m.id)).toEqual([queued.id]);
      expect(
        await store.recordOutbound(queued.id, 'w1', 'c@other.test', {
          state: 'bounced',
          error: '550 5.1.1 no',
        }),
      ).toBe(true);
      const done = (await store.getOutbound(queued.id))!;
      expect(done.recipients[1]).toMatchObject({ state: 'bounced', attempts: 2, lastError: '550 5.1.1 no' });
      expect(await store.claimOutbound('w1', 60_000, 10, new Date(next.getTime() + 10_000_000))).toEqual([]);
    });

    it('remembers a delay warning, retries now on demand and deletes', async () => {
      const store = current();
      const queued = await enqueue(['b@remote.test']);
      await store.claimOutbound('w1', 60_000, 10);
      await store.recordOutbound(queued.id, 'w1', 'b@remote.test', {
        state: 'deferred',
        error: 'connection refused',
        nextAttemptAt: new Date(Date.now() + 3_600_000),
        warned: true,
      });
      await store.releaseOutbound(queued.id, 'w1');
      expect((await store.getOutbound(queued.id))!.recipients[0]!.warned).toBe(true);
      expect(await store.claimOutbound('w1', 60_000, 10)).toEqual([]);
      const retried = await store.retryOutbound(queued.id);
      expect(retried.recipients[0]!.nextAttemptAt!.getTime()).toBeLessThanOrEqual(Date.now());
      expect((await store.claimOutbound('w1', 60_000, 10)).map((m) => m.id)).toEqual([queued.id]);
      await store.deleteOutbound(queued.id);
      expect(await store.getOutbound(queued.id)).toBeNull();
      await rejectsWithCode(store.readOutboundRaw(queued.id), 'NONEXISTENT');
      await rejectsWithCode(store.deleteOutbound(queued.id), 'NONEXISTENT');
      await rejectsWithCode(store.retryOutbound(queued.id), 'NONEXISTENT');
      expect(await store.recordOutbound(queued.id, 'w1', 'b@remote.test', { state: 'delivered' })).toBe(
        false,
      );
    });
  });
}
