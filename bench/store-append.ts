/**
 * Append throughput of the sqlite store engine: 10 KB messages, each with different bytes (so
 * deduplication does not help), one durable transaction per append, for 5 s or 5000 messages.
 *
 *   node bin/run-ts.mjs bench/store-append.ts [MAX_MESSAGES] [MAX_SECONDS]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../server/store/sqlite/index.ts';

const MESSAGE_BYTES = 10 * 1024;
const maxMessages = Number(process.argv[2] ?? 5000);
const maxSeconds = Number(process.argv[3] ?? 5);

/** A 10 KB message whose body differs from every other one. */
function makeMessage(index: number): Buffer {
  const header = Buffer.from(
    `From: bench@example.com\r\nTo: user@example.com\r\nSubject: bench ${index}\r\n` +
      `Message-ID: <${index}@bench.example.com>\r\n\r\n`,
  );
  const body = Buffer.alloc(MESSAGE_BYTES - header.length);
  for (let i = 0; i < body.length; i++) body[i] = 0x41 + ((index + i * 13) % 26);
  body.write(`${index}\r\n`, 0, 'latin1');
  return Buffer.concat([header, body]);
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-bench-'));
  const store = await SqliteStore.open(dir);
  try {
    const user = await store.createUser({ username: 'bench@example.com', passwordHash: 'x' });
    const inbox = (await store.getMailbox(user.id, 'INBOX'))!;
    const messages = Array.from({ length: Math.min(maxMessages, 50_000) }, (_, i) => makeMessage(i));
    const started = process.hrtime.bigint();
    const deadline = started + BigInt(maxSeconds * 1e9);
    let count = 0;
    while (count < messages.length && process.hrtime.bigint() < deadline) {
      await store.append(inbox.id, messages[count]!);
      count++;
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const settings = await store.settings();
    console.log(
      `store-append (sqlite, synchronous=${settings.synchronous === 2 ? 'FULL' : settings.synchronous}): ` +
        `${count} × ${MESSAGE_BYTES / 1024} KB in ${seconds.toFixed(2)} s = ` +
        `${Math.round(count / seconds)} messages/s, ${((count * MESSAGE_BYTES) / seconds / 1e6).toFixed(1)} MB/s, ` +
        `${((seconds / count) * 1000).toFixed(2)} ms/append`,
    );
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
