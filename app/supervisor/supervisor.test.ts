/** The supervisor with real child processes: small node scripts in fixtures/, and the real `mallard serve`. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ServerSupervisor } from './supervisor.ts';
import type { SupervisorStatus } from './types.ts';
import { LineSplitter, LogRing } from './log-ring.ts';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const fixture = (name: string) => path.join(FIXTURES, name);

const running: ServerSupervisor[] = [];
function supervise(options: ConstructorParameters<typeof ServerSupervisor>[0]): ServerSupervisor {
  const supervisor = new ServerSupervisor(options);
  running.push(supervisor);
  return supervisor;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((supervisor) => supervisor.stop()));
});

async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('ServerSupervisor', () => {
  it('restarts a crashing server with growing delays, capped at maxMs', async () => {
    const supervisor = supervise({
      command: process.execPath,
      args: [fixture('crash.mjs')],
      backoff: { initialMs: 100, maxMs: 400, factor: 2, resetAfterMs: 60_000 },
    });
    const backoffs: SupervisorStatus[] = [];
    let backoffAt = 0;
    const waits: number[] = [];
    supervisor.on('state', (status) => {
      if (status.state === 'backoff') {
        backoffs.push(status);
        backoffAt = Date.now();
      }
      if (status.state === 'starting' && backoffAt > 0) waits.push(Date.now() - backoffAt);
    });
    supervisor.start();
    await until('five restarts', () => waits.length >= 5, 20_000);
    const delays = backoffs
      .slice(0, 5)
      .map((status) => Date.parse(status.nextRestartAt!) - Date.parse(status.lastExit!.at));
    // 100, 200, 400, 400, 400 (ms, ±rounding of the ISO timestamps)
    expect(delays.map((delay) => Math.round(delay / 100) * 100)).toEqual([100, 200, 400, 400, 400]);
    // And it really waited that long before each start (timers may fire late, never early).
    waits.slice(0, 5).forEach((wait, index) => expect(wait).toBeGreaterThanOrEqual(delays[index]! - 5));
    expect(backoffs[0]!.lastExit).toMatchObject({ code: 3, signal: null });
    expect(supervisor.status().restarts).toBeGreaterThanOrEqual(5);
    expect(
      supervisor.logs().some((line) => line.stream === 'stdout' && /^crash \d+ up$/.test(line.text)),
    ).toBe(true);
    await supervisor.stop();
    expect(supervisor.status()).toMatchObject({ state: 'stopped', pid: null, nextRestartAt: null });
  });

  it('starts the backoff over after a run that lasted resetAfterMs', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-sup-'));
    const supervisor = supervise({
      command: process.execPath,
      args: [fixture('crash-counted.mjs'), path.join(dir, 'runs'), '4', '2600'],
      // Generous: a run counts from spawn, and node's own start-up is slow on a busy machine.
      backoff: { initialMs: 100, maxMs: 10_000, factor: 2, resetAfterMs: 2000 },
    });
    const delays: number[] = [];
    supervisor.on('state', (status) => {
      if (status.state === 'backoff')
        delays.push(Date.parse(status.nextRestartAt!) - Date.parse(status.lastExit!.at));
    });
    supervisor.start();
    await until('five crashes', () => delays.length >= 5, 20_000);
    await supervisor.stop();
    // Runs 1-3 die at once (100, 200, 400 ms); run 4 lasted 2.6 s ≥ 2 s: 100 again, then 200.
    expect(delays.slice(0, 5).map((delay) => Math.round(delay / 100) * 100)).toEqual([
      100, 200, 400, 100, 200,
    ]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stops cleanly: the child gets SIGTERM and exits by itself', async () => {
    const supervisor = supervise({
      command: process.execPath,
      args: [fixture('graceful.mjs')],
      stopTimeoutMs: 5000,
    });
    supervisor.start();
    await until('running', () => supervisor.status().state === 'running');
    await until('the first line', () =>
      supervisor.logs().some((line) => line.stream === 'stdout' && line.text.endsWith(' up')),
    );
    const pid = supervisor.status().pid!;
    const states: string[] = [];
    supervisor.on('state', (status) => states.push(status.state));
    const started = Date.now();
    await supervisor.stop();
    expect(Date.now() - started).toBeLessThan(3000);
    expect(states).toEqual(['stopping', 'stopped']);
    expect(supervisor.status().lastExit).toMatchObject({ code: 0, signal: null });
    expect(supervisor.logs().map((line) => line.text)).toContain('got SIGTERM, shutting down');
    expect(supervisor.logs().some((line) => line.text.includes('SIGKILL'))).toBe(false);
    expect(isAlive(pid)).toBe(false);
    expect(supervisor.status().restarts).toBe(0);
  });

  it('kills a child that ignores SIGTERM after stopTimeoutMs', async () => {
    const supervisor = supervise({
      command: process.execPath,
      args: [fixture('stubborn.mjs')],
      stopTimeoutMs: 700,
    });
    supervisor.start();
    await until('the first line', () => supervisor.logs().some((line) => line.text === 'stubborn up'));
    const pid = supervisor.status().pid!;
    const started = Date.now();
    await supervisor.stop();
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(650);
    expect(took).toBeLessThan(5000);
    expect(supervisor.status().lastExit).toMatchObject({ code: null, signal: 'SIGKILL' });
    expect(supervisor.logs().map((line) => line.text)).toContain('ignoring SIGTERM');
    expect(isAlive(pid)).toBe(false);
    expect(supervisor.status().state).toBe('stopped');
  });

  it('keeps a bounded log ring, splitting lines across chunks and streams', async () => {
    const supervisor = supervise({
      command: process.execPath,
      args: [fixture('chatty.mjs'), '1000'],
      logLines: 300,
    });
    const seen: number[] = [];
    supervisor.on('log', (line) => seen.push(line.seq));
    supervisor.start();
    await until('the stderr line', () => supervisor.logs().some((line) => line.text === 'half of a line'));
    await supervisor.stop();
    const lines = supervisor.logs();
    expect(lines).toHaveLength(300);
    expect(seen.length).toBeGreaterThan(1000);
    const stdout = lines.filter((line) => line.stream === 'stdout').map((line) => line.text);
    expect(stdout.at(-1)).toBe('line 1000');
    // Whole lines only, in order, none torn at a 777-byte chunk boundary.
    for (const text of stdout) expect(text).toMatch(/^line \d+$/);
    const numbers = stdout.map((text) => Number(text.slice(5)));
    expect(numbers).toEqual(numbers.slice().sort((a, b) => a - b));
    expect(lines.map((line) => line.text)).toContain('last without newline');
    // seq is dense and `after` gives what followed.
    const middle = lines[150]!.seq;
    expect(supervisor.logs(middle).map((line) => line.seq)).toEqual(lines.slice(151).map((line) => line.seq));
    expect(supervisor.logs(lines.at(-1)!.seq)).toEqual([]);
  });

  it('is starting until isReady answers true, and running after', async () => {
    const marker = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-sup-')), 'ready');
    const supervisor = supervise({
      command: process.execPath,
      args: [fixture('ready-file.mjs'), marker],
      isReady: async () => fs.existsSync(marker),
      readyPollMs: 50,
    });
    supervisor.start();
    expect(supervisor.status().state).toBe('starting');
    await sleep(150);
    expect(supervisor.status().state).toBe('starting');
    await until('running', () => supervisor.status().state === 'running');
    expect(fs.readFileSync(marker, 'utf8')).toBe(String(supervisor.status().pid));
    await supervisor.restart();
    expect(['starting', 'running']).toContain(supervisor.status().state);
    expect(supervisor.status().restarts).toBe(0);
    fs.rmSync(path.dirname(marker), { recursive: true, force: true });
  });

  it('reports a command that cannot start and keeps retrying with backoff', async () => {
    const supervisor = supervise({
      command: path.join(FIXTURES, 'no-such-program'),
      args: [],
      backoff: { initialMs: 50, maxMs: 100, factor: 2, resetAfterMs: 1000 },
    });
    supervisor.start();
    await until('backoff', () => supervisor.status().state === 'backoff');
    expect(supervisor.logs().some((line) => /cannot start the server: .*ENOENT/.test(line.text))).toBe(true);
    await supervisor.stop();
    expect(supervisor.status().state).toBe('stopped');
  });
});

describe('LogRing and LineSplitter', () => {
  it('drops the oldest lines and cuts runaway ones', () => {
    const ring = new LogRing(3);
    for (let index = 1; index <= 5; index++) ring.push('stdout', `l${index}`);
    expect(ring.after().map((line) => line.text)).toEqual(['l3', 'l4', 'l5']);
    expect(ring.after(1).map((line) => line.seq)).toEqual([3, 4, 5]);
    expect(ring.after(4).map((line) => line.seq)).toEqual([5]);
    expect(ring.push('stderr', 'x'.repeat(10_000)).text.length).toBe(8193);
    expect(() => new LogRing(0)).toThrow(/logLines/);
  });

  it('decodes UTF-8 split across chunks and handles CRLF', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    const bytes = Buffer.from('héllo wörld\r\nsecond');
    splitter.write(bytes.subarray(0, 2));
    splitter.write(bytes.subarray(2, 9));
    splitter.write(bytes.subarray(9));
    expect(lines).toEqual(['héllo wörld']);
    splitter.flush();
    expect(lines).toEqual(['héllo wörld', 'second']);
  });
});
