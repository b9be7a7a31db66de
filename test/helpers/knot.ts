/**
 * Debian's Knot DNS (knotd) on loopback as the operator's DNS server for ACME tests: authoritative
 * for one test zone (A records of the test names → 127.0.0.1), taking RFC 2136 dynamic updates
 * signed with one TSIG key (HMAC-SHA256). Pebble's validator asks it too (`-dnsserver`).
 * Stopped (SIGTERM) by the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import { promises as dns } from 'node:dns';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports.ts';

export interface Knot {
  /** "127.0.0.1:PORT" for acme.dns.server and pebble's -dnsserver. */
  server: string;
  zone: string;
  tsigName: string;
  tsigSecret: string;
  /** The TXT values at `name` now, asked of the server itself. */
  txt(name: string): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startKnot(zone: string, names: string[]): Promise<Knot> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-knot-'));
  const port = await freePort();
  const tsigName = 'mallard-acme';
  const tsigSecret = crypto.randomBytes(32).toString('base64');
  const zoneFile = path.join(dir, `${zone}.zone`);
  fs.writeFileSync(
    zoneFile,
    [
      `$ORIGIN ${zone}.`,
      '$TTL 60',
      `@ SOA ns.${zone}. hostmaster.${zone}. 1 3600 600 86400 60`,
      `@ NS ns.${zone}.`,
      'ns A 127.0.0.1',
      ...names.map((name) => `${name}. A 127.0.0.1`),
      '',
    ].join('\n'),
  );
  const configFile = path.join(dir, 'knot.conf');
  fs.writeFileSync(
    configFile,
    [
      'server:',
      `    rundir: "${dir}"`,
      `    listen: 127.0.0.1@${port}`,
      'control:',
      `    listen: "${path.join(dir, 'knot.sock')}"`,
      'log:',
      '  - target: stderr',
      '    any: info',
      'database:',
      `    storage: "${dir}"`,
      'key:',
      `  - id: ${tsigName}`,
      '    algorithm: hmac-sha256',
      `    secret: ${tsigSecret}`,
      'acl:',
      '  - id: acme-update',
      `    key: ${tsigName}`,
      '    action: update',
      'zone:',
      `  - domain: ${zone}`,
      `    storage: "${dir}"`,
      `    file: "${zone}.zone"`,
      '    acl: acme-update',
      '    zonefile-sync: -1',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('/usr/sbin/knotd', ['-c', configFile], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const server = `127.0.0.1:${port}`;
  const resolver = new dns.Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([server]);
  const txt = async (name: string): Promise<string[]> =>
    (await resolver.resolveTxt(name).catch(() => [] as string[][])).map((parts) => parts.join(''));
  // Ready when the server has started and loaded the zone (both are logged at info).
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`knotd did not start:\n${output}`)), 15_000);
    child.stderr!.on('data', () => {
      if (/server started/.test(output) && /\] loaded/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`knotd exited (${code}):\n${output}`));
    });
  });
  return {
    server,
    zone,
    tsigName,
    tsigSecret,
    txt,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
