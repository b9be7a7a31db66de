/**
 * Writing a reply to a line protocol's socket (POP3, ManageSieve) with backpressure.
 */
import type { Duplex } from 'node:stream';

/**
 * Writes `data` to `socket`. Resolves when the socket can take more (backpressure); with `last`,
 * only once these bytes have left the process (the end of a reply: an idle timer may start then).
 * A socket that closes meanwhile resolves too: there is nobody left to wait for.
 */
export function writeReply(socket: Duplex, data: string | Buffer, last: boolean): Promise<void> {
  return new Promise((resolve) => {
    let pending = last ? 2 : 1;
    const done = () => {
      if (--pending > 0) return;
      socket.off('drain', done);
      socket.off('close', onClose);
      resolve();
    };
    const onClose = () => {
      pending = 1;
      done();
    };
    socket.once('close', onClose);
    const writable = socket.write(data, last ? () => done() : undefined);
    if (writable) done();
    else socket.once('drain', done);
  });
}
