/**
 * Runs Pigeonhole's `sieve-test` (Debian's dovecot-sieve), the Sieve oracle, and reads the actions it
 * prints into the same normalized form as ours (see normalizeOurs in the oracle test). sieve-test
 * refuses to run mail processes as root, so everything it reads lives in a directory `nobody` can
 * read; personal and global include directories come from the caller.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SieveResult } from '../../server/sieve/index.ts';

export interface SieveOutcome {
  compiled: boolean;
  /** A runtime error: the message went to the implicit keep, and no other action was done. */
  failed: boolean;
  actions: string[];
  /** "keep flags=..." or null when the implicit keep was cancelled. */
  implicitKeep: string | null;
}

export function pigeonholeAvailable(): boolean {
  return spawnSync('sh', ['-c', 'command -v sieve-test']).status === 0;
}

export interface Pigeonhole {
  dir: string;
  run(script: string, message: Buffer, envelope: { from: string; to: string }): SieveOutcome;
  close(): void;
}

/** A sandbox with the included scripts written to its personal and global directories. */
export function createPigeonhole(includes: {
  personal: Record<string, string>;
  global: Record<string, string>;
}): Pigeonhole {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-pigeonhole-'));
  fs.chmodSync(dir, 0o755);
  for (const location of ['personal', 'global', 'mail'] as const) {
    fs.mkdirSync(path.join(dir, location), { mode: location === 'mail' ? 0o777 : 0o755 });
    fs.chmodSync(path.join(dir, location), location === 'mail' ? 0o777 : 0o755);
  }
  for (const location of ['personal', 'global'] as const) {
    for (const [name, source] of Object.entries(includes[location])) {
      fs.writeFileSync(path.join(dir, location, `${name}.sieve`), source, { mode: 0o644 });
    }
  }
  fs.writeFileSync(
    path.join(dir, 'dovecot.conf'),
    [
      'mail_uid = nobody',
      'mail_gid = nogroup',
      `mail_location = maildir:${dir}/mail`,
      'plugin {',
      `  sieve = file:${dir}/personal`,
      `  sieve_global = ${dir}/global`,
      '  sieve_extensions = +editheader +vacation-seconds +special-use',
      '}',
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  let counter = 0;
  return {
    dir,
    run(script, message, envelope) {
      counter++;
      const scriptFile = path.join(dir, `case-${counter}.sieve`);
      const messageFile = path.join(dir, `case-${counter}.eml`);
      fs.writeFileSync(scriptFile, script, { mode: 0o644 });
      fs.writeFileSync(messageFile, message, { mode: 0o644 });
      const result = spawnSync(
        'sieve-test',
        [
          '-c',
          path.join(dir, 'dovecot.conf'),
          '-f',
          envelope.from,
          '-r',
          envelope.to,
          '-a',
          envelope.to,
          scriptFile,
          messageFile,
        ],
        { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } },
      );
      return parseSieveTest(`${result.stdout}\n${result.stderr}`);
    },
    close() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function storeLine(mailbox: string, modifiers: string[]): string {
  const flags = modifiers
    .filter((line) => line.startsWith('add IMAP flags: '))
    .flatMap((line) => line.slice('add IMAP flags: '.length).split(' '));
  let text = `store ${mailbox} flags=${normalizeFlags(flags)}`;
  if (modifiers.some((line) => line.startsWith('create mailbox'))) text += ' create';
  const special = modifiers
    .map((line) => /special-use flag `([^']*)'/.exec(line)?.[1])
    .find((flag) => flag !== undefined);
  if (special !== undefined) text += ` specialuse=${special}`;
  return text;
}

/** Flags compared case-insensitively and as a set (IMAP flags and keywords are). */
export function normalizeFlags(flags: string[]): string {
  return [...new Set(flags.filter((flag) => flag !== '').map((flag) => flag.toLowerCase()))].sort().join(',');
}

/** Reads sieve-test's report: "Performed actions:" and "Implicit keep:" sections. */
export function parseSieveTest(output: string): SieveOutcome {
  if (/failed to compile sieve script/.test(output))
    return { compiled: false, failed: false, actions: [], implicitKeep: null };
  if (/final result: failed/.test(output))
    return { compiled: true, failed: true, actions: [], implicitKeep: null };
  // Pigeonhole prints strings with the CRLF line breaks of RFC 5228 whatever the script file had.
  const lines = output.split(/\r?\n/);
  const performed = lines.indexOf('Performed actions:');
  const implicit = lines.indexOf('Implicit keep:');
  if (performed < 0 || implicit < 0) throw new Error(`unexpected sieve-test output:\n${output}`);
  const actions = readActions(lines.slice(performed + 1, implicit));
  const keep = readActions(lines.slice(implicit + 1));
  return {
    compiled: true,
    failed: false,
    actions,
    implicitKeep: keep.length === 0 ? null : (keep[0] ?? '').replace(/^store INBOX /, 'keep '),
  };
}

function readActions(lines: string[]): string[] {
  const actions: { head: string; modifiers: string[]; fields: Record<string, string> }[] = [];
  let inMessage = false;
  let fieldName: string | null = null;
  for (const line of lines) {
    if (line === 'START MESSAGE') inMessage = true;
    if (inMessage) {
      fieldName = null;
      if (line === 'END MESSAGE') inMessage = false;
      continue;
    }
    const head = /^ \* (.*)$/.exec(line);
    if (head !== null) {
      actions.push({ head: head[1] ?? '', modifiers: [], fields: {} });
      fieldName = null;
      continue;
    }
    const last = actions[actions.length - 1];
    const modifier = /^\s+\+ (.*)$/.exec(line);
    if (modifier !== null && last !== undefined) last.modifiers.push(modifier[1] ?? '');
    const field = /^\s+=> (\w+)\s*: (.*)$/.exec(line);
    if (field !== null && last !== undefined) {
      fieldName = field[1] ?? '';
      last.fields[fieldName] = field[2] ?? '';
    } else if (modifier === null && fieldName !== null && last !== undefined && line !== '') {
      // A value with line breaks (a vacation handle made from a multi-line reason) goes on: "?"
      // stands for the break, as in our normalized form.
      last.fields[fieldName] += `?${line}`;
    } else fieldName = null;
  }
  return actions.map(({ head, modifiers, fields }) => {
    const store = /^store message in folder: (.*)$/.exec(head);
    if (store !== null) return storeLine(store[1] ?? '', modifiers);
    const redirect = /^redirect message to: <(.*)>$/.exec(head);
    if (redirect !== null) return `redirect ${redirect[1]}`;
    const reject = /^reject message with reason: (.*)$/.exec(head);
    if (reject !== null) return `reject ${reject[1]}`;
    if (head === 'discard') return 'discard';
    if (head === 'track duplicate') return 'track duplicate';
    if (head.startsWith('send vacation message')) {
      return `vacation seconds=${fields.seconds} subject=${fields.subject ?? '-'} from=${fields.from ?? '-'} handle=${fields.handle}`;
    }
    return `unknown ${head}`;
  });
}

/** Our interpreter's result in the form parseSieveTest gives Pigeonhole's. */
export function normalizeOurs(result: SieveResult): SieveOutcome {
  if (result.error !== null) return { compiled: true, failed: true, actions: [], implicitKeep: null };
  const actions = result.actions.map((action) => {
    switch (action.type) {
      case 'keep':
      case 'fileinto': {
        let text = `store ${action.mailbox} flags=${normalizeFlags(action.flags)}`;
        if (action.create) text += ' create';
        if (action.specialUse !== null) text += ` specialuse=${action.specialUse}`;
        return text;
      }
      case 'redirect':
        return `redirect ${action.address}`;
      case 'reject':
        return `reject ${action.reason}`;
      case 'discard':
        return 'discard';
      case 'vacation':
        return `vacation seconds=${action.seconds} subject=${action.subject ?? '-'} from=${action.from ?? '-'} handle=${action.handle}`;
    }
  });
  // Pigeonhole lists the tracking of a duplicate id as an action, where the test ran.
  for (const entry of [...result.duplicates].reverse())
    actions.splice(entry.afterActions, 0, 'track duplicate');
  const keep = result.implicitKeep;
  return {
    compiled: true,
    failed: false,
    actions,
    implicitKeep: keep === null ? null : `keep flags=${normalizeFlags(keep.flags)}`,
  };
}
