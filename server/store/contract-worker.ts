/**
 * The child-process side of the multi-process contract tests (concurrent appends, kill -9). An
 * engine provides a tiny entry script that opens its store and calls `runAppendWorker`; the tests
 * start it as `node bin/run-ts.mjs <script> <engine args...> <mailboxId> <count> <tag>`.
 *
 * Protocol: once its store is open the worker prints `ready` and waits for a line on stdin, so the
 * test can start several workers at the same moment. Then it appends, printing one line per append,
 * written only after the append promise resolved:
 *   ack <index> <uid>
 * A count of 0 appends until killed; the worker also stops when its stdin closes (test runner gone).
 */
import type { Store } from './types.ts';

/** The deterministic body of worker message `index`: distinct per tag and index, with odd bytes. */
export function workerMessage(tag: string, index: number): Buffer {
  const header = `From: worker-${tag}@example.com\r\nSubject: ${tag} #${index}\r\nX-Index: ${index}\r\n\r\n`;
  const body = Buffer.alloc(512 + (index % 97) * 13);
  for (let i = 0; i < body.length; i++) body[i] = (index * 31 + i * 7 + tag.length) & 0xff;
  return Buffer.concat([Buffer.from(header, 'latin1'), body]);
}

/** Parses the worker's `ack` lines into index → uid. */
export function parseAcks(stdout: string): Map<number, number> {
  const acks = new Map<number, number>();
  for (const line of stdout.split('\n')) {
    const match = /^ack (\d+) (\d+)$/.exec(line.trim());
    if (match) acks.set(Number(match[1]), Number(match[2]));
  }
  return acks;
}

/** Reads `<mailboxId> <count> <tag>` from the end of argv and appends; exits when done. */
export async function runAppendWorker(open: () => Promise<Store>, argv: readonly string[]): Promise<void> {
  const [mailboxId, countText, tag] = argv.slice(-3);
  if (mailboxId === undefined || countText === undefined || tag === undefined) {
    throw new Error('usage: <worker> ... MAILBOX_ID COUNT TAG');
  }
  const count = Number(countText);
  const store = await open();
  process.stdout.write('ready\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  process.stdin.once('end', () => process.exit(3));
  for (let index = 0; count === 0 || index < count; index++) {
    const result = await store.append(mailboxId, workerMessage(tag, index));
    // Pipes are written synchronously on Linux, so an ack line is out before the next append.
    process.stdout.write(`ack ${index} ${result.uid}\n`);
    // Yield to the event loop, as a server between two commands would (and so stdin "end" is seen).
    await new Promise((resolve) => setImmediate(resolve));
  }
  await store.close();
  process.stdin.destroy();
}
