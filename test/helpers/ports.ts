/** Free loopback ports for servers and peers that tests start. */
import net from 'node:net';

/**
 * A port that was free on `host` a moment ago: the OS picks it, and it is released at once (the
 * OS does not hand the same port out again straight away), for a child process to bind.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
