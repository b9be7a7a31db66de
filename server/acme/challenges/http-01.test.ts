import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../../test/helpers/ports.ts';
import { zoneFor } from './dns-01.ts';
import { httpChallengeResponder } from './http-01.ts';

function get(port: number, path: string, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .request({ host: '127.0.0.1', port, path, method, agent: false }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      })
      .on('error', reject)
      .end();
  });
}

describe('HTTP-01 responder', () => {
  it('serves the tokens of every name presented at once on one listener, then closes', async () => {
    const port = await freePort();
    const responder = httpChallengeResponder({ host: '127.0.0.1', port });
    const a = { identifier: 'a.example.test', token: 'tokenA', keyAuthorization: 'tokenA.thumb' };
    const b = { identifier: 'b.example.test', token: 'tokenB', keyAuthorization: 'tokenB.thumb' };
    // Presented together, as an order's authorizations are: one listener, not two.
    await Promise.all([responder.present(a), responder.present(b)]);
    expect(await get(port, '/.well-known/acme-challenge/tokenA')).toEqual({
      status: 200,
      body: 'tokenA.thumb',
    });
    expect(await get(port, '/.well-known/acme-challenge/tokenB?x=1')).toEqual({
      status: 200,
      body: 'tokenB.thumb',
    });
    expect((await get(port, '/.well-known/acme-challenge/other')).status).toBe(404);
    const page = await get(port, '/');
    expect(page.status).toBe(404);
    expect(page.body).toMatch(/proving its name to a certificate authority/);
    expect((await get(port, '/.well-known/acme-challenge/tokenA', 'POST')).status).toBe(405);
    await responder.cleanup(a);
    expect((await get(port, '/.well-known/acme-challenge/tokenA')).status).toBe(404);
    await responder.cleanup(b);
    await expect(get(port, '/')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('says why a port cannot be opened', async () => {
    const blocker = http.createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const responder = httpChallengeResponder({ host: '127.0.0.1', port });
      await expect(
        responder.present({ identifier: 'a.example.test', token: 't', keyAuthorization: 't.k' }),
      ).rejects.toThrow(/cannot open the HTTP-01 listener .*another program listens there/);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

describe('zoneFor', () => {
  it.each([
    ['mail.example.org', '', 'example.org'],
    ['example.org', '', 'example.org'],
    ['*.example.org', '', 'example.org'],
    ['a.b.example.org', 'example.org.', 'example.org'],
  ])('%s with zone "%s" → %s', (name, configured, zone) => {
    expect(zoneFor(name, configured)).toBe(zone);
  });
});
