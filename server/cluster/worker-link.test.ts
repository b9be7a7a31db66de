/**
 * The supervisor link's channel and its failure rule: calls are answered in order, batched per turn
 * of the event loop; a call without an answer rejects at its deadline, and every decision about a
 * client then refuses (fails closed) and gives back what the supervisor may still grant late.
 * The two ends are joined in memory here (the real IPC is exercised by test/workers/).
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { SupervisorMethods, WorkerMethods } from './protocol.ts';
import { RpcChannel, RpcClosed, RpcTimeout, type Port } from './rpc.ts';
import { WorkerLink } from './worker-link.ts';

/** Two ports joined back to back; `sent` records what each side wrote. */
function pipe(): { a: Port & { sent: unknown[] }; b: Port & { sent: unknown[] } } {
  const make = () => Object.assign(new EventEmitter(), { sent: [] as unknown[], send: (_: unknown) => true });
  const a = make();
  const b = make();
  a.send = (message) => {
    a.sent.push(message);
    setImmediate(() => b.emit('message', structuredClone(message)));
    return true;
  };
  b.send = (message) => {
    b.sent.push(message);
    setImmediate(() => a.emit('message', structuredClone(message)));
    return true;
  };
  return { a, b };
}

const FAST = { gateMs: 50, guardMs: 50, userMs: 50, hooksMs: 50, adminMs: 50 };
const sockets: net.Socket[] = [];

afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
});

describe('RpcChannel', () => {
  it('answers calls and batches the messages of one turn into one write', async () => {
    const { a, b } = pipe();
    const worker = new RpcChannel<WorkerMethods, SupervisorMethods>(a);
    const supervisor = new RpcChannel<SupervisorMethods, WorkerMethods>(b);
    supervisor.handle('user.acquire', ({ limit }) => limit > 1);
    const answers = await Promise.all([
      worker.call('user.acquire', { slot: 1, userId: 'u', limit: 2 }, 1000),
      worker.call('user.acquire', { slot: 2, userId: 'u', limit: 1 }, 1000),
    ]);
    expect(answers).toEqual([true, false]);
    expect(a.sent).toHaveLength(1);
  });

  it('rejects at the deadline when no answer comes, and at once when the channel closes', async () => {
    const { a } = pipe();
    const worker = new RpcChannel<WorkerMethods, SupervisorMethods>(a);
    await expect(worker.call('guard.snapshot', null, 20)).rejects.toBeInstanceOf(RpcTimeout);
    const pending = worker.call('guard.snapshot', null, 10_000);
    worker.close();
    await expect(pending).rejects.toBeInstanceOf(RpcClosed);
  });

  it('turns a handler that throws into a rejected call', async () => {
    const { a, b } = pipe();
    const worker = new RpcChannel<WorkerMethods, SupervisorMethods>(a);
    const supervisor = new RpcChannel<SupervisorMethods, WorkerMethods>(b);
    supervisor.handle('guard.snapshot', () => {
      throw new Error('broken');
    });
    await expect(worker.call('guard.snapshot', null, 1000)).rejects.toThrow('broken');
  });
});

describe('a worker whose supervisor does not answer', () => {
  /** Notifications the worker sent, by method. */
  const notified = (port: { sent: unknown[] }, method: string) =>
    port.sent
      .flatMap(
        (batch) =>
          (batch as { messages: Array<{ mallard: string; method: string; params: unknown }> }).messages,
      )
      .filter((message) => message.mallard === 'notify' && message.method === method)
      .map((message) => message.params);

  it('refuses the login without a password check, and abandons the attempt', async () => {
    const { a } = pipe();
    const link = new WorkerLink(2, Buffer.alloc(32), a, FAST);
    expect(await link.guard.admit('192.0.2.1', 'alice@example.test')).toEqual({
      admitted: false,
      reason: 'busy',
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(notified(a, 'guard.end')).toEqual([{ attempt: 1, outcome: 'abandoned' }]);
  });

  it('refuses the connection and the per-user slot, and gives both back', async () => {
    const { a } = pipe();
    const link = new WorkerLink(2, Buffer.alloc(32), a, FAST);
    const socket = new net.Socket();
    sockets.push(socket);
    expect(await link.gate.admit(socket)).toBe('Too many connections, try again later');
    expect(await link.userSessions.acquire('7', 40)).toBeNull();
    await new Promise((resolve) => setImmediate(resolve));
    expect(notified(a, 'gate.release')).toEqual([{ ticket: 1 }]);
    expect(notified(a, 'user.release')).toEqual([{ slot: 2 }]);
  });
});
