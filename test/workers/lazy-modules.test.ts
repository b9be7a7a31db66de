/**
 * What a worker that only holds IMAP sessions keeps loaded (issue 20): not the admin side (ACME,
 * the admin API, backup, import), which worker 1 runs for the whole server, nor the checks of
 * port 25 (mailauth and its joi), which load with the first message. Each of them costs every
 * process that loads it megabytes, and with thousands of idle sessions the workers are what counts.
 *
 * A preloaded probe writes, as each process exits, the files it loaded from node_modules (Node's
 * module cache: the sources run, so the packages load from node_modules as CommonJS). Worker 1
 * loading ws for the admin API shows that the probe sees what it should; acme-client loads in
 * none of them, but with the first certificate request. (Sender authentication is on by
 * default; SMTP-in is off here, but the checks are built in every worker all the same.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from './cluster.ts';

const PROBE = `process.on('exit', () => {
  const loaded = Object.keys(require('node:module')._cache)
    .filter((file) => /[\\\\/]node_modules[\\\\/]/.test(file))
    .map((file) => file.split(/[\\\\/]node_modules[\\\\/]/).pop());
  const name = process.env.MALLARD_WORKER_SLOT ? 'worker-' + process.env.MALLARD_WORKER_SLOT : 'supervisor';
  require('node:fs').writeFileSync(require('node:path').join(process.env.LAZY_PROBE_DIR, name + '.json'), JSON.stringify(loaded));
});
`;

/** Packages only the admin side (ws: the admin API's event stream) or a received message needs. */
const LAZY = ['acme-client', 'ws', 'mailauth', 'joi'];

const PASSWORD = 'correct horse';
const USER = 'idler@example.test';

let cluster: Cluster;
let probeDir: string;

/** The packages (first path segment, or two for a scope) a process loaded. */
function packagesOf(name: string): Set<string> {
  const files = JSON.parse(fs.readFileSync(path.join(probeDir, `${name}.json`), 'utf8')) as string[];
  return new Set(
    files.map((file) => {
      const parts = file.split(/[\\/]/);
      return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
    }),
  );
}

beforeAll(async () => {
  probeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-lazy-'));
  fs.writeFileSync(path.join(probeDir, 'probe.cjs'), PROBE);
  cluster = await Cluster.start({
    workers: 2,
    accounts: { [USER]: PASSWORD },
    env: {
      // The sources: in a bundle the packages are inside its chunks, not in Node's module cache.
      MALLARD_BUNDLE: '0',
      NODE_OPTIONS: `--require ${path.join(probeDir, 'probe.cjs')}`,
      LAZY_PROBE_DIR: probeDir,
    },
  });
}, 120_000);

afterAll(async () => {
  await cluster?.dispose();
  if (probeDir) fs.rmSync(probeDir, { recursive: true, force: true });
}, 60_000);

describe('a worker of mallard serve holding IDLE sessions', () => {
  it('has not loaded the admin side nor the checks of received mail; worker 1 has the admin API', async () => {
    const { first, second, workers } = await cluster.twoSessions(USER, PASSWORD);
    expect(new Set(workers)).toEqual(new Set([1, 2]));
    for (const client of [first, second]) {
      await client.ok('SELECT INBOX');
      client.write('i1 IDLE\r\n');
      expect((await client.readResponse()).text).toMatch(/^\+ /);
    }
    expect(await cluster.stop()).toBe(0);
    const idle = packagesOf('worker-2');
    const lead = packagesOf('worker-1');
    expect(LAZY.filter((name) => idle.has(name))).toEqual([]);
    expect(lead.has('ws')).toBe(true);
    expect(lead.has('acme-client')).toBe(false);
    // Both serve IMAP from the same store: the driver is there in each (the probe reads both).
    expect(idle.has('better-sqlite3')).toBe(true);
  });
});
