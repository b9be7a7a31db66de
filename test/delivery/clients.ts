/**
 * Clients for the delivery tests: a raw SMTP/LMTP line client (replies as text, messages as bytes),
 * Python's smtplib and Debian's swaks run as child processes (never synchronously: the server under
 * test runs in this process), and byte-exact read-back of a stored message over IMAP and POP3.
 */
import { execFile } from 'node:child_process';
import { Pop3Client } from '../helpers/pop3.ts';
import { LineClient, type TestServer } from '../helpers/server.ts';

/** Runs a Python 3 script with `input` as JSON on stdin; returns its stdout parsed as JSON. */
export function python<T>(script: string, input: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = execFile('python3', ['-c', script], { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`python failed: ${error.message}\n${stderr}`));
      try {
        resolve(JSON.parse(stdout) as T);
      } catch {
        reject(new Error(`python printed no JSON: ${stdout}\n${stderr}`));
      }
    });
    child.stdin!.end(JSON.stringify(input));
  });
}

/** Runs swaks; resolves with its exit code and transcript (it exits non-zero on a refusal). */
export function swaks(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('swaks', ['--helo', 'client.test', ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, output: stdout + stderr });
    });
  });
}

/** Adds the SMTP dot-stuffing and the terminating line to a message (which must end in CRLF). */
export function dotStuffed(message: Buffer): Buffer {
  const text = message.toString('latin1');
  if (!text.endsWith('\r\n')) throw new Error('a message sent with DATA ends in CRLF');
  return Buffer.from(`${text.replace(/(^|\n)\./g, '$1..')}.\r\n`, 'latin1');
}

/** A raw SMTP/LMTP client: each command returns its reply (all lines) as latin1 text. */
export class SmtpLineClient {
  private constructor(readonly line: LineClient) {}

  static async connect(port: number): Promise<{ client: SmtpLineClient; greeting: string }> {
    const client = new SmtpLineClient(await LineClient.connect(port));
    return { client, greeting: await client.reply() };
  }

  /** Reads one complete reply (through its last line, "NNN text"). */
  reply(timeoutMs?: number): Promise<string> {
    return this.line.readUntil(/^\d{3}(?: |$)/, timeoutMs);
  }

  command(line: string): Promise<string> {
    this.line.send(`${line}\r\n`);
    return this.reply();
  }

  /** DATA, then the message; returns the 354 and then `replies` replies (LMTP: one per recipient). */
  async data(message: Buffer, replies = 1): Promise<string[]> {
    const go = await this.command('DATA');
    if (!go.startsWith('354')) return [go];
    this.line.send(dotStuffed(message));
    const result: string[] = [];
    for (let index = 0; index < replies; index++) result.push(await this.reply(10_000));
    return result;
  }

  startTls(): Promise<void> {
    return this.line.startTls();
  }

  get closed(): boolean {
    return this.line.closed;
  }

  close(): void {
    this.line.close();
  }
}

/**
 * A stored copy split where the message as received begins: the trace header fields delivery put
 * on top (Return-Path, Delivered-To, Received) and the rest, which must be the received bytes.
 */
export function splitStored(stored: Buffer, received: Buffer): { header: string; rest: Buffer } {
  return {
    header: stored.subarray(0, stored.length - received.length).toString('utf8'),
    rest: stored.subarray(stored.length - received.length),
  };
}

/** The raw bytes of the newest message in a user's INBOX, from the store. */
export async function newestInInbox(server: TestServer, userId: string): Promise<Buffer> {
  const store = server.server.store;
  const inbox = (await store.getMailbox(userId, 'INBOX'))!;
  const messages = await store.listMessages(inbox.id);
  return store.readBlob(messages.at(-1)!.blobId);
}

export async function inboxCount(server: TestServer, userId: string): Promise<number> {
  const store = server.server.store;
  const inbox = (await store.getMailbox(userId, 'INBOX'))!;
  return (await store.listMessages(inbox.id)).length;
}

/** `UID FETCH uid BODY.PEEK[]` over IMAP: the message bytes as the IMAP server returns them. */
export async function fetchOverImap(
  port: number,
  username: string,
  password: string,
  uid: number,
): Promise<Buffer> {
  const client = await LineClient.connect(port);
  try {
    await client.readUntil(/^\* OK/);
    const login = await client.command('l', `LOGIN ${username} ${password}`);
    if (!/^l OK/m.test(login)) throw new Error(`LOGIN failed: ${login}`);
    await client.command('s', 'SELECT INBOX');
    const response = await client.command('f', `UID FETCH ${uid} BODY.PEEK[]`);
    const literal = /BODY\[\] \{(\d+)\}\r\n/.exec(response);
    if (!literal) throw new Error(`no BODY[] literal in: ${response.slice(0, 500)}`);
    const start = literal.index + literal[0].length;
    return Buffer.from(response.slice(start, start + Number(literal[1])), 'latin1');
  } finally {
    client.close();
  }
}

/** RETR of message `number` over POP3, dot-stuffing undone. */
export async function retrOverPop3(
  port: number,
  username: string,
  password: string,
  number: number,
): Promise<Buffer> {
  const client = await Pop3Client.open(port);
  try {
    await client.login(username, password);
    const { status, body } = await client.multiline(`RETR ${number}`);
    if (!status.startsWith('+OK')) throw new Error(`RETR failed: ${status}`);
    return body;
  } finally {
    client.close();
  }
}

/**
 * A message that exercises the byte path: dots at line starts (dot-stuffed on the wire), a line
 * of 20,000 bytes, 8-bit bytes, a final line without text. CRLF throughout.
 */
export function trickyMessage(subject: string): Buffer {
  return Buffer.concat([
    Buffer.from(
      `From: Sender <sender@remote.test>\r\nTo: alice@example.test\r\nSubject: ${subject}\r\n` +
        'Message-ID: <tricky@remote.test>\r\nContent-Type: text/plain; charset=utf-8\r\n' +
        'Content-Transfer-Encoding: 8bit\r\n\r\n.\r\n..two dots\r\n.\r\nmiddle\r\n',
    ),
    Buffer.from('caf\u00e9 \u00fcber \u2603\r\n', 'utf8'),
    Buffer.from(`${'x'.repeat(20_000)}\r\n`),
    Buffer.from(' \r\n.end\r\n'),
  ]);
}
