/**
 * Finds the folders in what a user hands us: one mbox file, a tree of mbox files (Thunderbird's
 * local folders: `Name` files beside `Name.sbd/` directories of subfolders; Apple Mail's export:
 * `Name.mbox/` directories holding an `mbox` file; our own export: `Name.mbox` files in
 * directories), or a Maildir++ tree (Dovecot's: cur/ new/ tmp/ at the root for INBOX, `.A.B`
 * directories for the others). Each folder comes with its path as levels (joined with "/" later).
 */
import fs from 'node:fs';
import path from 'node:path';
import { folderOfDirectory } from '../export/maildir.ts';

export type SourceFolder =
  { kind: 'mbox'; levels: string[]; file: string } | { kind: 'maildir'; levels: string[]; dir: string };

/** Files that sit beside mbox files and are not mail (Thunderbird indexes, Apple's metadata). */
const NOT_MAIL =
  /\.(msf|dat|json|plist|html|sqlite|db|txt|log|toc)$|^\.|^(msgFilterRules|popstate|Info\.plist|table_of_contents)/i;

function isDirectory(file: string): boolean {
  return fs.statSync(file, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

/** A Maildir folder: cur/ or new/ inside. */
export function isMaildir(dir: string): boolean {
  return isDirectory(path.join(dir, 'cur')) || isDirectory(path.join(dir, 'new'));
}

/** An mbox file: empty (a folder without mail) or starting with a From line. */
function looksLikeMbox(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const start = Buffer.alloc(5);
    const read = fs.readSync(fd, start, 0, 5, 0);
    return read === 0 || start.toString('latin1', 0, read) === 'From ';
  } finally {
    fs.closeSync(fd);
  }
}

function maildirFolders(root: string): SourceFolder[] {
  // The root is INBOX, or the folder the whole tree is imported into (no level of its own).
  const folders: SourceFolder[] = [{ kind: 'maildir', levels: [], dir: root }];
  for (const name of fs.readdirSync(root).sort()) {
    const dir = path.join(root, name);
    if (name.startsWith('.') && name !== '.' && name !== '..' && isDirectory(dir) && isMaildir(dir))
      folders.push({ kind: 'maildir', levels: folderOfDirectory(name).split('/'), dir });
  }
  return folders;
}

function mboxFolders(dir: string, parent: string[], found: SourceFolder[], skipped: string[]): void {
  for (const name of fs.readdirSync(dir).sort()) {
    const file = path.join(dir, name);
    if (isDirectory(file)) {
      if (name.endsWith('.sbd')) mboxFolders(file, [...parent, name.slice(0, -4)], found, skipped);
      else if (name.endsWith('.mbox')) {
        const levels = [...parent, name.slice(0, -5)];
        const inner = path.join(file, 'mbox');
        if (fs.existsSync(inner)) found.push({ kind: 'mbox', levels, file: inner });
        mboxFolders(file, levels, found, skipped);
      } else if (isMaildir(file)) {
        for (const folder of maildirFolders(file))
          found.push({ ...folder, levels: [...parent, ...folder.levels] });
      } else mboxFolders(file, [...parent, name], found, skipped);
    } else if (name === 'mbox' && parent.length > 0 && dir.endsWith('.mbox')) {
      continue; // Apple's `Name.mbox/mbox`, taken with its directory
    } else if (NOT_MAIL.test(name)) {
      continue;
    } else if (looksLikeMbox(file)) {
      found.push({ kind: 'mbox', levels: [...parent, name.replace(/\.mbox$/i, '')], file });
    } else skipped.push(`${path.join(...parent, name)}: not an mbox file (no From line at the start)`);
  }
}

/** The folders under `root` (a file or a directory), and what was passed over and why. */
export function findFolders(root: string): { folders: SourceFolder[]; skipped: string[] } {
  const stat = fs.statSync(root, { throwIfNoEntry: false });
  if (!stat) throw new Error(`no such file or directory: ${root}`);
  if (!stat.isDirectory()) {
    if (!looksLikeMbox(root)) throw new Error(`${root} is not an mbox file (no From line at the start)`);
    return {
      folders: [{ kind: 'mbox', levels: [path.basename(root).replace(/\.mbox$/i, '')], file: root }],
      skipped: [],
    };
  }
  if (isMaildir(root)) return { folders: maildirFolders(root), skipped: [] };
  const folders: SourceFolder[] = [];
  const skipped: string[] = [];
  mboxFolders(root, [], folders, skipped);
  return { folders, skipped };
}
