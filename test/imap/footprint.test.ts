/**
 * What an idle server on the embedded store keeps loaded: not the MongoDB driver. The driver and
 * its bson module cost every process that loads them some 20 MB (bson alone allocates a 17 MB
 * serialisation buffer when loaded), and each worker of `mallard serve` would pay it. A preloaded
 * probe lists, as the process exits, the modules it loaded from node_modules/mongodb or bson.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDataDir } from '../helpers/cli.ts';
import { startServerProcess, type ServerProcess } from '../mongodb/support.ts';

const PROBE = `process.on('exit', () => {
  const loaded = Object.keys(require('node:module')._cache).filter((file) =>
    /[\\\\/]node_modules[\\\\/](mongodb|bson)[\\\\/]/.test(file),
  );
  require('node:fs').writeFileSync(process.env.FOOTPRINT_PROBE_OUT, JSON.stringify(loaded));
});
`;

let server: ServerProcess;
let probeDir: string;

beforeAll(async () => {
  probeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-footprint-'));
  fs.writeFileSync(path.join(probeDir, 'probe.cjs'), PROBE);
  server = await startServerProcess(
    { sqliteDataDir: makeDataDir('mallard-footprint-data-') },
    {
      NODE_OPTIONS: `--require ${path.join(probeDir, 'probe.cjs')}`,
      FOOTPRINT_PROBE_OUT: path.join(probeDir, 'loaded.json'),
    },
  );
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (server) fs.rmSync(server.dataDir, { recursive: true, force: true });
  fs.rmSync(probeDir, { recursive: true, force: true });
}, 30_000);

describe('an idle server on the embedded store', () => {
  it('does not load the MongoDB driver', async () => {
    await server.stop();
    const loaded = JSON.parse(fs.readFileSync(path.join(probeDir, 'loaded.json'), 'utf8')) as string[];
    expect(loaded).toEqual([]);
  });
});
