/**
 * The canary of `npm run bench -- canary`, run as its own process so that the hostile session and
 * the benchmark's bookkeeping do not share its event loop: one logged-in session sends NOOP in a
 * loop, and every `--login-every` NOOPs a fresh connection does connect + LOGIN + LOGOUT. Each
 * operation's latency is recorded; at the end one JSON line goes to stdout:
 *   {"noop": [ms...], "login": [ms...], "at": [[start epoch ms, ms]...], "errors": [...]}
 * (`at`: every operation with its wall-clock start, to tell which hostile command it waited for).
 *
 *   node bin/run-ts.mjs bench/canary-client.ts --port P --user U --password W --seconds S
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ImapClient, withTimeout } from './lib/imap-client.ts';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    user: { type: 'string' },
    password: { type: 'string' },
    seconds: { type: 'string', default: '20' },
    'login-every': { type: 'string', default: '10' },
    /** Pause between operations, so the canary samples the server rather than loading it. */
    'pause-ms': { type: 'string', default: '5' },
  },
});

const PORT = Number(args.port);
const USER = args.user ?? '';
const PASSWORD = args.password ?? '';
const SECONDS = Number(args.seconds);
const LOGIN_EVERY = Number(args['login-every']);
const PAUSE_MS = Number(args['pause-ms']);
/** An operation slower than this counts as failed (and is recorded at this latency). */
const OPERATION_TIMEOUT_MS = 30_000;

const noop: number[] = [];
const login: number[] = [];
const errors: string[] = [];
const at: Array<[number, number]> = [];

async function timed<T>(samples: number[], what: string, body: () => Promise<T>): Promise<T | null> {
  const started = performance.now();
  const wallClock = Date.now();
  const record = () => {
    const ms = performance.now() - started;
    samples.push(ms);
    at.push([wallClock, Math.round(ms * 10) / 10]);
  };
  try {
    const result = await withTimeout(body(), OPERATION_TIMEOUT_MS, what);
    record();
    return result;
  } catch (error) {
    record();
    if (errors.length < 20) errors.push(`${what}: ${(error as Error).message}`);
    return null;
  }
}

async function freshLogin(): Promise<ImapClient> {
  const client = await ImapClient.connect({ port: PORT, timeoutMs: OPERATION_TIMEOUT_MS });
  try {
    await client.login(USER, PASSWORD);
  } catch (error) {
    client.destroy();
    throw error;
  }
  return client;
}

async function main(): Promise<void> {
  let session = await freshLogin();
  const stopAt = performance.now() + SECONDS * 1000;
  for (let round = 0; performance.now() < stopAt && round < 10_000_000; round++) {
    if (round % LOGIN_EVERY === 0) {
      const client = await timed(login, 'connect + LOGIN', freshLogin);
      if (client) void client.logout(5000);
    } else {
      const ok = await timed(noop, 'NOOP', () =>
        session.command('NOOP', { timeoutMs: OPERATION_TIMEOUT_MS }),
      );
      if (!ok || session.closed) {
        session.destroy();
        session = (await timed(login, 'reconnect', freshLogin)) ?? session;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
  }
  await session.logout(5000);
  process.stdout.write(`${JSON.stringify({ noop, login, at, errors })}\n`);
}

main().catch((error: unknown) => {
  process.stdout.write(`${JSON.stringify({ noop, login, at, errors: [...errors, String(error)] })}\n`);
  process.exitCode = 1;
});
