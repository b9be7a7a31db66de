/**
 * Resident memory of server processes from /proc (Linux): RSS (VmRSS, which counts shared pages
 * once per process) and PSS (shared pages divided among the processes that map them, the fairer
 * sum for a multi-process server such as Dovecot).
 */
import fs from 'node:fs';

export interface MemorySample {
  rssKiB: number;
  pssKiB: number;
  processes: number;
}

function readKiB(file: string, field: string): number {
  try {
    const text = fs.readFileSync(file, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return match ? Number(match[1]) : 0;
  } catch {
    return 0; // the process has gone, or smaps_rollup is not available
  }
}

export function processMemory(pids: number[]): MemorySample {
  let rssKiB = 0;
  let pssKiB = 0;
  let processes = 0;
  for (const pid of pids) {
    const rss = readKiB(`/proc/${pid}/status`, 'VmRSS');
    if (rss === 0) continue;
    processes++;
    rssKiB += rss;
    pssKiB += readKiB(`/proc/${pid}/smaps_rollup`, 'Pss') || rss;
  }
  return { rssKiB, pssKiB, processes };
}

function parentOf(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may contain spaces: fields resume after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[1]);
  } catch {
    return -1;
  }
}

/** The process and all its descendants. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [root];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const parent = parentOf(pid);
    if (parent <= 0) continue;
    const list = children.get(parent) ?? [];
    list.push(pid);
    children.set(parent, list);
  }
  const result: number[] = [];
  const queue = [root];
  while (queue.length > 0 && result.length < 100_000) {
    const pid = queue.shift()!;
    result.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return result;
}
