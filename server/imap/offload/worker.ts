/**
 * A parse worker: runs one task at a time (tasks.ts) off the server's event loop, so that parsing,
 * decoding and scanning a 50 MB message never keeps other sessions waiting. Loaded through
 * entry.mjs, which registers the TypeScript loader.
 */
import { parentPort } from 'node:worker_threads';
import { asBuffer, transferable } from '../../transfer.ts';
import type { TaskReply, TaskRequest } from './protocol.ts';
import { decodePart, matchContent } from './tasks.ts';

const port = parentPort!;

function run(request: TaskRequest): { result: unknown; transfer: ArrayBuffer[] } {
  const { task } = request;
  switch (task.kind) {
    case 'search':
      return { result: matchContent(asBuffer(task.raw), task.index, task.nodes), transfer: [] };
    case 'decode': {
      const decoded = transferable(decodePart(asBuffer(task.raw), task.start, task.end, task.encoding), true);
      // The message goes back to its owner; the decoded part is new memory (or a view of the
      // message when nothing was to decode: then it travels inside the returned message).
      const sameMemory = decoded.buffer === task.raw.buffer;
      return {
        result: { raw: task.raw, decoded: decoded.view },
        transfer: sameMemory
          ? [task.raw.buffer as ArrayBuffer]
          : [task.raw.buffer as ArrayBuffer, decoded.buffer],
      };
    }
  }
}

port.on('message', (request: TaskRequest) => {
  let reply: TaskReply;
  let transfer: ArrayBuffer[] = [];
  try {
    const done = run(request);
    reply = { id: request.id, ok: true, result: done.result };
    transfer = done.transfer;
  } catch (error) {
    reply = { id: request.id, ok: false, message: (error as Error).message ?? String(error) };
  }
  port.postMessage(reply, transfer);
});
