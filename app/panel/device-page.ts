/**
 * What a phone sees after scanning a device link: one page with the two existing set-up
 * downloads for that user — the local CA (.crt, PEM) and the Apple profile (.mobileconfig, the
 * same one "Connect a device" makes) — plus the settings to type by hand. The files are fetched
 * from the admin API by the panel host with its token; the phone never gets a credential that
 * reaches the API.
 */
import http from 'node:http';
// Runtime import from renderer/ (DESIGN allows type-only imports across top-level folders): the
// profile must be the very one the "Connect a device" page makes, and these are pure functions.
import { escapeXml, mobileconfig, safeFileName } from '../../renderer/src/components/devices/profiles.ts';
import type { IncomingEndpoint } from '../../renderer/src/components/devices/profiles.ts';
import { SECURITY_HEADERS } from './http.ts';
import type { Upstream } from './proxy.ts';
import type { DeviceUser } from './device-links.ts';

/** One GET of the admin API with the token: the body, or an error saying what failed. */
export function adminGet(upstream: Upstream, token: string, path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const request = http.get(
      {
        host: upstream.host,
        port: upstream.port,
        path,
        headers: { authorization: `Bearer ${token}` },
        timeout: 10_000,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          response.statusCode === 200
            ? resolve(Buffer.concat(chunks))
            : reject(new Error(`the admin API answered ${response.statusCode} to ${path}`)),
        );
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error('the admin API did not answer')));
    request.on('error', reject);
  });
}

interface StatusListener {
  protocol: string;
  port: number;
  tls: string;
}

/** The account as a device needs it, from the running server's settings and listeners. */
async function accountOf(upstream: Upstream, token: string, user: DeviceUser) {
  const settings = JSON.parse((await adminGet(upstream, token, '/api/settings')).toString('utf8')) as {
    hostname?: string;
  };
  const status = JSON.parse((await adminGet(upstream, token, '/api/status')).toString('utf8')) as {
    listeners: StatusListener[];
  };
  const hostname = settings.hostname ?? 'localhost';
  const incoming: IncomingEndpoint[] = status.listeners
    .filter((listener) => listener.protocol === 'imap' || listener.protocol === 'pop3')
    .map((listener) => ({
      protocol: listener.protocol as 'imap' | 'pop3',
      port: listener.port,
      security: listener.tls === 'implicit' ? ('ssl' as const) : ('starttls' as const),
    }))
    .sort((a, b) => Number(a.security !== 'ssl') - Number(b.security !== 'ssl'));
  const submission = status.listeners.find((listener) => listener.protocol === 'submission');
  const smtp = submission ?? status.listeners.find((listener) => listener.protocol === 'smtp');
  return {
    hostname,
    email: user.address,
    incoming,
    outgoing: {
      hostname,
      port: smtp?.port ?? 587,
      security: smtp?.tls === 'implicit' ? ('ssl' as const) : ('starttls' as const),
      authenticate: submission !== undefined,
    },
  };
}

async function authorityDer(upstream: Upstream, token: string): Promise<Buffer | null> {
  return adminGet(upstream, token, '/api/certificates/authority.der').catch(() => null);
}

function sendHtml(response: http.ServerResponse, status: number, title: string, body: string): void {
  const html = `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:1.5rem auto;padding:0 1rem;line-height:1.5}a.button{display:block;margin:.8rem 0;padding:.8rem;border-radius:.5rem;background:#1c7ed6;color:#fff;text-decoration:none;text-align:center}td{padding:.2rem .6rem .2rem 0}</style>
<h1>${escapeXml(title)}</h1>
${body}</html>`;
  response.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
  });
  response.end(html);
}

export function sendLinkRefused(response: http.ServerResponse, reason: 'unknown' | 'expired'): void {
  sendHtml(
    response,
    reason === 'expired' ? 410 : 404,
    reason === 'expired' ? 'This device link has expired' : 'This device link is not valid',
    `<p>A device link works once, for 15 minutes. Ask for a new one on the "Connect a device" page of the control panel.</p>`,
  );
}

export async function sendDevicePage(
  response: http.ServerResponse,
  upstream: Upstream,
  token: string,
  user: DeviceUser,
): Promise<void> {
  const account = await accountOf(upstream, token, user);
  const hasCa = (await authorityDer(upstream, token)) !== null;
  const rows = account.incoming
    .map(
      (endpoint) =>
        `<tr><td>${endpoint.protocol.toUpperCase()}</td><td>${escapeXml(account.hostname)}</td><td>${endpoint.port}</td><td>${endpoint.security === 'ssl' ? 'SSL/TLS' : 'STARTTLS'}</td></tr>`,
    )
    .join('');
  sendHtml(
    response,
    200,
    `Set up ${user.address} on this phone`,
    `${
      hasCa
        ? `<p>1. Install the server's certificate authority, so this phone trusts the mail server.</p>
<a class="button" href="/device/ca.crt" download>Download the certificate authority (.crt)</a>`
        : ''
    }
<p>${hasCa ? '2. ' : ''}On an iPhone or iPad, install the mail profile (it carries the certificate authority too), then enter the password in Settings.</p>
<a class="button" href="/device/profile.mobileconfig" download>Download the mail profile (.mobileconfig)</a>
<p>Elsewhere, add the account by hand:</p>
<table><tr><td>Address and user name</td><td colspan="3">${escapeXml(user.address)}</td></tr>${rows}
<tr><td>SMTP</td><td>${escapeXml(account.outgoing.hostname)}</td><td>${account.outgoing.port}</td><td>${account.outgoing.security === 'ssl' ? 'SSL/TLS' : 'STARTTLS'}</td></tr></table>
<p>This page works for 15 minutes; it gives no access to the control panel.</p>`,
  );
}

export async function sendDeviceFile(
  response: http.ServerResponse,
  upstream: Upstream,
  token: string,
  user: DeviceUser,
  file: 'ca.crt' | 'profile.mobileconfig',
): Promise<void> {
  const der = await authorityDer(upstream, token);
  if (file === 'ca.crt') {
    if (!der)
      return sendHtml(
        response,
        404,
        'No certificate authority',
        '<p>This server has no local certificate authority.</p>',
      );
    const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`;
    response.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'application/x-x509-ca-cert',
      'Content-Disposition': 'attachment; filename="mallard-ca.crt"',
      'Cache-Control': 'no-store',
    });
    return void response.end(pem);
  }
  const account = await accountOf(upstream, token, user);
  const profile = mobileconfig({
    account,
    accountType: account.incoming[0]?.protocol ?? 'imap',
    ...(der ? { caDerBase64: der.toString('base64') } : {}),
  });
  response.writeHead(200, {
    ...SECURITY_HEADERS,
    'Content-Type': 'application/x-apple-aspen-config',
    'Content-Disposition': `attachment; filename="${safeFileName(user.address)}.mobileconfig"`,
    'Cache-Control': 'no-store',
  });
  response.end(profile);
}
