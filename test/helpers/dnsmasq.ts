/**
 * Debian's dnsmasq as the DNS of the sending tests: authoritative for the test zones (`--local`,
 * so a name it does not know is NXDOMAIN, not forwarded anywhere), on a free loopback port,
 * serving the MX, A and TXT records the test gives. Stopped (SIGTERM) by the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';

export interface DnsRecords {
  /** Domains the server answers for (everything under them not listed is NXDOMAIN). */
  zones: string[];
  mx?: Array<{ domain: string; host: string; preference: number }>;
  a?: Array<{ name: string; address: string }>;
  txt?: Array<{ name: string; value: string }>;
  /** RFC 2782 SRV; without `target` the record says the service is not offered (target "."). */
  srv?: Array<{ name: string; target?: string; port?: number; priority?: number; weight?: number }>;
  /** The target must be a name dnsmasq knows (an `a` record). */
  cname?: Array<{ name: string; target: string }>;
}

export interface Dnsmasq {
  /** For `dns.servers`: "127.0.0.1:PORT". */
  server: string;
  port: number;
  stop(): Promise<void>;
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/** TXT strings are at most 255 bytes each (RFC 1035); a longer value (a DKIM key) is split. */
function txtStrings(value: string): string[] {
  const parts: string[] = [];
  for (let offset = 0; offset < value.length; offset += 250) parts.push(value.slice(offset, offset + 250));
  return parts;
}

/** `port`: reuse a port (a restart with new records for a server already pointed at it). */
export async function startDnsmasq(records: DnsRecords, port?: number): Promise<Dnsmasq> {
  // A free UDP port may still be taken over TCP (dnsmasq listens on both) by another test's server:
  // then another port, unless the caller asked for this one.
  for (let attempt = 1; ; attempt++) {
    const chosen = port ?? (await freeUdpPort());
    try {
      return await launchDnsmasq(records, chosen);
    } catch (error) {
      const taken = /Address already in use/.test((error as Error).message);
      if (port !== undefined || !taken || attempt === 5) throw error;
    }
  }
}

async function launchDnsmasq(records: DnsRecords, port: number): Promise<Dnsmasq> {
  const args = [
    '--keep-in-foreground',
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    '--no-poll',
    '--user=root',
    '--pid-file=',
    '--listen-address=127.0.0.1',
    '--bind-interfaces',
    `--port=${port}`,
    '--log-facility=-',
    ...records.zones.map((zone) => `--local=/${zone}/`),
    ...(records.mx ?? []).map((mx) => `--mx-host=${mx.domain},${mx.host},${mx.preference}`),
    ...(records.a ?? []).map((a) => `--host-record=${a.name},${a.address}`),
    ...(records.txt ?? []).map((txt) => `--txt-record=${txt.name},${txtStrings(txt.value).join(',')}`),
    ...(records.srv ?? []).map((srv) =>
      srv.target === undefined
        ? `--srv-host=${srv.name}`
        : `--srv-host=${srv.name},${srv.target},${srv.port ?? 0},${srv.priority ?? 0},${srv.weight ?? 0}`,
    ),
    ...(records.cname ?? []).map((cname) => `--cname=${cname.name},${cname.target}`),
  ];
  const child: ChildProcess = spawn('dnsmasq', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // dnsmasq says "started" once it listens; an early exit is a failure to start.
  await new Promise<void>((resolve, reject) => {
    const onData = () => {
      if (/started, version/.test(stderr)) {
        child.stderr!.off('data', onData);
        resolve();
      }
    };
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`dnsmasq exited with ${code}: ${stderr}`)));
  });
  return {
    server: `127.0.0.1:${port}`,
    port,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
