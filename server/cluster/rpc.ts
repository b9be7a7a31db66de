/**
 * The small typed channel between the supervisor and its workers (node:cluster IPC), the same on
 * both ends: `call` asks and waits for the answer, with a deadline; `notify` tells and waits for
 * nothing; `handle` answers the other side's calls.
 *
 * A call whose answer does not come within its deadline rejects with `RpcTimeout`; the caller
 * decides what that means, and for every decision about a client (a login, a connection) it means
 * refuse (fail closed). An answer that comes late is dropped. When the other side goes away every
 * pending call rejects at once.
 *
 * Messages written in one turn of the event loop go out together, as one IPC message: under load
 * (many logins at once) that saves most of the serialisations, writes and wake-ups.
 */

/** Every method: what it is called with and what it answers (`void` for a notification). */
export type MethodMap<T> = { [K in keyof T]: { params: unknown; result: unknown } };

interface CallMessage {
  mallard: 'call';
  id: number;
  method: string;
  params: unknown;
}
interface AnswerMessage {
  mallard: 'answer';
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}
interface NotifyMessage {
  mallard: 'notify';
  method: string;
  params: unknown;
}
type Message = CallMessage | AnswerMessage | NotifyMessage;
/** What crosses the channel: the messages of one turn of the event loop. */
interface Batch {
  mallard: 'batch';
  messages: Message[];
}

/** What the channel sends through: a cluster worker (in the supervisor) or `process` (in a worker). */
export interface Port {
  send(message: unknown): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

export class RpcTimeout extends Error {
  constructor(method: string, ms: number) {
    super(`no answer to ${method} within ${ms} ms`);
  }
}

export class RpcClosed extends Error {
  constructor(method: string) {
    super(`the other process went away before answering ${method}`);
  }
}

function isBatch(value: unknown): value is Batch {
  return typeof value === 'object' && value !== null && (value as Batch).mallard === 'batch';
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  method: string;
}

type Handler = (params: never) => unknown;

/**
 * `Mine`: the methods this side answers; `Theirs`: the ones the other side answers.
 */
export class RpcChannel<Mine extends MethodMap<Mine>, Theirs extends MethodMap<Theirs>> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly handlers = new Map<string, Handler>();
  private readonly listener = (batch: unknown) => {
    if (isBatch(batch)) for (const message of batch.messages) this.receive(message);
  };
  private closed = false;
  private outgoing: Message[] = [];

  constructor(private readonly port: Port) {
    port.on('message', this.listener);
  }

  handle<M extends keyof Mine & string>(
    method: M,
    handler: (params: Mine[M]['params']) => Mine[M]['result'] | Promise<Mine[M]['result']>,
  ): void {
    this.handlers.set(method, handler as Handler);
  }

  call<M extends keyof Theirs & string>(
    method: M,
    params: Theirs[M]['params'],
    timeoutMs: number,
  ): Promise<Theirs[M]['result']> {
    if (this.closed) return Promise.reject(new RpcClosed(method));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RpcTimeout(method, timeoutMs));
      }, timeoutMs);
      timer.unref();
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer, method });
      this.send({ mallard: 'call', id, method, params });
    });
  }

  notify<M extends keyof Theirs & string>(method: M, params: Theirs[M]['params']): void {
    if (!this.closed) this.send({ mallard: 'notify', method, params });
  }

  /** The other side is gone: pending calls fail now, later ones at once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.port.off('message', this.listener);
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      this.pending.delete(id);
      pending.reject(new RpcClosed(pending.method));
    }
  }

  private send(message: Message): void {
    if (this.outgoing.push(message) === 1) setImmediate(() => this.flush());
  }

  private flush(): void {
    const messages = this.outgoing;
    this.outgoing = [];
    if (this.closed || messages.length === 0) return;
    try {
      this.port.send({ mallard: 'batch', messages } satisfies Batch);
    } catch {
      // The channel closed under us: the exit handler closes this side, and callers time out.
    }
  }

  private receive(message: Message): void {
    if (message.mallard === 'answer') {
      const pending = this.pending.get(message.id);
      if (!pending) return; // late: its caller has already given up
      this.pending.delete(message.id);
      clearTimeout(pending.timer);
      if (message.ok) pending.resolve(message.value);
      else pending.reject(new Error(message.error ?? 'failed'));
      return;
    }
    const handler = this.handlers.get(message.method);
    if (message.mallard === 'notify') {
      void Promise.resolve()
        .then(() => handler?.(message.params as never))
        .catch(() => {});
      return;
    }
    const { id } = message;
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`no handler for ${message.method}`);
        return handler(message.params as never);
      })
      .then(
        (value) => this.send({ mallard: 'answer', id, ok: true, value }),
        (error: unknown) =>
          this.send({
            mallard: 'answer',
            id,
            ok: false,
            error: error instanceof Error ? error.message : String(error),
          }),
      );
  }
}
