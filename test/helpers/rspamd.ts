/**
 * Debian's rspamd with a Redis of its own (Bayes statistics), for the spam tests and benchmarks:
 * both on free loopback ports, with a temporary directory for rspamd's configuration, databases
 * and Redis's files. rspamd reads Debian's configuration from /etc/rspamd (so it scores as an
 * installed one does) with these changes: its workers bind the ports chosen here, it asks its
 * DNS questions to `dnsServer` (a test's dnsmasq, or a closed port), modules that only make sense
 * on the internet (RBLs, fuzzy hashes, ASN) or that Mallard does itself (greylisting, rate limits)
 * are off, and GTUBE is recognised (`enable_test_patterns`). Stopped (SIGTERM) by the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports.ts';

export interface Rspamd {
  /** The scanning worker, for spam.rspamd_url. */
  scanUrl: string;
  /** The controller (learning, /stat), for spam.rspamd_controller_url. */
  controllerUrl: string;
  /** With `milter`: the proxy worker speaking the milter protocol, for Postfix's smtpd_milters. */
  milter: string | null;
  /** Messages rspamd's controller says it learned. */
  learned(): Promise<number>;
  /** rspamd's main process and Redis (benchmarks add their workers' memory from /proc). */
  pids(): number[];
  stop(): Promise<void>;
}

/** Runs `command` until a line of its output matches `ready`; rejects when it exits first. */
async function startUntil(command: string, args: string[], ready: RegExp[]): Promise<ChildProcess> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.every((pattern) => pattern.test(output))) {
        child.stdout!.off('data', onData);
        child.stderr!.off('data', onData);
        // Keep draining, so a full pipe never blocks the child.
        child.stdout!.resume();
        child.stderr!.resume();
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${command} exited with ${code}: ${output.slice(-2000)}`)));
  });
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

/**
 * rspamd's proxy worker as a milter (Postfix's smtpd_milters), as Debian's worker-proxy.inc sets it
 * up but scanning with the normal worker on `scanPort` (Debian's points at localhost:11333).
 */
function milterWorker(port: number, scanPort: number): string {
  return `
worker "rspamd_proxy" {
    bind_socket = "127.0.0.1:${port}";
    milter = yes;
    timeout = 120s;
    upstream "local" { default = yes; hosts = "127.0.0.1:${scanPort}"; }
    count = 1;
    max_retries = 5;
    discard_on_reject = false;
    quarantine_on_reject = false;
    spam_header = "X-Spam";
}
`;
}

function rspamdConf(scanPort: number, controllerPort: number): string {
  return `
.include "$CONFDIR/common.conf"
options {
    pidfile = "$RUNDIR/rspamd.pid";
    .include "$CONFDIR/options.inc"
    .include(try=true; priority=1,duplicate=merge) "$LOCAL_CONFDIR/local.d/options.inc"
    enable_test_patterns = true;
}
logging {
    type = "console";
    level = "info";
}
worker "normal" {
    bind_socket = "127.0.0.1:${scanPort}";
    .include "$CONFDIR/worker-normal.inc"
    count = 1;
}
worker "controller" {
    bind_socket = "127.0.0.1:${controllerPort}";
    .include "$CONFDIR/worker-controller.inc"
    count = 1;
}
`;
}

const OFF_MODULES = ['rbl', 'surbl', 'fuzzy_check', 'greylist', 'ratelimit', 'asn', 'rspamd_update', 'dcc'];

export async function startRspamd(options: { dnsServer?: string; milter?: boolean } = {}): Promise<Rspamd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-rspamd-'));
  const localD = path.join(dir, 'local.d');
  fs.mkdirSync(localD);
  const [redisPort, scanPort, controllerPort] = [await freePort(), await freePort(), await freePort()];
  const milterPort = options.milter ? await freePort() : 0;
  const redis = await startUntil(
    'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    [/Ready to accept connections/],
  );
  let rspamd: ChildProcess | null = null;
  try {
    fs.writeFileSync(
      path.join(dir, 'rspamd.conf'),
      rspamdConf(scanPort, controllerPort) + (milterPort ? milterWorker(milterPort, scanPort) : ''),
    );
    fs.writeFileSync(path.join(localD, 'redis.conf'), `servers = "127.0.0.1:${redisPort}";\n`);
    const nameserver = options.dnsServer ?? '127.0.0.1:9';
    fs.writeFileSync(
      path.join(localD, 'options.inc'),
      `dns { nameserver = ["${nameserver}"]; timeout = 0.3s; retransmits = 1; }\n`,
    );
    for (const module of OFF_MODULES)
      fs.writeFileSync(path.join(localD, `${module}.conf`), 'enabled = false;\n');
    const vars = ['LOCAL_CONFDIR', 'DBDIR', 'RUNDIR', 'LOGDIR'].map((name) => `--var=${name}=${dir}`);
    // The listening sockets are bound before the workers fork: once both have started, they answer.
    rspamd = await startUntil(
      'rspamd',
      ['-f', '-i', ...asRoot(), '-c', path.join(dir, 'rspamd.conf'), ...vars],
      [
        /starting normal process/,
        /starting controller process/,
        ...(milterPort ? [/starting rspamd_proxy process/] : []),
      ],
    );
  } catch (error) {
    await stopChild(redis);
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const controllerUrl = `http://127.0.0.1:${controllerPort}`;
  const running = rspamd;
  return {
    scanUrl: `http://127.0.0.1:${scanPort}`,
    controllerUrl,
    milter: milterPort ? `inet:127.0.0.1:${milterPort}` : null,
    async learned() {
      const response = await fetch(`${controllerUrl}/stat`);
      return ((await response.json()) as { learned: number }).learned;
    },
    pids: () => [running.pid ?? 0, redis.pid ?? 0].filter((pid) => pid > 0),
    async stop() {
      await stopChild(running);
      await stopChild(redis);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** rspamd started by root drops to a user; in a test it stays root (-i lets it). */
function asRoot(): string[] {
  return process.getuid?.() === 0 ? ['-u', 'root', '-g', 'root'] : [];
}
