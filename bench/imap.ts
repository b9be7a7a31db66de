/**
 * The IMAP workloads, each run the same way against any server: APPEND rate, logins per second,
 * SELECT + FETCH of flags, FETCH of whole bodies, SEARCH TEXT, and memory per idle connection. Each
 * returns a figure or throws; bench/run.ts runs them against Mallard and Dovecot and prints both.
 */
import { performance } from 'node:perf_hooks';
import { expectOk, ImapClient, withTimeout, type CommandResult } from './lib/imap-client.ts';
import { NEEDLE } from './lib/messages.ts';
import type { BenchServer } from './lib/servers.ts';

export interface Figure {
  value: number;
  unit: string;
  /** Extra facts for the reader (counts, modes, spreads). */
  detail: string;
  /** Secondary figures kept in the JSON. */
  extra?: Record<string, number | string>;
}

export type WorkloadId =
  'append' | 'logins' | 'selectFetchFlags' | 'fetchBody' | 'search' | 'idleMemory' | 'idlePss';

export interface WorkloadOptions {
  messages: Buffer[];
  /** Use `{n+}` literals and pipelining (when both servers advertise LITERAL+). */
  literalPlus: boolean;
  /** APPEND stops after this long (the rate is still measured); see trimMailbox. */
  appendSeconds: number;
  loginSeconds: number;
  loginClients: number;
  repeats: number;
  idleConnections: number;
  log: (line: string) => void;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits;

async function session(server: BenchServer, timeoutMs = 10_000): Promise<ImapClient> {
  const client = await ImapClient.connect({ port: server.port, timeoutMs });
  try {
    await withTimeout(client.login(server.user, server.password), timeoutMs, 'LOGIN');
  } catch (error) {
    client.destroy();
    throw error;
  }
  return client;
}

/** Runs `body` with a logged-in connection and always closes it. */
async function withSession<T>(server: BenchServer, body: (client: ImapClient) => Promise<T>): Promise<T> {
  const client = await session(server);
  try {
    return await body(client);
  } finally {
    await client.logout();
  }
}

/** Whether the server advertises LITERAL+ once logged in. */
export async function probeLiteralPlus(server: BenchServer): Promise<boolean> {
  return withSession(server, async (client) => {
    await client.refreshCapabilities();
    return client.capabilities.has('LITERAL+');
  });
}

/** 1. APPEND every message to INBOX over one connection, pipelined when literalPlus. */
export async function appendWorkload(server: BenchServer, options: WorkloadOptions): Promise<Figure> {
  const { messages } = options;
  const window = options.literalPlus ? 64 : 1;
  const deadline = performance.now() + options.appendSeconds * 1000;
  return withSession(server, async (client) => {
    const inFlight: Array<Promise<CommandResult>> = [];
    let failures = 0;
    let firstFailure = '';
    let sent = 0;
    let acknowledged = 0;
    const settle = async () => {
      const result = await inFlight.shift()!;
      if (result.status === 'OK') acknowledged++;
      else {
        failures++;
        firstFailure ||= result.tagged.text;
      }
    };
    const started = performance.now();
    for (const message of messages) {
      if (failures > 10 || performance.now() > deadline) break;
      inFlight.push(client.command(['APPEND INBOX ', message], { timeoutMs: 60_000 }));
      sent++;
      if (inFlight.length >= window) await settle();
    }
    while (inFlight.length > 0) await settle();
    const seconds = (performance.now() - started) / 1000;
    if (acknowledged === 0) throw new Error(`no APPEND succeeded: ${firstFailure}`);
    const bytes = messages.slice(0, sent).reduce((sum, message) => sum + message.length, 0);
    const notes = [
      `${acknowledged}/${messages.length} in ${seconds.toFixed(2)} s`,
      `${((bytes / seconds) * 1e-6).toFixed(1)} MB/s`,
      options.literalPlus ? `LITERAL+, ${window} in flight` : 'synchronising literals',
    ];
    if (failures) notes.push(`${failures} failed, first: ${firstFailure}`);
    if (acknowledged < messages.length) notes.push(`stopped after ${options.appendSeconds} s`);
    return {
      value: round(acknowledged / seconds, 0),
      unit: 'msg/s',
      detail: notes.join('; '),
      extra: { appended: acknowledged, failures, seconds: round(seconds, 3) },
    };
  });
}

/** How many messages INBOX holds. */
export async function inboxCount(server: BenchServer): Promise<number> {
  return withSession(server, async (client) =>
    existsOf(expectOk(await client.command('EXAMINE INBOX'), 'EXAMINE')),
  );
}

/**
 * Expunges every message after the first `keep`, so that all servers hold the same messages when
 * one of them could not append them all in the time allowed.
 */
export async function trimMailbox(server: BenchServer, keep: number): Promise<void> {
  await withSession(server, async (client) => {
    const exists = existsOf(expectOk(await client.command('SELECT INBOX'), 'SELECT'));
    if (exists <= keep) return;
    expectOk(
      await client.command(`STORE ${keep + 1}:* +FLAGS.SILENT (\\Deleted)`, { timeoutMs: 120_000 }),
      'STORE',
    );
    expectOk(await client.command('EXPUNGE', { timeoutMs: 120_000, collect: false }), 'EXPUNGE');
  });
}

/** 2. connect + LOGIN + LOGOUT in a loop, from several clients at once, for a few seconds. */
export async function loginWorkload(
  server: BenchServer,
  options: Pick<WorkloadOptions, 'loginSeconds' | 'loginClients'>,
): Promise<Figure> {
  const started = performance.now();
  const stopAt = started + options.loginSeconds * 1000;
  let logins = 0;
  let failures = 0;
  let firstFailure = '';
  const worker = async () => {
    // Bounded by time (stopAt) and, in case the clock misbehaves, by a count.
    for (let attempt = 0; attempt < options.loginSeconds * 10_000 && performance.now() < stopAt; attempt++) {
      try {
        const client = await session(server, 5000);
        await client.logout(5000);
        logins++;
      } catch (error) {
        failures++;
        firstFailure ||= (error as Error).message;
        if (failures > 20) return;
      }
    }
  };
  await Promise.all(Array.from({ length: options.loginClients }, worker));
  const seconds = (performance.now() - started) / 1000;
  if (logins === 0) throw new Error(`no login succeeded: ${firstFailure}`);
  const notes = [`${logins} logins in ${seconds.toFixed(2)} s, ${options.loginClients} clients`];
  if (failures) notes.push(`${failures} failed, first: ${firstFailure}`);
  return {
    value: round(logins / seconds, 0),
    unit: 'logins/s',
    detail: notes.join('; '),
    extra: { logins, failures },
  };
}

function existsOf(result: CommandResult): number {
  for (const response of result.untagged) {
    const match = /^\* (\d+) EXISTS\b/i.exec(response.text);
    if (match) return Number(match[1]);
  }
  return -1;
}

/** 3. SELECT INBOX + FETCH 1:* (UID FLAGS): median wall time. */
export async function selectFetchWorkload(server: BenchServer, options: WorkloadOptions): Promise<Figure> {
  return withSession(server, async (client) => {
    const times: number[] = [];
    let exists = 0;
    let fetched = 0;
    for (let run = 0; run < options.repeats; run++) {
      const started = performance.now();
      const selected = expectOk(await client.command('SELECT INBOX'), 'SELECT');
      exists = existsOf(selected);
      fetched = 0;
      expectOk(
        await client.command('FETCH 1:* (UID FLAGS)', {
          collect: false,
          onUntagged: (response) => {
            if (/^\* \d+ FETCH /i.test(response.text)) fetched++;
          },
        }),
        'FETCH',
      );
      times.push(performance.now() - started);
    }
    return {
      value: round(median(times)),
      unit: 'ms',
      detail: `${exists} messages, ${fetched} FETCH responses; runs ${times.map((t) => t.toFixed(0)).join(', ')} ms`,
      extra: { exists, fetched, min: round(Math.min(...times)), max: round(Math.max(...times)) },
    };
  });
}

/** 4. FETCH 1:* BODY.PEEK[]: MB/s of literal bytes received, median of the runs. */
export async function fetchBodyWorkload(server: BenchServer, options: WorkloadOptions): Promise<Figure> {
  return withSession(server, async (client) => {
    const selected = expectOk(await client.command('SELECT INBOX'), 'SELECT');
    const exists = existsOf(selected);
    const rates: number[] = [];
    let bytes = 0;
    let fetched = 0;
    const runs = Math.max(1, Math.min(options.repeats, 3));
    for (let run = 0; run < runs; run++) {
      fetched = 0;
      const started = performance.now();
      const result = expectOk(
        await client.command('FETCH 1:* BODY.PEEK[]', {
          collect: false,
          keepLiterals: false,
          timeoutMs: 120_000,
          onUntagged: () => fetched++,
        }),
        'FETCH BODY.PEEK[]',
      );
      const seconds = (performance.now() - started) / 1000;
      bytes = result.literalBytes;
      rates.push(bytes / seconds / 1e6);
    }
    return {
      value: round(median(rates)),
      unit: 'MB/s',
      detail: `${exists} messages, ${(bytes / 1e6).toFixed(1)} MB per run; runs ${rates.map((r) => r.toFixed(1)).join(', ')} MB/s`,
      extra: { bytes, fetched },
    };
  });
}

/** 5. SEARCH TEXT "needle": median wall time; the match count goes in `extra.matches`. */
export async function searchWorkload(server: BenchServer, options: WorkloadOptions): Promise<Figure> {
  return withSession(server, async (client) => {
    const selected = expectOk(await client.command('SELECT INBOX'), 'SELECT');
    const exists = existsOf(selected);
    const times: number[] = [];
    let matches = -1;
    for (let run = 0; run < options.repeats; run++) {
      const started = performance.now();
      const result = expectOk(
        await client.command(`SEARCH TEXT "${NEEDLE}"`, { timeoutMs: 120_000 }),
        'SEARCH',
      );
      times.push(performance.now() - started);
      const line = result.untagged.find((response) => /^\* SEARCH\b/i.test(response.text));
      matches = line ? line.text.trim().split(/\s+/).length - 2 : 0;
    }
    return {
      value: round(median(times)),
      unit: 'ms',
      detail: `${matches} matches in ${exists} messages; runs ${times.map((t) => t.toFixed(0)).join(', ')} ms`,
      extra: { matches, exists },
    };
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface IdleConnection {
  client: ImapClient;
  done(): Promise<CommandResult>;
}

async function openIdle(server: BenchServer): Promise<IdleConnection> {
  const client = await session(server, 20_000);
  try {
    expectOk(await client.command('SELECT INBOX', { timeoutMs: 20_000 }), 'SELECT');
    const idle = await client.idle(20_000);
    return { client, done: idle.done };
  } catch (error) {
    client.destroy();
    throw error;
  }
}

async function closeIdle(connection: IdleConnection): Promise<void> {
  try {
    await connection.done();
    await connection.client.logout(5000);
  } catch {
    // the figure is taken already; the socket is destroyed below either way
  } finally {
    connection.client.destroy();
  }
}

/**
 * 6. Memory per connection in IDLE (logged in, INBOX selected): server memory with the connections
 * open minus before, divided by their number. Mallard is restarted first so that garbage left by the
 * earlier workloads does not hide (or inflate) the figure. Returns RSS; PSS goes in `extra`.
 */
export async function idleMemoryWorkload(server: BenchServer, options: WorkloadOptions): Promise<Figure> {
  if (server.restart) await server.restart();
  // Warm up: the first session loads code and caches that every later one shares.
  const warm = await Promise.all(Array.from({ length: 5 }, () => openIdle(server)));
  await Promise.all(warm.map(closeIdle));
  await sleep(1500);
  const before = server.memory();
  const open: IdleConnection[] = [];
  let failures = 0;
  let firstFailure = '';
  const batch = 50;
  try {
    for (let start = 0; start < options.idleConnections && failures <= 20; start += batch) {
      const count = Math.min(batch, options.idleConnections - start);
      const results = await Promise.allSettled(Array.from({ length: count }, () => openIdle(server)));
      for (const result of results) {
        if (result.status === 'fulfilled') open.push(result.value);
        else {
          failures++;
          firstFailure ||= (result.reason as Error).message;
        }
      }
    }
    await sleep(2000);
    const after = server.memory();
    const alive = open.filter((connection) => !connection.client.closed).length;
    if (alive === 0) throw new Error(`no connection reached IDLE: ${firstFailure}`);
    const rss = ((after.rssKiB - before.rssKiB) / alive).toFixed(1);
    const pss = ((after.pssKiB - before.pssKiB) / alive).toFixed(1);
    const notes = [
      `${alive}/${options.idleConnections} in IDLE`,
      `RSS ${(before.rssKiB / 1024).toFixed(1)} → ${(after.rssKiB / 1024).toFixed(1)} MiB`,
      `PSS ${(before.pssKiB / 1024).toFixed(1)} → ${(after.pssKiB / 1024).toFixed(1)} MiB`,
      `${before.processes} → ${after.processes} processes`,
    ];
    if (server.restart) notes.push('fresh process');
    if (failures) notes.push(`${failures} failed, first: ${firstFailure}`);
    return {
      value: Number(rss),
      unit: 'KiB/conn',
      detail: notes.join('; '),
      extra: {
        pssPerConnection: Number(pss),
        connections: alive,
        failures,
        rssBeforeKiB: before.rssKiB,
        rssAfterKiB: after.rssKiB,
        pssBeforeKiB: before.pssKiB,
        pssAfterKiB: after.pssKiB,
        processesBefore: before.processes,
        processesAfter: after.processes,
      },
    };
  } finally {
    for (let start = 0; start < open.length; start += 100) {
      await Promise.all(open.slice(start, start + 100).map(closeIdle));
    }
  }
}
