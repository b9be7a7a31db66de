/**
 * `mallard import mbox|maildir` and `mallard export` as a person runs them, on files laid out as
 * other programs leave them: Thunderbird's local folders (mbox files beside `.sbd` directories,
 * `.msf` indexes, X-Mozilla-Status flags, a deleted message not compacted away, an mboxo file
 * with CRLF lines), Apple Mail's export (`Name.mbox/mbox`), a Dovecot Maildir (new/ and cur/,
 * dovecot-keywords). Special folders land in ours, dates come from the From line or the file's
 * mtime, a re-run imports nothing, and bad input gets a clear error and exit code.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDataDir, runMallard } from '../helpers/cli.ts';

const USER = 'carol@example.com';
let dataDir: string;
let files: string;

function mallard(args: string[]) {
  return runMallard(args, { dataDir, env: { MALLARD_CLI_OFFLINE: '1' } });
}

function message(subject: string, extra = ''): string {
  return `From: a@example.net\nTo: ${USER}\nSubject: ${subject}\nMessage-ID: <${subject.replace(/\W/g, '')}@example.net>\n${extra}\nBody of ${subject}\nFrom here on, a line that looks like a From line\n`;
}

/** `message list` lines: uid, internal date, size, flags, from, subject. */
function listed(mailbox: string): string[][] {
  const result = mallard(['message', 'list', USER, mailbox]);
  expect(result.status, result.stderr).toBe(0);
  return result.text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\t'));
}

beforeAll(() => {
  dataDir = makeDataDir('mallard-mailfiles-cli-');
  files = makeDataDir('mallard-mailfiles-src-');
  expect(mallard(['domain', 'add', 'example.com']).status).toBe(0);
  expect(mallard(['user', 'add', USER, '--password', 'carol-password-1']).status).toBe(0);

  // Thunderbird: Local Folders/{Inbox, Inbox.msf, Sent, Projects, Projects.sbd/Q1}
  const tb = path.join(files, 'Local Folders');
  fs.mkdirSync(path.join(tb, 'Projects.sbd'), { recursive: true });
  fs.writeFileSync(
    path.join(tb, 'Inbox'),
    `From - Mon Mar  4 09:15:00 2024\nX-Mozilla-Status: 0001\nX-Mozilla-Status2: 00000000\nX-Mozilla-Keys: $label1\n${message('tb one')}\n` +
      `From - Tue Mar  5 10:00:00 2024\nX-Mozilla-Status: 0008\n${message('tb deleted')}\n` +
      `From - Wed Mar  6 11:30:00 2024\nX-Mozilla-Status: 0005\n${message('tb two')}>From quoted\n\n`,
  );
  fs.writeFileSync(path.join(tb, 'Inbox.msf'), '// not mail');
  fs.writeFileSync(
    path.join(tb, 'Sent'),
    `From - Thu Mar  7 08:00:00 2024\r\nX-Mozilla-Status: 0003\r\n${message('tb sent').replace(/\n/g, '\r\n')}\r\n`,
  );
  fs.writeFileSync(path.join(tb, 'Projects'), '');
  fs.writeFileSync(
    path.join(tb, 'Projects.sbd', 'Q1'),
    `From - Fri Mar  8 12:00:00 2024\n${message('tb q1')}\n`,
  );
  fs.writeFileSync(path.join(tb, 'notes.txt'), 'not mail either');
  fs.writeFileSync(path.join(tb, 'Stray'), 'Hello, this is no mbox');

  // Apple Mail: Export/{Deleted Messages.mbox/mbox, Travel.mbox/{mbox, Info.plist}}
  const apple = path.join(files, 'Apple');
  fs.mkdirSync(path.join(apple, 'Deleted Messages.mbox'), { recursive: true });
  fs.mkdirSync(path.join(apple, 'Travel.mbox'), { recursive: true });
  fs.writeFileSync(
    path.join(apple, 'Deleted Messages.mbox', 'mbox'),
    `From a@example.net Sat Mar  9 13:00:00 2024\n${message('apple trash')}\n`,
  );
  fs.writeFileSync(
    path.join(apple, 'Travel.mbox', 'mbox'),
    `From a@example.net Sun Mar 10 14:00:00 2024\n${message('apple travel')}\n`,
  );
  fs.writeFileSync(path.join(apple, 'Travel.mbox', 'Info.plist'), '<plist/>');

  // Dovecot: Maildir/{new/, cur/, .Spam/cur/, dovecot-keywords}
  const maildir = path.join(files, 'Maildir');
  for (const dir of ['new', 'cur', 'tmp', '.Spam/cur', '.Spam/new', '.Spam/tmp'])
    fs.mkdirSync(path.join(maildir, dir), { recursive: true });
  fs.writeFileSync(path.join(maildir, 'dovecot-keywords'), '0 $Important\n1 work\n');
  const fresh = path.join(maildir, 'new', '1710000000.M1P1.host');
  fs.writeFileSync(fresh, message('dc new').replace(/\n/g, '\r\n'));
  fs.utimesSync(fresh, new Date('2024-03-11T15:00:00Z'), new Date('2024-03-11T15:00:00Z'));
  const old = path.join(maildir, 'cur', '1710000001.M2P1.host,S=200:2,FRSb');
  fs.writeFileSync(old, message('dc cur').replace(/\n/g, '\r\n'));
  fs.utimesSync(old, new Date('2024-03-12T16:00:00Z'), new Date('2024-03-12T16:00:00Z'));
  fs.writeFileSync(
    path.join(maildir, '.Spam', 'cur', '1710000002.M3P1.host:2,S'),
    message('dc spam').replace(/\n/g, '\r\n'),
  );
}, 60_000);

afterAll(() => {
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(files, { recursive: true, force: true });
});

describe('mallard import mbox|maildir', () => {
  it("reads Thunderbird's local folders", () => {
    const result = mallard(['import', 'mbox', USER, path.join(files, 'Local Folders')]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.text).toMatch(/imported 4 messages .*, 0 already here, 2 skipped/);
    expect(result.text).toContain('deleted in Thunderbird, not yet compacted away');
    expect(result.text).toContain('Stray: not an mbox file');
    const inbox = listed('INBOX');
    expect(inbox.map((row) => [row[1], row[3], row[5]])).toEqual([
      ['2024-03-04T09:15:00.000Z', '\\Seen $label1', 'tb one'],
      ['2024-03-06T11:30:00.000Z', '\\Seen \\Flagged', 'tb two'],
    ]);
    // Into our Sent (special-use), with flags from X-Mozilla-Status.
    expect(listed('Sent').map((row) => [row[1], row[3], row[5]])).toEqual([
      ['2024-03-07T08:00:00.000Z', '\\Seen \\Answered', 'tb sent'],
    ]);
    expect(listed('Projects')).toEqual([]);
    expect(listed('Projects/Q1').map((row) => row[5])).toEqual(['tb q1']);
    const raw = mallard(['message', 'show', USER, 'INBOX', inbox[1]![0]!, '--raw']).stdout.toString('latin1');
    // The body line quoted in the file (">From quoted") is a From line again.
    expect(raw).toBe(message('tb two').replace(/\n/g, '\r\n') + 'From quoted\r\n');
  });

  it("reads Apple Mail's export, Deleted Messages into Trash", () => {
    const result = mallard(['import', 'mbox', USER, path.join(files, 'Apple')]);
    expect(result.status, result.stderr).toBe(0);
    expect(listed('Trash').map((row) => [row[1], row[5]])).toEqual([
      ['2024-03-09T13:00:00.000Z', 'apple trash'],
    ]);
    expect(listed('Travel').map((row) => row[5])).toEqual(['apple travel']);
  });

  it('reads a Dovecot Maildir into one folder: flags, keywords, file dates, subfolders below it', () => {
    const result = mallard(['import', 'maildir', USER, path.join(files, 'Maildir'), '--mailbox', 'Old']);
    expect(result.status, result.stderr).toBe(0);
    expect(listed('Old').map((row) => [row[1], row[3], row[5]])).toEqual([
      // cur/ first, then new/ (mail no client has seen yet).
      ['2024-03-12T16:00:00.000Z', '\\Flagged \\Answered \\Seen work', 'dc cur'],
      ['2024-03-11T15:00:00.000Z', '', 'dc new'],
    ]);
    expect(listed('Old/Spam').map((row) => row[5])).toEqual(['dc spam']);
  });

  it('imports nothing twice', () => {
    const again = mallard(['import', 'mbox', USER, path.join(files, 'Local Folders')]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.text).toMatch(/imported 0 messages .*, 4 already here/);
    expect(listed('INBOX')).toHaveLength(2);
  });

  it('says what is wrong with bad input', () => {
    const missing = mallard(['import', 'mbox', USER, path.join(files, 'nope')]);
    expect(missing.status).toBe(66);
    expect(missing.stderr).toMatch(/no such file or directory/);
    const notMbox = mallard(['import', 'mbox', USER, path.join(files, 'Local Folders', 'Stray')]);
    expect(notMbox.status).toBe(65);
    expect(notMbox.stderr).toMatch(/not an mbox file/);
    const noUser = mallard(['import', 'mbox', 'nobody@example.com', files]);
    expect(noUser.status).toBe(67);
  });
});

describe('mallard export', () => {
  it('writes a tar that imports back, and refuses what it cannot do', () => {
    const out = path.join(files, 'carol.tar');
    const result = mallard(['export', USER, '--format', 'maildir', '--out', out]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.text).toMatch(/^exported 9 messages \(\d+ bytes\) in \d+ folders to /);
    expect(fs.existsSync(`${out}.partial`)).toBe(false);
    // Importing our own export into the same user finds everything there already.
    const back = mallard(['import', 'maildir', USER, out]);
    expect(back.status, back.stderr).toBe(0);
    expect(back.text).toMatch(/imported 0 messages .*, 9 already here, 0 skipped/);

    expect(mallard(['export', USER, '--format', 'zip', '--out', out]).status).toBe(64);
    expect(mallard(['export', USER, '--format', 'mbox']).status).toBe(64);
    const noMailbox = mallard(['export', USER, '--format', 'mbox', '--mailbox', 'Nope', '--out', out]);
    expect(noMailbox.status).toBe(65);
    expect(noMailbox.stderr).toMatch(/no mailbox Nope/);
    const cannotWrite = mallard([
      'export',
      USER,
      '--format',
      'mbox',
      '--out',
      path.join(files, 'no', 'dir', 'x.tar'),
    ]);
    expect(cannotWrite.status).toBe(73);
    expect(mallard(['export', 'nobody@example.com', '--format', 'mbox', '--out', out]).status).toBe(67);
  });
});
