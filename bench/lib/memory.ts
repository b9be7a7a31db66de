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

/** USER_HZ on Linux: the unit of the CPU times in /proc/PID/stat. */
export const TICKS_PER_SECOND = 100;

/**
 * CPU time of a process tree in clock ticks: user + system time of every live process in it, and
 * of its children already reaped (cutime + cstime), so that the short-lived processes of a
 * multi-process server (Dovecot's imap processes) count too. Compare two readings of one tree.
 */
export function treeCpuTicks(root: number): number {
  let ticks = 0;
  for (const pid of processTree(root)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime, stime, cutime, cstime: fields 14–17 of stat(5), 11–14 after the command name.
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    } catch {
      // gone meanwhile: its time is in its parent's cutime by now
    }
  }
  return ticks;
}

/** The processes of a tree but helpers that no connection changes (tsx's esbuild service). */
export function serverProcesses(root: number): number[] {
  return processTree(root).filter((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'esbuild';
    } catch {
      return false;
    }
  });
}
