/**
 * Runs Debian's Dovecot on a free loopback port with a throw-away maildir, for the oracle tests and
 * the benchmarks (Dovecot is the reference every figure is quoted beside). Mail is owned by
 * `nobody`, since Dovecot refuses to run mail processes as root.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports.ts';

const NOBODY = 65534;

export interface DovecotServer {
  port: number;
  dir: string;
  /** The master process; every other Dovecot process of this instance is its child. */
  pid: number;
  stop(): Promise<void>;
}

export function dovecotAvailable(): boolean {
  return spawnSync('dovecot', ['--version']).status === 0;
}

function configText(dir: string, port: number, extraConfig: string): string {
  return `protocols = imap
listen = 127.0.0.1
base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = mallard-${port}
log_path = ${dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:${dir}/mail/%u
mail_uid = ${NOBODY}
mail_gid = ${NOBODY}
first_valid_uid = ${NOBODY}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/users
}
userdb {
  driver = static
  args = uid=${NOBODY} gid=${NOBODY} home=${dir}/mail/%u
}
service imap-login {
  inet_listener imap {
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
  process_min_avail = 1
}
${extraConfig}
`;
}

function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = net.connect({ port, host: '127.0.0.1' }, () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`dovecot did not listen on ${port}`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

/**
 * `extraConfig` is appended to the generated dovecot.conf (later settings win, and sections of the
 * same name merge), e.g. the raised connection limits of the benchmarks.
 */
export async function startDovecot(users: Array<[string, string]>, extraConfig = ''): Promise<DovecotServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-dovecot-'));
  fs.chmodSync(dir, 0o755);
  for (const sub of ['run', 'state', 'mail']) fs.mkdirSync(path.join(dir, sub), { mode: 0o755 });
  fs.chownSync(path.join(dir, 'mail'), NOBODY, NOBODY);
  fs.writeFileSync(path.join(dir, 'users'), users.map(([user, pass]) => `${user}:{PLAIN}${pass}\n`).join(''));
  const port = await freePort();
  fs.writeFileSync(path.join(dir, 'dovecot.conf'), configText(dir, port, extraConfig));
  const child: ChildProcess = spawn('dovecot', ['-F', '-c', path.join(dir, 'dovecot.conf')], {
    stdio: 'ignore',
  });
  await waitForPort(port, 10_000);
  return {
    port,
    dir,
    pid: child.pid ?? 0,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
