/**
 * A real client resyncing with QRESYNC: Debian's NeoMutt (2022), with a header cache and
 * `imap_qresync=yes`, opens a 1,000-message INBOX, quits, and opens it again after another session
 * changed flags, then again after it expunged messages. Driven in tmux (it wants a terminal); what
 * it shows is read off the screen: a status line with its counts, and the index limited to flagged
 * messages (~F).
 *
 * The bytes of each NeoMutt connection (both ways; Debian's NeoMutt is built without COMPRESS, so
 * the commands stay readable) are counted by a TCP relay in the test. NeoMutt resyncs with
 * `UID FETCH 1:n (FLAGS) (CHANGEDSINCE modseq VANISHED)`: after flag changes only those travel,
 * set beside a full resync of the same state (QRESYNC and CONDSTORE off, its own header cache: the
 * flags of every message again). After expunges the server answers `VANISHED (EARLIER)` with
 * exactly the UIDs gone, but this NeoMutt keeps its cached message numbers with holes where they
 * were, finds them inconsistent (its imap_verify_qresync) and fetches every message's flags again:
 * checked to happen on Dovecot alike. Dovecot plays the same script as the reference, and the
 * figures are printed beside each other.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dovecotAvailable, startDovecot, type DovecotServer } from '../helpers/dovecot.ts';
import { haveProgram, runProcess } from '../helpers/process.ts';
import { LineClient, startTestServer, type TestServer } from '../helpers/server.ts';

const AVAILABLE = haveProgram('neomutt') && haveProgram('tmux');
if (!AVAILABLE)
  console.warn('NeoMutt: skipped — neomutt or tmux is not installed (apt-get install neomutt tmux)');
const WITH_DOVECOT = dovecotAvailable();

const USER = 'neomutt@example.test';
const PASSWORD = 'neomutt password';
const MESSAGES = 1000;
/** Flags changed by another session before NeoMutt's second visit (UIDs = message numbers). */
const FLAGGED = [10, 20, 30, 40, 50];
const MARKED_UNREAD = [60, 70];
/** Expunged by another session before the third visit. */
const EXPUNGED = [3, 100, 101, 102, 250];
/** NeoMutt's status line: messages, flagged, unread, and those shown (under a limit). */
const STATUS = /NMSTATUS (\d+)\/(\d+)\/(\d+) SHOWN (\d*) END/;
const SCREEN_TIMEOUT_MS = 60_000;

function message(n: number): string {
  return (
    `From: sender${n}@example.org\r\nTo: ${USER}\r\nSubject: message ${String(n).padStart(4, '0')}\r\n` +
    `Date: Mon, 7 Dec 2026 10:00:00 +0000\r\nMessage-ID: <m${n}@example.org>\r\n\r\nbody ${n}\r\n`
  );
}

async function login(port: number): Promise<LineClient> {
  const client = await LineClient.connect(port);
  await client.readUntil(/^\* OK/);
  expect(await client.command('l', `LOGIN ${USER} "${PASSWORD}"`)).toMatch(/^l OK/m);
  return client;
}

/** INBOX with MESSAGES read messages, appended over IMAP (MULTIAPPEND, LITERAL+) on either server. */
async function fill(port: number): Promise<void> {
  const client = await login(port);
  for (let first = 1; first <= MESSAGES; first += 100) {
    let command = `a${first} APPEND INBOX`;
    for (let n = first; n < first + 100; n++) {
      const text = message(n);
      command += ` (\\Seen) {${Buffer.byteLength(text)}+}\r\n${text}`;
    }
    client.send(`${command}\r\n`);
    expect(await client.readUntil(new RegExp(`^a${first} (OK|NO|BAD)`))).toMatch(/ OK /);
  }
  client.close();
}

/** What another session changes between NeoMutt's visits: flags, or expunges. */
async function changeElsewhere(port: number, change: 'flags' | 'expunge'): Promise<void> {
  const client = await login(port);
  const ok = async (tag: string, command: string) =>
    expect(await client.command(tag, command)).toMatch(new RegExp(`^${tag} OK`, 'm'));
  await ok('s', 'SELECT INBOX');
  if (change === 'flags') {
    await ok('f', `UID STORE ${FLAGGED.join(',')} +FLAGS.SILENT (\\Flagged)`);
    await ok('u', `UID STORE ${MARKED_UNREAD.join(',')} -FLAGS.SILENT (\\Seen)`);
  } else {
    await ok('d', `UID STORE ${EXPUNGED.join(',')} +FLAGS.SILENT (\\Deleted)`);
    await ok('x', 'EXPUNGE');
  }
  client.close();
}

/** A TCP relay to `target` that counts the bytes of its connections and keeps what the client sent. */
class Relay {
  bytes = 0;
  sent = '';
  received = '';
  private readonly server: net.Server;

  private constructor(target: number) {
    this.server = net.createServer((downstream) => {
      const upstream = net.connect(target, '127.0.0.1');
      downstream.on('data', (chunk: Buffer) => {
        this.bytes += chunk.length;
        this.sent += chunk.toString('latin1');
      });
      upstream.on('data', (chunk: Buffer) => {
        this.bytes += chunk.length;
        this.received += chunk.toString('latin1');
      });
      downstream.pipe(upstream).pipe(downstream);
      const end = () => {
        downstream.destroy();
        upstream.destroy();
      };
      downstream.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
  }

  static async start(target: number): Promise<Relay> {
    const relay = new Relay(target);
    await new Promise<void>((resolve) => relay.server.listen(0, '127.0.0.1', resolve));
    return relay;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  reset(): void {
    this.bytes = 0;
    this.sent = '';
    this.received = '';
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function muttrc(dir: string, qresync: boolean): string {
  return `set imap_user="${USER}"
set imap_pass="${PASSWORD}"
set header_cache="${dir}/hcache-${qresync ? 'qresync' : 'full'}"
set imap_qresync=${qresync ? 'yes' : 'no'}
set imap_condstore=${qresync ? 'yes' : 'no'}
set imap_idle=no
set imap_passive=yes
set imap_check_subscribed=no
set ssl_starttls=no
set ssl_force_tls=no
set mark_old=no
set quit=yes
set move=no
set delete=no
set confirmappend=no
set record=""
set postponed="${dir}/postponed"
set mbox="${dir}/mbox"
set sort=unsorted
set mail_check_stats=no
set status_format="NMSTATUS %m/%F/%u SHOWN %M END"
set index_format="%4C %Z [%s]"
`;
}

/** NeoMutt in a tmux session of its own tmux server (its socket in the test's directory). */
class NeoMutt {
  private constructor(private readonly socket: string) {}

  private tmux(...args: string[]) {
    return runProcess('tmux', ['-S', this.socket, ...args], { timeoutMs: 10_000 });
  }

  /** Opens `imap://127.0.0.1:port/INBOX` with the settings of muttrc(dir, qresync). */
  static async open(dir: string, port: number, qresync: boolean): Promise<NeoMutt> {
    const rc = path.join(dir, qresync ? 'qresync.rc' : 'full.rc');
    fs.writeFileSync(rc, muttrc(dir, qresync));
    const neomutt = new NeoMutt(path.join(dir, 'tmux.sock'));
    const command = `env HOME=${dir} neomutt -n -F ${rc} -f imap://127.0.0.1:${port}/INBOX`;
    const started = await neomutt.tmux('new-session', '-d', '-s', 'nm', '-x', '160', '-y', '60', command);
    expect(started.status, started.stderr).toBe(0);
    return neomutt;
  }

  async screen(): Promise<string> {
    return (await this.tmux('capture-pane', '-p', '-t', 'nm')).stdout;
  }

  /** Waits until the screen shows `pattern` (NeoMutt draws when it has loaded), polling tmux. */
  async waitFor(pattern: RegExp): Promise<RegExpExecArray> {
    const deadline = Date.now() + SCREEN_TIMEOUT_MS;
    for (;;) {
      const screen = await this.screen();
      const found = pattern.exec(screen);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`NeoMutt never showed ${pattern}; screen:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  keys(...keys: string[]): Promise<unknown> {
    return this.tmux('send-keys', '-t', 'nm', ...keys);
  }

  /** `q`, then waits for NeoMutt (and with it the tmux server) to end. */
  async quit(): Promise<void> {
    await this.keys('q');
    const deadline = Date.now() + SCREEN_TIMEOUT_MS;
    while ((await this.tmux('has-session', '-t', 'nm')).status === 0) {
      if (Date.now() > deadline) {
        await this.tmux('kill-server');
        throw new Error(`NeoMutt did not quit; screen:\n${await this.screen()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  kill(): Promise<unknown> {
    return this.tmux('kill-server');
  }
}

interface Visit {
  bytes: number;
  sent: string;
  received: string;
  counts: [number, number, number];
  flaggedSubjects: string[];
}

/** One NeoMutt visit through the relay: its counts, the flagged messages it lists, its bytes. */
async function visit(relay: Relay, dir: string, qresync: boolean, flaggedExpected: number): Promise<Visit> {
  relay.reset();
  const neomutt = await NeoMutt.open(dir, relay.port, qresync);
  try {
    const status = await neomutt.waitFor(STATUS);
    const counts = [Number(status[1]), Number(status[2]), Number(status[3])] as [number, number, number];
    let flaggedSubjects: string[] = [];
    if (flaggedExpected > 0) {
      // NeoMutt's own view of the flags: limit the index to ~F (flagged).
      await neomutt.keys('l');
      await neomutt.waitFor(/Limit to messages matching:/);
      await neomutt.keys('~F', 'Enter');
      await neomutt.waitFor(new RegExp(`SHOWN ${flaggedExpected} END`));
      flaggedSubjects = [...(await neomutt.screen()).matchAll(/\[(message \d{4})\]/g)].map((m) => m[1]!);
    }
    await neomutt.quit();
    return { bytes: relay.bytes, sent: relay.sent, received: relay.received, counts, flaggedSubjects };
  } finally {
    await neomutt.kill();
  }
}

interface Figures {
  first: Visit;
  /** After flag changes: QRESYNC, and a full resync (its own header cache). */
  resync: Visit;
  full: Visit;
  /** After expunges: VANISHED (EARLIER), then NeoMutt's full resync (see the top). */
  expunged: Visit;
}

/** The whole script against one server (through a relay to `port`). */
async function play(port: number): Promise<Figures> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-neomutt-'));
  fs.mkdirSync(path.join(dir, 'Mail')); // NeoMutt's local folder, asked for at start otherwise
  const relay = await Relay.start(port);
  try {
    await fill(port);
    // The first visits fill both header caches (QRESYNC's keeps MODSEQ and the UID list).
    const first = await visit(relay, dir, true, 0);
    await visit(relay, dir, false, 0);
    await changeElsewhere(port, 'flags');
    const resync = await visit(relay, dir, true, FLAGGED.length);
    const full = await visit(relay, dir, false, FLAGGED.length);
    await changeElsewhere(port, 'expunge');
    const expunged = await visit(relay, dir, true, FLAGGED.length);
    return { first, resync, full, expunged };
  } finally {
    await relay.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const subject = (n: number) => `message ${String(n).padStart(4, '0')}`;
/** Messages, flagged, unread after `expunged` messages went. */
const countsAfter = (expunged: number) => [MESSAGES - expunged, FLAGGED.length, MARKED_UNREAD.length];
/** A full resync: every message's UID and flags again. */
const FULL_FETCH = /UID FETCH 1:\d+ \(UID FLAGS\)/;

describe.skipIf(!AVAILABLE)('NeoMutt with QRESYNC and a header cache', () => {
  let mallard: TestServer | undefined;
  let dovecot: DovecotServer | undefined;
  const figures = new Map<string, Figures>();

  beforeAll(async () => {
    mallard = await startTestServer();
    await mallard.addUser(USER, PASSWORD);
    figures.set('Mallard', await play(mallard.imapPort));
    if (WITH_DOVECOT) {
      dovecot = await startDovecot([[USER, PASSWORD]]);
      figures.set('Dovecot', await play(dovecot.port));
    }
  }, 300_000);
  afterAll(async () => {
    await mallard?.stop();
    await dovecot?.stop();
  });

  it('shows the changes made elsewhere after each resync', () => {
    const { first, resync, full, expunged } = figures.get('Mallard')!;
    expect(first.counts).toEqual([MESSAGES, 0, 0]);
    for (const seen of [resync, full, expunged]) {
      expect(seen.counts).toEqual(countsAfter(seen === expunged ? EXPUNGED.length : 0));
      expect(seen.flaggedSubjects).toEqual(FLAGGED.map(subject));
    }
  });

  it('asks with QRESYNC and is told only the changes', () => {
    const { resync, full } = figures.get('Mallard')!;
    expect(resync.sent).toMatch(/ENABLE QRESYNC/);
    expect(resync.sent).toMatch(/UID FETCH 1:1000 \(FLAGS\) \(CHANGEDSINCE \d+ VANISHED\)/);
    expect(resync.sent).not.toMatch(FULL_FETCH);
    // The changed messages' FETCHes, and no other.
    const fetched = [...resync.received.matchAll(/^\* \d+ FETCH \(.*UID (\d+)/gm)].map((m) => Number(m[1]));
    expect(fetched.sort((a, b) => a - b)).toEqual([...FLAGGED, ...MARKED_UNREAD]);
    expect(full.sent).not.toMatch(/QRESYNC|CONDSTORE/);
    expect(full.sent).toMatch(FULL_FETCH);
    expect(resync.bytes).toBeLessThan(full.bytes / 3);
  });

  it('says which messages vanished; NeoMutt 2022 then resyncs fully, on Dovecot alike', () => {
    for (const [, { expunged }] of figures) {
      expect(expunged.sent).toMatch(/UID FETCH 1:1000 \(FLAGS\) \(CHANGEDSINCE \d+ VANISHED\)/);
      expect(expunged.received).toMatch(/^\* VANISHED \(EARLIER\) 3,100:102,250\r?$/m);
      expect(expunged.sent).toMatch(FULL_FETCH);
    }
  });

  it.skipIf(!WITH_DOVECOT)('prints the bytes beside Dovecot, where NeoMutt sees the same', () => {
    const reference = figures.get('Dovecot')!;
    const mallardFigures = figures.get('Mallard')!;
    for (const visit of ['resync', 'full', 'expunged'] as const) {
      expect(reference[visit].counts).toEqual(mallardFigures[visit].counts);
      expect(reference[visit].flaggedSubjects).toEqual(mallardFigures[visit].flaggedSubjects);
    }
    expect(reference.resync.sent).not.toMatch(FULL_FETCH);
    for (const [server, { resync, full, expunged }] of figures) {
      console.log(
        `NeoMutt on ${server}, ${MESSAGES} messages, after ${FLAGGED.length + MARKED_UNREAD.length} flag ` +
          `changes: QRESYNC resync ${resync.bytes.toLocaleString('en')} B, full resync ` +
          `${full.bytes.toLocaleString('en')} B; after ${EXPUNGED.length} expunges: ` +
          `${expunged.bytes.toLocaleString('en')} B (whole connection, both ways)`,
      );
    }
  });
});
