import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { encodeName, sendUpdate, signMessage, updateMessage } from './dns-update.ts';

describe('RFC 2136 UPDATE encoding', () => {
  it('encodes names in lower case, uncompressed, and refuses long labels', () => {
    expect(encodeName('Mail.Example.org.')).toEqual(Buffer.from('\x04mail\x07example\x03org\x00', 'latin1'));
    expect(() => encodeName(`${'a'.repeat(64)}.example.org`)).toThrow(/label too long/);
  });

  it('lays out header, zone, an add (class IN) and a delete of one record (class NONE, TTL 0)', () => {
    const message = updateMessage(0x1234, 'example.org', [
      { action: 'add', name: '_acme-challenge.mail.example.org', value: 'abc', ttl: 60 },
      { action: 'delete', name: '_acme-challenge.mail.example.org', value: 'abc' },
    ]);
    expect(message.readUInt16BE(0)).toBe(0x1234);
    expect(message.readUInt16BE(2)).toBe(0x2800); // opcode UPDATE
    expect([4, 6, 8, 10].map((at) => message.readUInt16BE(at))).toEqual([1, 0, 2, 0]);
    const zone = encodeName('example.org');
    expect(message.subarray(12, 12 + zone.length)).toEqual(zone);
    const name = encodeName('_acme-challenge.mail.example.org');
    const rdata = Buffer.from('\x03abc', 'latin1');
    const add = Buffer.concat([name, Buffer.from([0, 16, 0, 1, 0, 0, 0, 60, 0, 4]), rdata]);
    const remove = Buffer.concat([name, Buffer.from([0, 16, 0, 254, 0, 0, 0, 0, 0, 4]), rdata]);
    expect(message.subarray(12 + zone.length + 4)).toEqual(Buffer.concat([add, remove]));
  });

  it('splits TXT values longer than 255 bytes into character-strings', () => {
    const message = updateMessage(1, 'example.org', [
      { action: 'add', name: 'x.example.org', value: 'v'.repeat(300) },
    ]);
    const rdlength = message.readUInt16BE(message.length - 302 - 2);
    expect(rdlength).toBe(302);
    expect(message[message.length - 302]).toBe(255);
    expect(message[message.length - 302 + 256]).toBe(45);
  });

  it('appends one TSIG record (hmac-sha256, 32-byte MAC, the original id) and counts it', () => {
    const message = updateMessage(0xbeef, 'example.org', []);
    const signed = signMessage(
      message,
      { name: 'mallard', secret: Buffer.alloc(32, 1).toString('base64') },
      1_700_000_000_000,
    );
    expect(signed.readUInt16BE(10)).toBe(1);
    const record = signed.subarray(message.length);
    const keyName = encodeName('mallard');
    expect(record.subarray(0, keyName.length)).toEqual(keyName);
    expect(record.readUInt16BE(keyName.length)).toBe(250); // TSIG
    expect(record.readUInt16BE(keyName.length + 2)).toBe(255); // class ANY
    const rdata = record.subarray(keyName.length + 10);
    const algorithm = encodeName('hmac-sha256');
    expect(rdata.subarray(0, algorithm.length)).toEqual(algorithm);
    expect(rdata.readUIntBE(algorithm.length, 6)).toBe(1_700_000_000);
    expect(rdata.readUInt16BE(algorithm.length + 8)).toBe(32);
    expect(rdata.readUInt16BE(algorithm.length + 10 + 32)).toBe(0xbeef);
    expect(() => signMessage(message, { name: 'mallard', secret: '' })).toThrow(/secret is empty/);
  });
});

describe('sendUpdate', () => {
  it('does not take an unsigned NOERROR for success (anyone on the path could send one)', async () => {
    // A server that answers every update NOERROR without signing it.
    const impostor = net.createServer((socket) => {
      socket.once('data', (data) => {
        const query = data.subarray(2);
        const reply = Buffer.from(query.subarray(0, 12));
        reply.writeUInt16BE(0x8000 | 0x2800, 2); // a response, opcode UPDATE, rcode 0
        reply.fill(0, 4);
        socket.end(Buffer.concat([Buffer.from([0, 12]), reply]));
      });
    });
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    const { port } = impostor.address() as net.AddressInfo;
    try {
      await expect(
        sendUpdate(
          { server: `127.0.0.1:${port}`, zone: 'example.org', key: { name: 'k', secret: 'c2VjcmV0' } },
          [{ action: 'add', name: '_acme-challenge.example.org', value: 'v' }],
        ),
      ).rejects.toThrow(/without a valid TSIG signature/);
    } finally {
      await new Promise((resolve) => impostor.close(resolve));
    }
  });
});
