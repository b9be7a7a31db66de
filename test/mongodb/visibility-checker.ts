/**
 * The concurrency checker of the visibility rule (server/store/types.ts): several `mallard serve`
 * processes on one store, concurrent LMTP deliveries, APPEND, STORE, MOVE and EXPUNGE through all
 * of them, while observers record what their IMAP sessions are told (IDLE and NOOP polling), fresh
 * SELECTs take snapshots with their HIGHESTMODSEQ, and STATUS is compared with SELECT at the end.
 *
 * It checks what sessions see, not what the database holds:
 * - every acknowledged message reaches every selected session within 1 s (plus the poll interval
 *   of a NOOP poller), in UID order, none twice, and no expunged message comes back;
 * - every session ends with the same UIDs, flags and MODSEQs as a fresh SELECT (every flag change
 *   and expunge reported);
 * - a SELECT snapshot plus CHANGEDSINCE its HIGHESTMODSEQ gives the final flags (HIGHESTMODSEQ never
 *   covered a change the client could not learn), and no message ever appears below a snapshot's
 *   highest UID that the snapshot did not have;
 * - STATUS agrees with SELECT.
 * Problems are collected as strings (the test asserts there are none, and prints them).
 */
import net from 'node:net';
import { FINAL, TextClient } from './support.ts';

/** The visibility deadline of the rule. */
export const VISIBLE_WITHIN_MS = 1000;
const POLL_MS = 100;

interface Untagged {
  line: string;
  at: number;
}

/** A raw IMAP client that keeps every untagged response with the time it arrived. */
class ImapSession {
  private buffer = '';
  private readonly lines: Untagged[] = [];
  private waiter: (() => void) | null = null;
  private closed = false;
  private tagCounter = 0;

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      const now = Date.now();
      let end: number;
      while ((end = this.buffer.indexOf('\r\n')) >= 0) {
        this.lines.push({ line: this.buffer.slice(0, end), at: now });
        this.buffer = this.buffer.slice(end + 2);
      }
      this.waiter?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
    socket.on('error', () => undefined);
  }

  static async open(port: number, username: string, password: string): Promise<ImapSession> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
    const session = new ImapSession(socket);
    await session.next(/^\* OK/);
    const login = await session.command(`LOGIN ${username} ${password}`);
    if (!/ OK/.test(login.status)) throw new Error(`LOGIN failed: ${login.status}`);
    return session;
  }

  /** Waits for a line matching `pattern`; returns the lines before it and the line. */
  async next(pattern: RegExp, timeoutMs = 30_000): Promise<{ before: Untagged[]; match: Untagged }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.lines.findIndex((item) => pattern.test(item.line));
      if (index >= 0) {
        const taken = this.lines.splice(0, index + 1);
        return { before: taken.slice(0, -1), match: taken[index]! };
      }
      if (this.closed) throw new Error(`connection closed waiting for ${pattern}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${pattern}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          this.waiter = null;
          resolve();
        };
      });
    }
  }

  send(text: string): void {
    this.socket.write(text);
  }

  async command(text: string, timeoutMs?: number): Promise<{ untagged: Untagged[]; status: string }> {
    const tag = `t${++this.tagCounter}`;
    this.send(`${tag} ${text}\r\n`);
    const { before, match } = await this.next(new RegExp(`^${tag} (OK|NO|BAD)`), timeoutMs);
    return { untagged: before, status: match.line };
  }

  /** Waits until some untagged line is there (or `stop` resolves). */
  async someUntagged(stop: Promise<void>): Promise<void> {
    if (this.lines.length > 0) return;
    await Promise.race([stop, new Promise<void>((resolve) => (this.waiter = resolve))]);
    this.waiter = null;
  }

  close(): void {
    this.socket.destroy();
  }
}

const FETCH_LINE = /^\* (\d+) FETCH \((.*)\)$/;

function parseFetch(body: string): { uid?: number; flags?: string[]; modseq?: number; subject?: string } {
  const uid = /(?:^|\s)UID (\d+)/.exec(body);
  const flags = /FLAGS \(([^)]*)\)/.exec(body);
  const modseq = /MODSEQ \((\d+)\)/.exec(body);
  const subject = /ENVELOPE \((?:"[^"]*"|NIL) "([^"]*)"/.exec(body);
  return {
    uid: uid ? Number(uid[1]) : undefined,
    flags: flags
      ? flags[1]!
          .split(' ')
          .filter((flag) => flag !== '' && flag !== '\\Recent')
          .sort()
      : undefined,
    modseq: modseq ? Number(modseq[1]) : undefined,
    subject: subject?.[1],
  };
}

/** What one selected session was told, kept as the client would keep it. */
class Observer {
  /** UIDs in sequence order; 0 for a message announced by EXISTS whose UID is not fetched yet. */
  readonly uids: number[] = [];
  private readonly arrivedAt: number[] = [];
  readonly flags = new Map<number, string[]>();
  readonly modseqs = new Map<number, number>();
  readonly seenAt = new Map<string, number>();
  private readonly everSeen = new Set<number>();
  private readonly expunged = new Set<number>();

  constructor(
    readonly name: string,
    private readonly problems: string[],
  ) {}

  private problem(text: string): void {
    if (this.problems.length < 200) this.problems.push(`${this.name}: ${text}`);
  }

  apply(lines: readonly Untagged[]): void {
    for (const { line, at } of lines) {
      let match: RegExpExecArray | null;
      if ((match = /^\* (\d+) EXISTS$/.exec(line))) {
        const count = Number(match[1]);
        if (count < this.uids.length) this.problem(`EXISTS ${count} below ${this.uids.length}`);
        while (this.uids.length < count) {
          this.uids.push(0);
          this.arrivedAt.push(at);
        }
      } else if ((match = /^\* (\d+) EXPUNGE$/.exec(line))) {
        const seq = Number(match[1]);
        const [uid] = this.uids.splice(seq - 1, 1);
        this.arrivedAt.splice(seq - 1, 1);
        if (uid === undefined) this.problem(`EXPUNGE ${seq} of ${this.uids.length + 1}`);
        else if (uid !== 0) {
          this.expunged.add(uid);
          this.flags.delete(uid);
          this.modseqs.delete(uid);
        }
      } else if ((match = FETCH_LINE.exec(line))) {
        this.applyFetch(Number(match[1]), parseFetch(match[2]!));
      }
    }
  }

  private applyFetch(seq: number, data: ReturnType<typeof parseFetch>): void {
    const known = this.uids[seq - 1];
    if (known === undefined) return this.problem(`FETCH for sequence ${seq} beyond ${this.uids.length}`);
    if (data.uid === undefined) {
      if (known === 0) return; // a flag update before the UID is fetched: the fetch brings it again
    } else if (known === 0) {
      this.arrive(seq, data.uid, data.subject);
    } else if (known !== data.uid) {
      return this.problem(`sequence ${seq} is UID ${data.uid}, was ${known}`);
    }
    const uid = this.uids[seq - 1]!;
    if (data.flags) this.flags.set(uid, data.flags);
    if (data.modseq !== undefined) this.modseqs.set(uid, data.modseq);
  }

  private arrive(seq: number, uid: number, subject: string | undefined): void {
    if (this.expunged.has(uid)) this.problem(`expunged UID ${uid} came back`);
    else if (this.everSeen.has(uid)) this.problem(`UID ${uid} announced twice`);
    this.everSeen.add(uid);
    this.uids[seq - 1] = uid;
    const before = this.uids.slice(0, seq - 1).filter((u) => u !== 0);
    const after = this.uids.slice(seq).filter((u) => u !== 0);
    if (before.some((u) => u >= uid) || after.some((u) => u <= uid)) {
      this.problem(`UID ${uid} out of order at sequence ${seq} (highest before ${Math.max(0, ...before)})`);
    }
    if (subject !== undefined && !this.seenAt.has(subject))
      this.seenAt.set(subject, this.arrivedAt[seq - 1]!);
  }

  /** The range of sequence numbers whose UID is still to be fetched, or null. */
  unknownRange(): string | null {
    const first = this.uids.indexOf(0);
    return first < 0 ? null : `${first + 1}:${this.uids.length}`;
  }
}

export interface CheckerServer {
  imapPort: number;
  lmtpPort: number;
}

export interface CheckerOptions {
  servers: readonly CheckerServer[];
  username: string;
  password: string;
  /** Deliveries and appends per server. */
  messagesPerServer?: number;
  /** STORE/MOVE/EXPUNGE operations per server. */
  mutationsPerServer?: number;
}

export interface CheckerReport {
  problems: string[];
  acknowledged: number;
  flagChanges: number;
  snapshots: number;
  /** Worst delay between an acknowledgement and a session seeing the message, in ms. */
  worstDelayMs: number;
}

function testMessage(subject: string, recipient: string): string {
  return (
    `Date: Fri, 04 Dec 2026 12:00:00 +0000\r\nFrom: sender@example.net\r\nTo: ${recipient}\r\n` +
    `Subject: ${subject}\r\nMessage-ID: <${subject}@example.net>\r\n\r\n${subject}\r\n`
  );
}

interface Snapshot {
  highestModseq: number;
  flags: Map<number, string[]>;
  exists: number;
  fetchStatus: string;
}

export async function runVisibilityChecker(options: CheckerOptions): Promise<CheckerReport> {
  const { servers, username, password } = options;
  const perServer = options.messagesPerServer ?? 20;
  const mutations = options.mutationsPerServer ?? 30;
  const problems: string[] = [];
  const acknowledgedAt = new Map<string, number>();
  const snapshots: Snapshot[] = [];
  let flagChanges = 0;
  let stopping = false;
  let stopObservers!: () => void;
  const stopSignal = new Promise<void>((resolve) => (stopObservers = resolve));

  const open = (server: CheckerServer) => ImapSession.open(server.imapPort, username, password);
  const setup = await open(servers[0]!);
  await setup.command('CREATE Archive');
  await setup.command('ENABLE CONDSTORE');

  // --- observers: one IDLE and one NOOP poller per server ---
  const observers: Observer[] = [];
  const observerLoops: Array<Promise<void>> = [];
  const observerSessions: ImapSession[] = [];
  for (const [index, server] of servers.entries()) {
    for (const mode of ['idle', 'noop'] as const) {
      const session = await open(server);
      observerSessions.push(session);
      const observer = new Observer(`${mode} observer on server ${index + 1}`, problems);
      observers.push(observer);
      const selected = await session.command('SELECT INBOX (CONDSTORE)');
      observer.apply(selected.untagged);
      observerLoops.push(observe(session, observer, mode));
    }
  }

  async function catchUpUids(session: ImapSession, observer: Observer): Promise<void> {
    // New messages may keep arriving meanwhile; only a FETCH that brings nothing is a problem.
    for (let stuck = 0, range = observer.unknownRange(); range !== null;) {
      const fetched = await session.command(`FETCH ${range} (UID FLAGS MODSEQ ENVELOPE)`);
      observer.apply(fetched.untagged);
      const next = observer.unknownRange();
      // Expunged by another session before this one fetched it: its EXPUNGE comes with the next
      // NOOP or IDLE, and with it the sequence numbers that hid its UID.
      if (/\[EXPUNGEISSUED\]/.test(fetched.status) && next !== null) return;
      stuck = next === range ? stuck + 1 : 0;
      range = next;
      if (stuck >= 3) {
        const lines = fetched.untagged.map((u) => u.line).join(' | ');
        problems.push(
          `${observer.name}: FETCH ${range} brought no UIDs (${fetched.status}): ${lines.slice(0, 400)}`,
        );
        stopping = true;
        stopObservers();
        return;
      }
    }
  }

  async function observe(session: ImapSession, observer: Observer, mode: 'idle' | 'noop'): Promise<void> {
    await catchUpUids(session, observer);
    while (!stopping) {
      if (mode === 'idle') {
        session.send('i IDLE\r\n');
        const { before } = await session.next(/^\+ /);
        observer.apply(before);
        await session.someUntagged(stopSignal);
        session.send('DONE\r\n');
        const { before: updates } = await session.next(/^i (OK|NO|BAD)/);
        observer.apply(updates);
      } else {
        observer.apply((await session.command('NOOP')).untagged);
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
      await catchUpUids(session, observer);
    }
  }

  // --- writers ---
  const recipient = username;
  async function deliverAll(server: CheckerServer, index: number): Promise<void> {
    const lmtp = await TextClient.connect(server.lmtpPort);
    await lmtp.read(FINAL);
    await lmtp.send('LHLO checker.example', FINAL);
    for (let i = 0; i < perServer; i++) {
      const subject = `lmtp-${index}-${i}`;
      await lmtp.send('MAIL FROM:<sender@example.net>', FINAL);
      await lmtp.send(`RCPT TO:<${recipient}>`, FINAL);
      await lmtp.send('DATA', FINAL);
      const reply = await lmtp.send(`${testMessage(subject, recipient).replace(/^\./gm, '..')}.`, FINAL);
      if (reply.startsWith('250')) acknowledgedAt.set(subject, Date.now());
      else problems.push(`delivery ${subject} refused: ${reply.trim()}`);
    }
    lmtp.close();
  }

  async function appendAll(server: CheckerServer, index: number): Promise<void> {
    const session = await open(server);
    for (let i = 0; i < perServer; i++) {
      const subject = `append-${index}-${i}`;
      const text = testMessage(subject, recipient);
      session.send(`a${i} APPEND INBOX {${Buffer.byteLength(text)}+}\r\n${text}\r\n`);
      const { match } = await session.next(new RegExp(`^a${i} (OK|NO|BAD)`));
      if (/^a\d+ OK/.test(match.line)) acknowledgedAt.set(subject, Date.now());
      else problems.push(`APPEND ${subject} refused: ${match.line}`);
    }
    session.close();
  }

  async function mutate(server: CheckerServer, index: number): Promise<void> {
    const session = await open(server);
    await session.command('SELECT INBOX (CONDSTORE)');
    for (let i = 0; i < mutations; i++) {
      const search = await session.command('UID SEARCH ALL');
      const line = search.untagged.find((item) => item.line.startsWith('* SEARCH'));
      const uids = (line?.line.slice('* SEARCH'.length).trim().split(' ') ?? []).filter(Boolean);
      if (uids.length < 3) {
        await session.command('NOOP');
        await new Promise((resolve) => setTimeout(resolve, 20));
        continue;
      }
      const uid = uids[(i * 7 + index * 3) % uids.length]!;
      const roll = i % 10;
      let reply;
      if (roll < 7) {
        const flag = ['\\Seen', '\\Flagged', '$k1', '$k2', '\\Answered'][(i + index) % 5];
        reply = await session.command(`UID STORE ${uid} ${i % 2 === 0 ? '+' : '-'}FLAGS (${flag})`);
        flagChanges++;
      } else if (roll === 7) {
        reply = await session.command(`UID MOVE ${uid} Archive`);
      } else {
        reply = await session.command(`UID STORE ${uid} +FLAGS (\\Deleted)`);
        if (/ OK/.test(reply.status)) reply = await session.command(`UID EXPUNGE ${uid}`);
      }
      if (!/ OK/.test(reply.status)) problems.push(`mutation on server ${index + 1} failed: ${reply.status}`);
    }
    session.close();
  }

  // --- fresh SELECTs with their HIGHESTMODSEQ ---
  async function snapshotLoop(server: CheckerServer): Promise<void> {
    const session = await open(server);
    while (!stopping) {
      const selected = await session.command('SELECT INBOX (CONDSTORE)');
      const highest = /HIGHESTMODSEQ (\d+)/.exec(selected.untagged.map((u) => u.line).join('\n'));
      // SELECT's own EXISTS, then any EXPUNGE and EXISTS sent before its OK.
      const listing = new Observer('SELECT', problems);
      listing.apply(selected.untagged);
      const exists = listing.uids.length;
      const flags = new Map<number, string[]>();
      let fetchStatus = '';
      if (exists > 0) {
        // Only the messages SELECT announced: later untagged EXISTS are not part of the snapshot.
        const fetched = await session.command(`FETCH 1:${exists} (UID FLAGS)`);
        fetchStatus = fetched.status;
        const bySeq = new Map<number, number>();
        for (const { line } of fetched.untagged) {
          const match = FETCH_LINE.exec(line);
          if (!match || Number(match[1]) > exists) continue;
          const data = parseFetch(match[2]!);
          if (data.uid !== undefined && data.flags) {
            flags.set(data.uid, data.flags);
            bySeq.set(Number(match[1]), data.uid);
          }
        }
        const uidsInOrder = [...bySeq].sort((x, y) => x[0] - y[0]).map(([, uid]) => uid);
        for (let k = 1; k < uidsInOrder.length; k++)
          if (uidsInOrder[k]! <= uidsInOrder[k - 1]!) problems.push(`SELECT listing out of UID order`);
      }
      if (highest) snapshots.push({ highestModseq: Number(highest[1]), flags, exists, fetchStatus });
      else problems.push('SELECT without HIGHESTMODSEQ');
    }
    session.close();
  }

  const snapshotLoops = servers.map((server) => snapshotLoop(server));
  const writers = servers.flatMap((server, index) => [
    deliverAll(server, index),
    appendAll(server, index),
    mutate(server, index),
  ]);
  const writeResults = await Promise.allSettled(writers);
  for (const result of writeResults)
    if (result.status === 'rejected') problems.push(`writer failed: ${String(result.reason)}`);
  const quiet = Date.now();

  // --- the truth, once writes are over: a fresh SELECT ---
  const truth = new Map<number, { flags: string[]; modseq: number }>();
  const fresh = await setup.command('SELECT INBOX (CONDSTORE)');
  const freshExists = Number(/^\* (\d+) EXISTS/m.exec(fresh.untagged.map((u) => u.line).join('\n'))?.[1]);
  const freshHighest = Number(/HIGHESTMODSEQ (\d+)/.exec(fresh.untagged.map((u) => u.line).join('\n'))?.[1]);
  const subjects = new Map<number, string>();
  if (freshExists > 0) {
    const all = await setup.command(`FETCH 1:* (UID FLAGS MODSEQ ENVELOPE)`);
    for (const { line } of all.untagged) {
      const match = FETCH_LINE.exec(line);
      if (!match) continue;
      const data = parseFetch(match[2]!);
      if (data.uid === undefined) continue;
      truth.set(data.uid, { flags: data.flags ?? [], modseq: data.modseq ?? 0 });
      if (data.subject) subjects.set(data.uid, data.subject);
    }
  }

  // Every observer converges to the truth within the deadline (every change reported).
  const deadline = quiet + VISIBLE_WITHIN_MS + POLL_MS * 3;
  const converged = (observer: Observer) =>
    observer.uids.length === truth.size &&
    observer.uids.every(
      (uid) =>
        truth.get(uid)?.flags.join(' ') === (observer.flags.get(uid) ?? []).join(' ') &&
        truth.get(uid)?.modseq === observer.modseqs.get(uid),
    );
  while (Date.now() < deadline && !observers.every(converged)) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  stopping = true;
  stopObservers();
  await Promise.allSettled([...observerLoops, ...snapshotLoops]);
  for (const observer of observers) {
    if (converged(observer)) continue;
    const missing = [...truth.keys()].filter((uid) => !observer.uids.includes(uid));
    const extra = observer.uids.filter((uid) => !truth.has(uid));
    const wrongFlags = observer.uids.filter(
      (uid) =>
        truth.has(uid) &&
        (truth.get(uid)!.flags.join(' ') !== (observer.flags.get(uid) ?? []).join(' ') ||
          truth.get(uid)!.modseq !== observer.modseqs.get(uid)),
    );
    problems.push(
      `${observer.name}: differs from a fresh SELECT ${Date.now() - quiet} ms after the last write: ` +
        `${missing.length} messages missing, ${extra.length} extra, ${wrongFlags.length} with other flags/MODSEQ`,
    );
  }

  // Every acknowledged message still there was seen by every session within the deadline.
  let worstDelayMs = 0;
  for (const [uid, subject] of subjects) {
    const acknowledged = acknowledgedAt.get(subject);
    if (acknowledged === undefined) continue;
    for (const observer of observers) {
      const seen = observer.seenAt.get(subject);
      if (seen === undefined) continue; // reported as missing above
      const delay = seen - acknowledged;
      worstDelayMs = Math.max(worstDelayMs, delay);
      const allowed = VISIBLE_WITHIN_MS + (observer.name.startsWith('noop') ? POLL_MS * 2 : 0);
      if (delay > allowed)
        problems.push(`${observer.name}: UID ${uid} (${subject}) seen ${delay} ms after its ack`);
    }
  }
  // HIGHESTMODSEQ of each snapshot + CHANGEDSINCE gives the final flags; nothing appears below.
  for (const snapshot of snapshots) {
    const highestUid = Math.max(0, ...snapshot.flags.keys());
    const hidden = [...truth.keys()].filter((uid) => uid < highestUid && !snapshot.flags.has(uid));
    if (hidden.length > 0)
      problems.push(
        `${hidden.length} messages (UID ${hidden[0]}...) missing from a SELECT below its UID ${highestUid} ` +
          `(EXISTS ${snapshot.exists}, ${snapshot.flags.size} listed, FETCH ${snapshot.fetchStatus})`,
      );
  }
  const checked = new Map<number, Set<number>>();
  for (const snapshot of snapshots) {
    let changed = checked.get(snapshot.highestModseq);
    if (!changed) {
      const reply = await setup.command(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${snapshot.highestModseq})`);
      changed = new Set();
      for (const { line } of reply.untagged) {
        const match = FETCH_LINE.exec(line);
        const uid = match ? parseFetch(match[2]!).uid : undefined;
        if (uid !== undefined) changed.add(uid);
      }
      checked.set(snapshot.highestModseq, changed);
    }
    for (const [uid, flags] of snapshot.flags) {
      const now = truth.get(uid);
      if (now && now.flags.join(' ') !== flags.join(' ') && !changed.has(uid)) {
        problems.push(
          `HIGHESTMODSEQ ${snapshot.highestModseq} covered a flag change of UID ${uid} that CHANGEDSINCE does not return`,
        );
      }
    }
  }
  if (freshHighest < Math.max(0, ...[...truth.values()].map((t) => t.modseq)))
    problems.push(`fresh SELECT HIGHESTMODSEQ ${freshHighest} below a message's MODSEQ`);

  // STATUS agrees with SELECT, through every server.
  for (const [index, server] of servers.entries()) {
    const session = await open(server);
    const status = await session.command('STATUS INBOX (MESSAGES UIDNEXT UNSEEN HIGHESTMODSEQ)');
    const selected = await session.command('SELECT INBOX (CONDSTORE)');
    const text = selected.untagged.map((u) => u.line).join('\n');
    const statusLine = status.untagged.find((u) => u.line.startsWith('* STATUS'))?.line ?? '';
    const value = (name: string) => Number(new RegExp(`${name} (\\d+)`).exec(statusLine)?.[1]);
    const exists = Number(/^\* (\d+) EXISTS/m.exec(text)?.[1]);
    const uidNext = Number(/UIDNEXT (\d+)/.exec(text)?.[1]);
    const highest = Number(/HIGHESTMODSEQ (\d+)/.exec(text)?.[1]);
    const unseen = [...truth.values()].filter((t) => !t.flags.includes('\\Seen')).length;
    const expected = { MESSAGES: exists, UIDNEXT: uidNext, HIGHESTMODSEQ: highest, UNSEEN: unseen };
    for (const [name, want] of Object.entries(expected))
      if (value(name) !== want)
        problems.push(`server ${index + 1}: STATUS ${name} ${value(name)}, SELECT ${want}`);
    if (exists !== truth.size)
      problems.push(`server ${index + 1}: SELECT EXISTS ${exists}, truth ${truth.size}`);
    session.close();
  }

  for (const session of observerSessions) session.close();
  setup.close();
  return {
    problems,
    acknowledged: acknowledgedAt.size,
    flagChanges,
    snapshots: snapshots.length,
    worstDelayMs,
  };
}
