/**
 * The panel's defence against DNS rebinding: when it listens on loopback, a request must name it by
 * a loopback address or name in its Host header. A page on evil.example whose name is re-pointed
 * at 127.0.0.1 reaches the panel's socket, but its requests still say `Host: evil.example`.
 *
 * The check parses the header and compares ADDRESSES, not text prefixes: `127.0.0.1.nip.io` starts
 * like a loopback address but is a name anyone can point anywhere (it is the classic rebinding
 * name), so only real IP literals in 127.0.0.0/8, `::1` (or IPv4-mapped 127.x), `localhost` and the
 * names the panel was configured to listen on pass.
 */
import net from 'node:net';

const LOOPBACK_V4 = new net.BlockList();
LOOPBACK_V4.addSubnet('127.0.0.0', 8, 'ipv4');

/**
 * The host part of a Host header value: `[::1]:8026` → `::1`, `name:8026` → `name`. A value that is
 * not of that shape (`[::1].evil.example`) comes back whole, and so matches no loopback host.
 */
export function hostOfHeader(header: string): string {
  const value = header.trim();
  if (value.startsWith('[')) return /^\[([^\]]*)\](?::\d*)?$/.exec(value)?.[1] ?? value;
  return value.replace(/:\d*$/, '');
}

/** Whether `address` (an IP literal, no brackets) is a loopback address. */
export function isLoopbackAddress(address: string): boolean {
  if (net.isIPv4(address)) return LOOPBACK_V4.check(address, 'ipv4');
  if (!net.isIPv6(address)) return false;
  // The canonical spelling: 0:0:0:0:0:0:0:1 is ::1, 0::ffff:7f00:1 is ::ffff:127.0.0.1.
  const canonical = new net.SocketAddress({ address: address.toLowerCase(), family: 'ipv6' }).address;
  if (canonical === '::1') return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(canonical);
  return mapped ? isLoopbackAddress(mapped[1]!) : false;
}

/**
 * Whether a host (from the Host header, or the address the panel listens on) names this machine's
 * loopback: an IP literal in 127.0.0.0/8 or ::1, `localhost`, or one of `configuredNames`.
 */
export function isLoopbackHost(host: string, configuredNames: readonly string[] = []): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const name = bare.toLowerCase().replace(/\.$/, '');
  if (net.isIP(name) !== 0) return isLoopbackAddress(name);
  if (name === 'localhost') return true;
  return configuredNames.some((configured) => configured.toLowerCase().replace(/\.$/, '') === name);
}
