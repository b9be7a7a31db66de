/**
 * Thunderbird under test: Debian's /usr/bin/thunderbird, headless, on a fresh profile (user.js
 * prefs, a cert9.db that trusts the test's CA, made with certutil), driven through its Marionette
 * remote protocol in the chrome context, so a test runs Thunderbird's own account-setup modules
 * and IMAP code, as the account wizard does after the user typed an address and a password.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './ports.ts';

export const THUNDERBIRD = '/usr/bin/thunderbird';
const CERTUTIL = '/usr/bin/certutil';

/** Why Thunderbird cannot be run here, or null when it can (CI installs it: .ci/run). */
export function thunderbirdMissing(): string | null {
  if (!fs.existsSync(THUNDERBIRD)) return 'thunderbird is not installed (apt-get install thunderbird)';
  if (!fs.existsSync(CERTUTIL)) return 'certutil is not installed (apt-get install libnss3-tools)';
  return null;
}

export interface RunningThunderbird {
  /** Runs `script` (an async function's body; `arguments` holds `args`) in Thunderbird's chrome context. */
  run<T>(script: string, ...args: unknown[]): Promise<T>;
  /** Everything Thunderbird printed. */
  output(): string;
  stop(): Promise<void>;
}

export interface StartThunderbirdOptions {
  /** user.js preferences. */
  prefs?: Record<string, string | number | boolean>;
  /** A CA certificate (PEM) the profile trusts for TLS servers. */
  caPem?: string;
  timeoutMs?: number;
}

/** Quiet defaults: no first-run pages, no update or telemetry traffic, no default-client prompt. */
const BASE_PREFS: Record<string, string | number | boolean> = {
  'mail.shell.checkDefaultClient': false,
  'mail.provider.suppress_dialog_on_startup': true,
  'mailnews.start_page.enabled': false,
  'app.update.enabled': false,
  'app.update.auto': false,
  'extensions.update.enabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.enabled': false,
  'mail.biff.play_sound': false,
  // dump() from a script reaches Thunderbird's output, which a failing test shows.
  'browser.dom.window.dump.enabled': true,
};

export async function startThunderbird(options: StartThunderbirdOptions = {}): Promise<RunningThunderbird> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-thunderbird-'));
  const port = await freePort();
  const prefs = { ...BASE_PREFS, ...options.prefs, 'marionette.port': port };
  fs.writeFileSync(
    path.join(profile, 'user.js'),
    Object.entries(prefs)
      .map(([name, value]) => `user_pref(${JSON.stringify(name)}, ${JSON.stringify(value)});\n`)
      .join(''),
  );
  if (options.caPem) trustCa(profile, options.caPem);

  let output = '';
  const child = spawn(
    THUNDERBIRD,
    ['--marionette', '-remote-allow-system-access', '--no-remote', '-profile', profile],
    { env: { ...process.env, MOZ_HEADLESS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const stop = async () => {
    await stopChild(child);
    fs.rmSync(profile, { recursive: true, force: true });
  };
  try {
    const client = await MarionetteClient.connect(port, child, Date.now() + (options.timeoutMs ?? 60_000));
    await client.send('WebDriver:NewSession', { capabilities: {} });
    await client.send('Marionette:SetContext', { value: 'chrome' });
    // Scripts that wait for the network (account set-up, a folder update) need longer than 30 s.
    await client.send('WebDriver:SetTimeouts', { script: 120_000 });
    return {
      run: async <T>(script: string, ...args: unknown[]) => {
        // An async function, so the script may await; Marionette waits for the promise it returns.
        const wrapped = `return (async function () {\n${script}\n}).apply(this, arguments);`;
        const answer = await client.send('WebDriver:ExecuteScript', { script: wrapped, args });
        return (answer as { value: T }).value;
      },
      output: () => output,
      stop: async () => {
        client.close();
        await stop();
      },
    };
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\nThunderbird printed:\n${output.slice(-4000)}`);
  }
}

/** A new NSS database in the profile with `caPem` trusted to identify TLS servers. */
function trustCa(profile: string, caPem: string): void {
  const caFile = path.join(profile, 'test-ca.pem');
  fs.writeFileSync(caFile, caPem);
  for (const args of [
    ['-N', '-d', `sql:${profile}`, '--empty-password'],
    ['-A', '-d', `sql:${profile}`, '-n', 'Mallard test CA', '-t', 'C,,', '-i', caFile],
  ]) {
    const result = spawnSync(CERTUTIL, args, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`certutil ${args[0]} failed: ${result.stderr}`);
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(killer);
}

/**
 * The Marionette wire protocol: `length:json` frames; commands are [0, id, name, params],
 * answers [1, id, error, result]. The server first sends a hello object.
 */
class MarionetteClient {
  private buffer = Buffer.alloc(0);
  private nextId = 0;
  private readonly pending = new Map<number, (message: unknown[]) => void>();

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.drain();
    });
  }

  static async connect(port: number, child: ChildProcess, deadline: number): Promise<MarionetteClient> {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`thunderbird exited with code ${child.exitCode}`);
      const socket = await new Promise<net.Socket | null>((resolve) => {
        const attempt = net.connect(port, '127.0.0.1', () => resolve(attempt));
        attempt.on('error', () => resolve(null));
      });
      if (socket) {
        const client = new MarionetteClient(socket);
        await client.hello();
        return client;
      }
      if (Date.now() > deadline) throw new Error('timed out waiting for Thunderbird’s Marionette port');
      await sleep(200);
    }
  }

  private hello(): Promise<void> {
    return new Promise((resolve) => this.pending.set(-1, () => resolve()));
  }

  private drain(): void {
    for (;;) {
      const colon = this.buffer.indexOf(':');
      if (colon < 0) return;
      // The length counts bytes of UTF-8.
      const length = Number(this.buffer.subarray(0, colon).toString('ascii'));
      if (this.buffer.length < colon + 1 + length) return;
      const frame = this.buffer.subarray(colon + 1, colon + 1 + length).toString('utf8');
      this.buffer = this.buffer.subarray(colon + 1 + length);
      const message = JSON.parse(frame) as unknown;
      const id = Array.isArray(message) ? (message[1] as number) : -1;
      const resolve = this.pending.get(id);
      this.pending.delete(id);
      resolve?.(Array.isArray(message) ? message : []);
    }
  }

  send(command: string, params: unknown): Promise<unknown> {
    const id = ++this.nextId;
    const frame = JSON.stringify([0, id, command, params]);
    return new Promise((resolve, reject) => {
      this.pending.set(id, ([, , error, result]) => {
        if (error) {
          const { error: code, message } = error as { error: string; message: string };
          reject(new Error(`${command}: ${code}: ${message}`));
        } else resolve(result);
      });
      this.socket.write(`${Buffer.byteLength(frame)}:${frame}`);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
