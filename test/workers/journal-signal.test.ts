/**
 * The workers of `mallard serve` tell each other of every change they commit (through the
 * supervisor, server/store/journal-signal.ts) instead of waiting for their journal poll. Here the
 * poll is set to ten minutes, so a session can only learn of another worker's change in time if
 * it was told: a delivery through one worker, and a flag change made on one worker, reach IDLE
 * sessions on both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawImap } from '../helpers/imap-raw.ts';
import { Cluster } from './cluster.ts';

const PASSWORD = 'correct horse';
const FRANK = 'frank@example.test';

let cluster: Cluster;

/** The next untagged response matching `pattern` (EXISTS comes with a RECENT, skipped here). */
async function untagged(client: RawImap, pattern: RegExp): Promise<string> {
  for (;;) {
    const { text } = await client.readResponse(30_000);
    if (pattern.test(text)) return text;
    expect(text).toMatch(/^\* \d+ RECENT$/);
  }
}

beforeAll(async () => {
  cluster = await Cluster.start({
    workers: 2,
    accounts: { [FRANK]: PASSWORD },
    env: { MALLARD_SERVER_JOURNAL_POLL_MS: '600000' },
  });
}, 90_000);

afterAll(async () => {
  await cluster?.dispose();
}, 60_000);

describe('changes told between workers', () => {
  it('reach IDLE sessions on every worker without a journal poll', async () => {
    const { first, second, workers } = await cluster.twoSessions(FRANK, PASSWORD, 0);
    expect(new Set(workers)).toEqual(new Set([1, 2]));
    for (const client of [first, second]) {
      await client.ok('SELECT INBOX');
      client.write('i1 IDLE\r\n');
      expect((await client.readResponse()).text).toMatch(/^\+ /);
    }
    // A delivery through whichever worker takes the LMTP session: both idlers hear of it.
    expect(await cluster.lmtpDeliver(FRANK, 'told')).toMatch(/^250 /);
    for (const client of [first, second]) {
      expect(await untagged(client, /EXISTS$/)).toBe('* 1 EXISTS');
    }
    // A flag set through the session on one worker reaches the idler on the other.
    first.write('DONE\r\n');
    expect((await first.readTagged('i1')).status).toBe('OK');
    await first.ok('STORE 1 +FLAGS (\\Flagged)');
    expect(await untagged(second, /FETCH/)).toMatch(/^\* 1 FETCH \(.*FLAGS \(.*\\Flagged/);
    second.write('DONE\r\n');
    expect((await second.readTagged('i1')).status).toBe('OK');
    await first.logout();
    await second.logout();
  });
});
