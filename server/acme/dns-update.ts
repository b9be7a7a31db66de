/**
 * RFC 2136 dynamic updates signed with TSIG (RFC 8945, HMAC-SHA256): how DNS-01 puts its TXT record
 * into the operator's zone. Any home or office DNS server that takes updates speaks this (BIND's
 * `allow-update { key … }`, Knot's ACL with `action: update`, PowerDNS, Technitium).
 *
 * Written here rather than taken from npm: `dns-packet` (the maintained encoder) has no UPDATE
 * prerequisite/class-NONE semantics and no TSIG signing; the message is small and fixed in shape.
 * Sent over TCP (RFC 7766): no truncation or retransmission to handle.
 *
 * A successful reply must carry the server's TSIG over it and the request's MAC (RFC 8945 5.3);
 * a refusal is reported with its rcode and TSIG error.
 */
import crypto from 'node:crypto';
import net from 'node:net';

export interface TsigKey {
  name: string;
  /** The shared secret, base64. */
  secret: string;
}

export interface UpdateTarget {
  /** "IP" or "IP:PORT" ("[v6]:PORT"); port 53 when none. */
  server: string;
  zone: string;
  key: TsigKey;
  timeoutMs?: number;
}

export type TxtChange = { action: 'add' | 'delete'; name: string; value: string; ttl?: number };

const TYPE_SOA = 6;
const TYPE_TXT = 16;
const TYPE_TSIG = 250;
const CLASS_IN = 1;
const CLASS_NONE = 254;
const CLASS_ANY = 255;
const OPCODE_UPDATE = 5;
const FUDGE_SECONDS = 300;
const ALGORITHM = 'hmac-sha256';

const RCODES: Record<number, string> = {
  1: 'FORMERR (the server could not read the update)',
  2: 'SERVFAIL (the server failed)',
  3: 'NXDOMAIN',
  4: 'NOTIMP (the server does not take dynamic updates)',
  5: 'REFUSED (the key may not update this zone: check the server’s update policy/ACL)',
  9: 'NOTAUTH (the key was not accepted, or the server is not authoritative for the zone)',
  10: 'NOTZONE (the name is not inside the zone)',
};
const TSIG_ERRORS: Record<number, string> = {
  16: 'BADSIG (wrong TSIG secret)',
  17: 'BADKEY (the server does not know this key name or algorithm)',
  18: 'BADTIME (the clocks differ by more than five minutes)',
};

/** A domain name in wire form, lower-case (TSIG's canonical form), uncompressed. */
export function encodeName(name: string): Buffer {
  const labels = name.replace(/\.$/, '').toLowerCase().split('.').filter(Boolean);
  const parts: Buffer[] = [];
  for (const label of labels) {
    const bytes = Buffer.from(label, 'ascii');
    if (bytes.length > 63) throw new Error(`DNS label too long in ${name}`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

function u16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeUInt16BE(value);
  return buffer;
}

function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value);
  return buffer;
}

function u48(value: number): Buffer {
  const buffer = Buffer.alloc(6);
  buffer.writeUIntBE(value, 0, 6);
  return buffer;
}

/** TXT RDATA: the value as character-strings of at most 255 bytes. */
function txtRdata(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const parts: Buffer[] = [];
  for (let offset = 0; offset < bytes.length || offset === 0; offset += 255) {
    const chunk = bytes.subarray(offset, offset + 255);
    parts.push(Buffer.from([chunk.length]), chunk);
    if (bytes.length === 0) break;
  }
  return Buffer.concat(parts);
}

function record(name: string, type: number, klass: number, ttl: number, rdata: Buffer): Buffer {
  return Buffer.concat([encodeName(name), u16(type), u16(klass), u32(ttl), u16(rdata.length), rdata]);
}

/** The UPDATE message, unsigned (ADCOUNT 0). */
export function updateMessage(id: number, zone: string, changes: TxtChange[]): Buffer {
  const header = Buffer.concat([
    u16(id),
    u16(OPCODE_UPDATE << 11),
    u16(1),
    u16(0),
    u16(changes.length),
    u16(0),
  ]);
  const zoneSection = Buffer.concat([encodeName(zone), u16(TYPE_SOA), u16(CLASS_IN)]);
  const updates = changes.map((change) =>
    change.action === 'add'
      ? record(change.name, TYPE_TXT, CLASS_IN, change.ttl ?? 60, txtRdata(change.value))
      : // RFC 2136 2.5.4: delete this one RR (class NONE, TTL 0), leaving any other TXT records.
        record(change.name, TYPE_TXT, CLASS_NONE, 0, txtRdata(change.value)),
  );
  return Buffer.concat([header, zoneSection, ...updates]);
}

/** The TSIG variables (RFC 8945 4.3.3) that follow the message in the MAC's input. */
function tsigVariables(
  key: TsigKey,
  timeSigned: number,
  fudge: number,
  error: number,
  other: Buffer,
): Buffer {
  return Buffer.concat([
    encodeName(key.name),
    u16(CLASS_ANY),
    u32(0),
    encodeName(ALGORITHM),
    u48(timeSigned),
    u16(fudge),
    u16(error),
    u16(other.length),
    other,
  ]);
}

function secretOf(key: TsigKey): Buffer {
  const secret = Buffer.from(key.secret, 'base64');
  if (secret.length === 0) throw new Error('the TSIG secret is empty');
  return secret;
}

/** Appends a TSIG record (RFC 8945 4.3) to `message` and counts it in ADCOUNT. */
export function signMessage(message: Buffer, key: TsigKey, now = Date.now()): Buffer {
  return signed(message, key, now).message;
}

function signed(message: Buffer, key: TsigKey, now: number): { message: Buffer; mac: Buffer } {
  const timeSigned = Math.floor(now / 1000);
  const mac = crypto
    .createHmac('sha256', secretOf(key))
    .update(message)
    .update(tsigVariables(key, timeSigned, FUDGE_SECONDS, 0, Buffer.alloc(0)))
    .digest();
  const rdata = Buffer.concat([
    encodeName(ALGORITHM),
    u48(timeSigned),
    u16(FUDGE_SECONDS),
    u16(mac.length),
    mac,
    message.subarray(0, 2), // original ID
    u16(0), // error
    u16(0), // other length
  ]);
  const result = Buffer.concat([message, record(key.name, TYPE_TSIG, CLASS_ANY, 0, rdata)]);
  result.writeUInt16BE(message.readUInt16BE(10) + 1, 10);
  return { message: result, mac };
}

/** Skips a (possibly compressed) name; returns the offset after it. */
function skipName(message: Buffer, offset: number): number {
  for (;;) {
    const length = message[offset];
    if (length === undefined) throw new Error('truncated DNS reply');
    if (length === 0) return offset + 1;
    if ((length & 0xc0) === 0xc0) return offset + 2;
    offset += length + 1;
  }
}

interface ReplyTsig {
  /** Where the TSIG record starts: the reply before it is what was signed. */
  start: number;
  timeSigned: number;
  fudge: number;
  mac: Buffer;
  originalId: number;
  error: number;
  other: Buffer;
}

/** A reply's TSIG record (the last additional record), or null when it has none. */
function replyTsig(reply: Buffer): ReplyTsig | null {
  const counts = [4, 6, 8, 10].map((at) => reply.readUInt16BE(at));
  let offset = 12;
  for (let index = 0; index < counts[0]!; index++) offset = skipName(reply, offset) + 4;
  const records = counts[1]! + counts[2]! + counts[3]!;
  for (let index = 0; index < records; index++) {
    const start = offset;
    offset = skipName(reply, offset);
    const type = reply.readUInt16BE(offset);
    const length = reply.readUInt16BE(offset + 8);
    const rdata = offset + 10;
    if (type === TYPE_TSIG) {
      const at = skipName(reply, rdata);
      const macLength = reply.readUInt16BE(at + 8);
      const after = at + 10 + macLength;
      const otherLength = reply.readUInt16BE(after + 4);
      return {
        start,
        timeSigned: reply.readUIntBE(at, 6),
        fudge: reply.readUInt16BE(at + 6),
        mac: reply.subarray(at + 10, after),
        originalId: reply.readUInt16BE(after),
        error: reply.readUInt16BE(after + 2),
        other: reply.subarray(after + 6, after + 6 + otherLength),
      };
    }
    offset = rdata + length;
  }
  return null;
}

/**
 * Whether a reply carries a valid TSIG of the same key over the request's MAC and the reply
 * (RFC 8945 5.3), signed within its fudge of now.
 */
export function replyVerifies(reply: Buffer, requestMac: Buffer, key: TsigKey, now = Date.now()): boolean {
  const tsig = replyTsig(reply);
  if (!tsig || tsig.mac.length === 0) return false;
  if (Math.abs(Math.floor(now / 1000) - tsig.timeSigned) > tsig.fudge) return false;
  const unsigned = Buffer.from(reply.subarray(0, tsig.start));
  unsigned.writeUInt16BE(tsig.originalId, 0);
  unsigned.writeUInt16BE(unsigned.readUInt16BE(10) - 1, 10);
  const expected = crypto
    .createHmac('sha256', secretOf(key))
    .update(u16(requestMac.length))
    .update(requestMac)
    .update(unsigned)
    .update(tsigVariables(key, tsig.timeSigned, tsig.fudge, tsig.error, tsig.other))
    .digest();
  return expected.length === tsig.mac.length && crypto.timingSafeEqual(expected, tsig.mac);
}

function hostPort(server: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(server);
  if (bracketed) return { host: bracketed[1]!, port: Number(bracketed[2] ?? 53) };
  if (net.isIPv6(server)) return { host: server, port: 53 };
  const [host, port] = server.split(':');
  return { host: host!, port: Number(port ?? 53) };
}

/** One DNS exchange over TCP: the message with its two-byte length, the reply likewise. */
function exchange(server: string, message: Buffer, timeoutMs: number): Promise<Buffer> {
  const { host, port } = hostPort(server);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let received = Buffer.alloc(0);
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(new Error(`the DNS server ${server} did not answer within ${timeoutMs / 1000} s`)),
    );
    socket.on('connect', () => socket.write(Buffer.concat([u16(message.length), message])));
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
        socket.end();
        resolve(received.subarray(2, 2 + received.readUInt16BE(0)));
      }
    });
    socket.on('error', (error) => reject(new Error(`the DNS update to ${server} failed: ${error.message}`)));
    socket.on('close', () =>
      reject(new Error(`the DNS server ${server} closed the connection without a reply`)),
    );
  });
}

/** Sends the changes as one signed UPDATE; throws an Error that says what the server refused. */
export async function sendUpdate(target: UpdateTarget, changes: TxtChange[]): Promise<void> {
  const id = crypto.randomInt(0, 0x10000);
  const request = signed(updateMessage(id, target.zone, changes), target.key, Date.now());
  const reply = await exchange(target.server, request.message, target.timeoutMs ?? 10_000);
  if (reply.length < 12 || reply.readUInt16BE(0) !== id) {
    throw new Error(`the DNS server ${target.server} sent a reply that does not match the update`);
  }
  const rcode = reply.readUInt16BE(2) & 0x0f;
  if (rcode === 0) {
    // A success must come from the holder of the key: anyone on the path could forge a NOERROR.
    if (replyVerifies(reply, request.mac, target.key)) return;
    throw new Error(`the DNS server ${target.server} answered the update without a valid TSIG signature`);
  }
  const detail = TSIG_ERRORS[replyTsig(reply)?.error ?? 0] ?? RCODES[rcode] ?? `rcode ${rcode}`;
  throw new Error(`the DNS server ${target.server} refused the update of zone ${target.zone}: ${detail}`);
}
