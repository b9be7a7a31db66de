/**
 * The `mallard` command as a process: a closed output pipe (`mallard message list … | head`) ends
 * it quietly, and it runs the prebuilt bundle only when that is up to date with the sources.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshBundle } from '../bin/bundle.mjs';
import { makeDataDir, MALLARD_BIN, ROOT, runMallard } from './helpers/cli.ts';
import { freshDatabaseUri, startMongoStandIn } from './helpers/mongo.ts';

let dataDir: string;

beforeAll(() => {
  dataDir = makeDataDir();
  expect(runMallard(['domain', 'add', 'example.test'], { dataDir }).status).toBe(0);
  expect(
    runMallard(['user', 'add', 'bob@example.test', '--password', 'long-password'], { dataDir }).status,
  ).toBe(0);
  const message = 'Subject: piped\r\n\r\nhello\r\n';
  for (let i = 0; i < 3; i++)
    expect(runMallard(['deliver', 'bob@example.test'], { dataDir, input: message }).status).toBe(0);
});
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

describe('mallard as a process', () => {
  it('ends quietly with exit 0 when the reader of its output has gone (EPIPE)', async () => {
    const child = spawn(process.execPath, [MALLARD_BIN, 'message', 'list', 'bob@example.test', 'INBOX'], {
      cwd: ROOT,
      env: { ...process.env, MALLARD_CONFIG: '', MALLARD_DATA_DIR: dataDir, MALLARD_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Like `| head -0`: the read end closes before the command has written anything.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const status = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(stderr).toBe('');
    expect(status).toBe(0);
  });

  it.each(['sqlite', 'mongodb'])(
    'ends with an error when `serve` cannot listen (a port in use), on %s, instead of staying up',
    async (engine) => {
      const mongo = engine === 'mongodb' ? await startMongoStandIn() : null;
      const taken = net.createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      const port = (taken.address() as net.AddressInfo).port;
      try {
        const child = spawn(process.execPath, [MALLARD_BIN, 'serve'], {
          cwd: ROOT,
          env: {
            ...process.env,
            MALLARD_CONFIG: '',
            MALLARD_DATA_DIR: dataDir,
            MALLARD_LOG_LEVEL: 'warn',
            MALLARD_SERVER_WORKERS: '1',
            MALLARD_IMAP_ENABLED: 'false',
            MALLARD_POP3_ENABLED: 'false',
            MALLARD_SMTP_ENABLED: 'false',
            // The LMTP listener (smtp-server) is the one that once stayed up after this.
            MALLARD_LMTP_HOST: '127.0.0.1',
            MALLARD_LMTP_PORT: String(port),
            MALLARD_SUBMISSION_ENABLED: 'false',
            MALLARD_WEB_ENABLED: 'false',
            MALLARD_MANAGESIEVE_ENABLED: 'false',
            MALLARD_ADMIN_PORT: '0',
            // The MongoDB driver's connections kept a failed server alive until it exited by itself.
            ...(mongo
              ? { MALLARD_STORE_ENGINE: 'mongodb', MALLARD_STORE_MONGODB_URI: freshDatabaseUri(mongo.uri) }
              : {}),
          },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
        const status = await new Promise<number | null>((resolve) => child.once('exit', resolve));
        expect(stderr).toMatch(/EADDRINUSE|in use/);
        expect(status).not.toBe(0);
      } finally {
        taken.close();
        await mongo?.stop();
      }
    },
    60_000,
  );

  it('runs a bundle that is up to date with the sources (rebuilt when it was not)', () => {
    const result = runMallard(['version'], { dataDir });
    expect(result.status).toBe(0);
    // Whoever ran the command left a bundle that matches every source file it was built from.
    expect(freshBundle('cli')).toMatch(/cli\.mjs$/);
  });
});
