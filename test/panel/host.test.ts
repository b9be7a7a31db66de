/**
 * The panel host over real HTTP: `mallard panel` as an OS process supervising the real server,
 * plus an in-process host for the throttling test (fast timings) and the service unit.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { stringify as stringifyYaml } from 'yaml';
import { startPanelHost, type PanelHost } from '../../app/panel/host.ts';
import { electronAvailability } from '../../app/panel/cli.ts';
import { renderUnit } from '../../app/panel/service.ts';
import { loadConfig } from '../../server/config/load.ts';
import { MALLARD_BIN, ROOT, makeDataDir } from '../helpers/cli.ts';
import { freePorts, loginCookie, panelConfig, startPanel, type RunningPanel } from '../helpers/panel.ts';
import { runProcess } from '../helpers/process.ts';
import { LineClient } from '../helpers/server.ts';

let panel: RunningPanel;
let cookie: string;
let rendererDir: string;

/** A raw request, so that paths reach the server exactly as written (fetch normalises `..`). */
function raw(
  url: string,
  options: { method?: string; path: string; headers?: http.OutgoingHttpHeaders; body?: string },
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: hostname, port, method: options.method ?? 'GET', path: options.path, headers: options.headers },
      (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body }));
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

const panelHeaders = (extra: Record<string, string> = {}) => ({
  'Content-Type': 'application/json',
  'X-Mallard-Panel': '1',
  cookie,
  ...extra,
});

async function serverState(): Promise<{
  state: string;
  pid: number | null;
  restarts: number;
  uptimeSeconds: number | null;
}> {
  const response = await fetch(`${panel.url}/panel/server`, { headers: { cookie } });
  expect(response.status).toBe(200);
  return (await response.json()) as {
    state: string;
    pid: number | null;
    restarts: number;
    uptimeSeconds: number | null;
  };
}

async function until<T>(
  what: string,
  probe: () => Promise<T | null | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${panel.output()}`);
    await sleep(100);
  }
}

function openEvents(
  headers: Record<string, string>,
): Promise<{ ws: WebSocket; first: Promise<unknown> } | { status: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${panel.url.replace('http', 'ws')}/api/events`, ['mallard.events'], {
      headers,
    });
    const first = new Promise((resolveFirst) =>
      ws.once('message', (data) => resolveFirst(JSON.parse(String(data)))),
    );
    ws.once('open', () => resolve({ ws, first }));
    ws.once('unexpected-response', (_request, response) => {
      resolve({ status: response.statusCode ?? 0 });
      ws.terminate();
    });
    ws.once('error', () => {});
  });
}

beforeAll(async () => {
  panel = await startPanel();
  // Users go only into local domains: the ones these tests create users in.
  for (const name of ['example.com']) {
    const response = await fetch(`http://127.0.0.1:${panel.ports.admin}/api/domains`, {
      method: 'POST',
      headers: { authorization: `Bearer ${panel.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    });
    if (response.status !== 201) throw new Error(`domain ${name}: HTTP ${response.status}`);
  }
  cookie = await loginCookie(panel.url, panel.adminToken);
  rendererDir = path.join(ROOT, 'renderer', 'dist');
});

afterAll(async () => {
  await panel?.stop();
});

describe('mallard panel: login', () => {
  it('refuses the API without a session, and says so in the admin API error shape', async () => {
    const response = await fetch(`${panel.url}/api/status`);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      error: { code: 'unauthorized', message: 'not logged in to the panel' },
    });
    const session = await fetch(`${panel.url}/panel/session`);
    expect(await session.json()).toEqual({
      loggedIn: false,
      passwordSet: false,
      lan: false,
      totpEnrolled: false,
    });
  });

  it('logs in with the admin token: HttpOnly SameSite=Strict cookie, then the proxy adds the token', async () => {
    const response = await fetch(`${panel.url}/panel/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Mallard-Panel': '1' },
      body: JSON.stringify({ token: panel.adminToken }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      loggedIn: true,
      passwordSet: false,
      lan: false,
      totpEnrolled: false,
    });
    const setCookie = response.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^mallard_panel=[\w-]{40,}; HttpOnly; SameSite=Strict; Path=\/$/);
    const own = setCookie.split(';')[0]!;
    const status = await fetch(`${panel.url}/api/status`, { headers: { cookie: own } });
    expect(status.status).toBe(200);
    const body = (await status.json()) as {
      version: string;
      listeners: Array<{ protocol: string; port: number }>;
    };
    expect(body.listeners).toContainEqual(
      expect.objectContaining({ protocol: 'imap', port: panel.ports.imap }),
    );
    // The browser never needs (or sees) the token: a Bearer header from the browser is not passed on.
    const forged = await fetch(`${panel.url}/api/status`, {
      headers: { authorization: `Bearer ${panel.adminToken}` },
    });
    expect(forged.status).toBe(401);
  });

  it('a wrong token is refused', async () => {
    const response = await fetch(`${panel.url}/panel/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Mallard-Panel': '1' },
      body: JSON.stringify({ token: 'not-the-token' }),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(await response.json()).toMatchObject({ error: { code: 'unauthorized', message: 'wrong token' } });
  });

  it('the one-time link logs in once and redirects to /', async () => {
    const first = await fetch(panel.loginLink, { redirect: 'manual' });
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/');
    const own = first.headers.get('set-cookie')!.split(';')[0]!;
    const session = await fetch(`${panel.url}/panel/session`, { headers: { cookie: own } });
    expect(await session.json()).toMatchObject({ loggedIn: true });
    const again = await fetch(panel.loginLink, { redirect: 'manual' });
    expect(again.status).toBe(401);
    expect(again.headers.get('set-cookie')).toBeNull();
    expect(await again.text()).toMatch(/no longer valid/);
  });

  it('sets the admin password (logged in only, ≥10 characters, argon2id, 0600) and logs in with it', async () => {
    const anonymous = await fetch(`${panel.url}/panel/password`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Mallard-Panel': '1' },
      body: JSON.stringify({ password: 'long enough password' }),
    });
    expect(anonymous.status).toBe(401);
    const short = await fetch(`${panel.url}/panel/password`, {
      method: 'POST',
      headers: panelHeaders(),
      body: JSON.stringify({ password: 'short' }),
    });
    expect(short.status).toBe(400);
    expect(await short.json()).toMatchObject({
      error: { code: 'validation_failed', message: /at least 10/ },
    });
    const set = await fetch(`${panel.url}/panel/password`, {
      method: 'POST',
      headers: panelHeaders(),
      body: JSON.stringify({ password: 'correct horse battery' }),
    });
    expect(set.status).toBe(200);
    expect(await set.json()).toEqual({ loggedIn: true, passwordSet: true, lan: false, totpEnrolled: false });
    const file = path.join(panel.dataDir, 'panel-password');
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^\$argon2id\$/);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const login = await fetch(`${panel.url}/panel/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Mallard-Panel': '1' },
      body: JSON.stringify({ password: 'correct horse battery' }),
    });
    expect(login.status).toBe(200);
    const wrong = await fetch(`${panel.url}/panel/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Mallard-Panel': '1' },
      body: JSON.stringify({ password: 'incorrect horse battery' }),
    });
    expect(wrong.status).toBe(401);
    expect(await (await fetch(`${panel.url}/panel/session`)).json()).toEqual({
      loggedIn: false,
      passwordSet: true,
      lan: false,
      totpEnrolled: false,
    });
  });

  it('logout ends the session', async () => {
    const own = await loginCookie(panel.url, panel.adminToken);
    const out = await fetch(`${panel.url}/panel/logout`, {
      method: 'POST',
      headers: { 'X-Mallard-Panel': '1', cookie: own },
    });
    expect(out.status).toBe(204);
    expect((await fetch(`${panel.url}/api/status`, { headers: { cookie: own } })).status).toBe(401);
  });
});

describe('mallard panel: cross-site protection and static files', () => {
  it('requires X-Mallard-Panel: 1 and a same-origin Origin on changes', async () => {
    const user = { username: 'csrf@example.com', password: 'a good password 1' };
    const noHeader = await fetch(`${panel.url}/api/users`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', cookie },
      body: JSON.stringify(user),
    });
    expect(noHeader.status).toBe(403);
    expect(await noHeader.json()).toMatchObject({ error: { code: 'forbidden', message: /X-Mallard-Panel/ } });
    const login = await fetch(`${panel.url}/panel/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ token: panel.adminToken }),
    });
    expect(login.status).toBe(403);
    const otherOrigin = await fetch(`${panel.url}/api/users`, {
      method: 'POST',
      headers: panelHeaders({ Origin: 'http://evil.example' }),
      body: JSON.stringify(user),
    });
    expect(otherOrigin.status).toBe(403);
    const sameOrigin = await fetch(`${panel.url}/api/users`, {
      method: 'POST',
      headers: panelHeaders({ Origin: panel.url }),
      body: JSON.stringify(user),
    });
    expect(sameOrigin.status).toBe(201);
    expect(await sameOrigin.json()).toMatchObject({ user: { username: 'csrf@example.com' } });
  });

  it('refuses a foreign Host header (DNS rebinding), comparing addresses rather than prefixes', async () => {
    const { port } = new URL(panel.url);
    const refused = [
      'evil.example:80',
      `127.0.0.1.nip.io:${port}`,
      '127.0.0.1.evil.example',
      `127.evil.example:${port}`,
      `[::1].evil.example:${port}`,
      `localhost.evil.example:${port}`,
      '10.0.0.1',
    ];
    for (const host of refused) {
      const response = await raw(panel.url, { path: '/panel/session', headers: { host } });
      expect(response.status, host).toBe(421);
    }
    for (const host of [
      `127.0.0.1:${port}`,
      `127.1.2.3:${port}`,
      `localhost:${port}`,
      `[::1]:${port}`,
      'LOCALHOST',
    ]) {
      const response = await raw(panel.url, { path: '/panel/session', headers: { host } });
      expect(response.status, host).not.toBe(421);
    }
  });

  it('serves the renderer with security headers, SPA fallback and no way out of its folder', async () => {
    const index = await fetch(`${panel.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('content-security-policy')).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
    expect(index.headers.get('x-content-type-options')).toBe('nosniff');
    expect(index.headers.get('referrer-policy')).toBe('no-referrer');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const indexText = await index.text();
    expect(indexText).toBe(fs.readFileSync(path.join(rendererDir, 'index.html'), 'utf8'));
    const route = await fetch(`${panel.url}/users/some-id`);
    expect(route.status).toBe(200);
    expect(await route.text()).toBe(indexText);
    const script = fs.readdirSync(path.join(rendererDir, 'assets')).find((name) => name.endsWith('.js'))!;
    const asset = await fetch(`${panel.url}/assets/${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(`${panel.url}/assets/missing-abcdef12.js`)).status).toBe(404);
    const secret = fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8');
    for (const attempt of [
      '/../../package.json',
      '/assets/../../../package.json',
      '/..%2f..%2fpackage.json',
      '/%2e%2e/%2e%2e/package.json',
      '/assets/..%5c..%5cpackage.json',
      '/%00',
    ]) {
      const response = await raw(panel.url, { path: attempt });
      expect([400, 404], attempt).toContain(response.status);
      expect(response.body).not.toBe(secret);
      expect(response.body).not.toContain('"name": "mallard"');
    }
  });
});

describe('mallard panel: proxy and event stream', () => {
  it('streams request and response bodies through to the admin API', async () => {
    const created = await fetch(`${panel.url}/api/users`, {
      method: 'POST',
      headers: panelHeaders(),
      body: JSON.stringify({
        username: 'proxy@example.com',
        password: 'a good password 2',
        name: 'Über Proxy',
      }),
    });
    expect(created.status).toBe(201);
    const list = await fetch(`${panel.url}/api/users?search=proxy`, { headers: { cookie } });
    expect(list.status).toBe(200);
    expect(JSON.stringify(await list.json())).toContain('Über Proxy');
    const invalid = await fetch(`${panel.url}/api/users`, {
      method: 'POST',
      headers: panelHeaders(),
      body: '{"username": 5}',
    });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ error: { code: 'validation_failed' } });
  });

  it('passes the WebSocket event stream through, with the same checks', async () => {
    const opened = await openEvents({ cookie, Origin: panel.url });
    expect('ws' in opened).toBe(true);
    if (!('ws' in opened)) return;
    expect(opened.ws.protocol).toBe('mallard.events');
    expect(await opened.first).toMatchObject({ type: 'status', data: { connections: { imap: 0 } } });
    // A live event: an IMAP connection shows up as session.opened.
    const events: Array<{ type: string; data: { protocol?: string } }> = [];
    opened.ws.on('message', (data) => events.push(JSON.parse(String(data))));
    const client = await LineClient.connect(panel.ports.imap);
    await client.readUntil(/^\* OK/);
    await until(
      'session event',
      async () => events.find((event) => event.type === 'session.opened') ?? null,
      10_000,
    );
    client.close();
    opened.ws.close();
    expect(await openEvents({ Origin: panel.url })).toEqual({ status: 401 });
    expect(await openEvents({ cookie, Origin: 'http://evil.example' })).toEqual({ status: 403 });
  });
});

describe('mallard panel: supervising the server', () => {
  it('reports the server, serves its log, and answers 503 JSON while it is stopped', async () => {
    const status = await serverState();
    expect(status).toMatchObject({ state: 'running', restarts: 0 });
    expect(status.pid).toBeGreaterThan(0);
    expect(status.uptimeSeconds).toBeGreaterThanOrEqual(0);
    const logs = (await (
      await fetch(`${panel.url}/panel/server/logs`, { headers: { cookie } })
    ).json()) as Array<{ seq: number; stream: string; text: string }>;
    expect(logs.some((line) => line.stream === 'supervisor' && line.text.startsWith('starting:'))).toBe(true);
    const last = logs.at(-1)!.seq;
    const after = (await (
      await fetch(`${panel.url}/panel/server/logs?after=${last}`, { headers: { cookie } })
    ).json()) as unknown[];
    expect(after.every((line) => (line as { seq: number }).seq > last)).toBe(true);
    expect((await fetch(`${panel.url}/panel/server/logs?after=x`, { headers: { cookie } })).status).toBe(400);
    expect(
      (await fetch(`${panel.url}/panel/server/stop`, { method: 'POST', headers: { cookie } })).status,
    ).toBe(403);

    const client = await LineClient.connect(panel.ports.imap);
    await client.readUntil(/^\* OK/);
    const stopped = await fetch(`${panel.url}/panel/server/stop`, {
      method: 'POST',
      headers: panelHeaders(),
    });
    expect(stopped.status).toBe(200);
    expect(await stopped.json()).toMatchObject({
      state: 'stopped',
      pid: null,
      lastExit: { code: 0, signal: null },
    });
    expect(await client.readUntil(/^\* BYE/)).toMatch(/BYE/);
    client.close();

    const down = await fetch(`${panel.url}/api/status`, { headers: { cookie } });
    expect(down.status).toBe(503);
    const body = (await down.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('server_unavailable');
    expect(body.error.message).toMatch(/^The mail server is not running \(state: stopped\)\./);
    expect(await openEvents({ cookie })).toEqual({ status: 503 });

    const started = await fetch(`${panel.url}/panel/server/start`, {
      method: 'POST',
      headers: panelHeaders(),
    });
    expect(started.status).toBe(200);
    await until('running again', async () => (await serverState()).state === 'running');
    expect((await fetch(`${panel.url}/api/status`, { headers: { cookie } })).status).toBe(200);
  });

  it('restarts the server when it dies, and on request', async () => {
    const before = await serverState();
    process.kill(before.pid!, 'SIGKILL');
    const backoff = await until(
      'backoff',
      async () => {
        const status = await serverState();
        return status.state === 'backoff' || status.restarts > before.restarts ? status : null;
      },
      10_000,
    );
    expect(['backoff', 'starting', 'running']).toContain(backoff.state);
    const again = await until('running again', async () => {
      const status = await serverState();
      return status.state === 'running' ? status : null;
    });
    expect(again.restarts).toBe(before.restarts + 1);
    expect(again.pid).not.toBe(before.pid);
    const restarted = await fetch(`${panel.url}/panel/server/restart`, {
      method: 'POST',
      headers: panelHeaders(),
    });
    expect(restarted.status).toBe(200);
    const after = await until('running after restart', async () => {
      const status = await serverState();
      return status.state === 'running' ? status : null;
    });
    expect(after.pid).not.toBe(again.pid);
    expect(after.restarts).toBe(again.restarts);
  });

  it('refuses to start a second server for a configuration whose server already runs', async () => {
    const result = await runProcess(
      process.execPath,
      [MALLARD_BIN, 'panel', '--config', panel.configFile, '--port', '0'],
      {
        env: Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('MALLARD_'))),
        timeoutMs: 30_000,
      },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/a mail server already runs for this configuration .*--no-server/);
  });

  it('SIGTERM stops the panel and the server cleanly (BYE, exit 0)', async () => {
    const own = await startPanel();
    const client = await LineClient.connect(own.ports.imap);
    await client.readUntil(/^\* OK/);
    const exit = own.stop();
    expect(await client.readUntil(/^\* BYE/, 20_000)).toMatch(/BYE/);
    expect(await exit).toBe(0);
    client.close();
    expect(own.output()).toMatch(/stopping the mail server/);
  });
});

describe('mallard start', () => {
  it('says where it looked for the Electron binary and how to fetch it', () => {
    const empty = makeDataDir('mallard-electron-');
    try {
      const found = electronAvailability({ DISPLAY: ':99', ELECTRON_OVERRIDE_DIST_PATH: empty });
      expect(found).toEqual({
        reason: expect.stringMatching(
          new RegExp(
            `^the Electron binary is not downloaded yet \\(looked for ${empty}/\\S+\\); run \`npx install-electron\` once to fetch it$`,
          ),
        ) as unknown,
      });
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it('falls back to the headless panel where Electron cannot run, and says why in one line', async () => {
    const own = await startPanel({ command: 'start', env: { DISPLAY: '', WAYLAND_DISPLAY: '' } });
    try {
      const lines = own.output().split('\n');
      expect(lines[0]).toBe(
        'mallard start: there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set); starting the headless panel instead (mallard panel).',
      );
      expect(lines[1]).toBe(`Mallard control panel: ${own.url}/`);
      const status = await fetch(`${own.url}/api/status`, {
        headers: { cookie: await loginCookie(own.url, own.adminToken) },
      });
      expect(status.status).toBe(200);
    } finally {
      expect(await own.stop()).toBe(0);
    }
  });
});

describe('panel host in process', () => {
  let host: PanelHost;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = makeDataDir('mallard-panel-inproc-');
    const ports = await freePorts();
    const configFile = path.join(dataDir, 'config.yaml');
    fs.writeFileSync(configFile, stringifyYaml(panelConfig(dataDir, ports)));
    host = await startPanelHost({
      configFile,
      port: 0,
      supervise: false,
      env: {},
      throttle: { baseDelayMs: 50, maxDelayMs: 200, lockoutAfter: 4, lockoutMs: 60_000 },
      rendererDir: path.join(dataDir, 'no-renderer'),
    });
  });
  afterAll(async () => {
    await host?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('without a supervised server: state from the admin API, 503 JSON, 409 for start', async () => {
    expect(host.supervisor).toBeNull();
    const link = await fetch(host.createLoginLink(), { redirect: 'manual' });
    expect(link.status).toBe(303);
    const own = link.headers.get('set-cookie')!.split(';')[0]!;
    const status = await fetch(`${host.url}/panel/server`, { headers: { cookie: own } });
    expect(await status.json()).toMatchObject({ state: 'stopped', pid: null, uptimeSeconds: null });
    const api = await fetch(`${host.url}/api/status`, { headers: { cookie: own } });
    expect(api.status).toBe(503);
    expect(await api.json()).toEqual({
      error: {
        code: 'server_unavailable',
        message:
          'The mail server is not running (this panel does not supervise it). Start it with `mallard serve`.',
      },
    });
    const start = await fetch(`${host.url}/panel/server/start`, {
      method: 'POST',
      headers: { cookie: own, 'X-Mallard-Panel': '1' },
    });
    expect(start.status).toBe(409);
    expect(await start.json()).toMatchObject({ error: { code: 'conflict', message: /--no-server/ } });
  });

  it('throttles wrong logins: growing delays, then 429 even for the right token', async () => {
    const token = fs.readFileSync(host.tokenFile, 'utf8').trim();
    const attempt = async (value: string) => {
      const started = Date.now();
      const response = await fetch(`${host.url}/panel/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Mallard-Panel': '1' },
        body: JSON.stringify({ token: value }),
      });
      return {
        status: response.status,
        ms: Date.now() - started,
        retry: response.headers.get('retry-after'),
      };
    };
    const wrong = [];
    for (let index = 0; index < 4; index++) wrong.push(await attempt('wrong'));
    expect(wrong.map((result) => result.status)).toEqual([401, 401, 401, 401]);
    expect(wrong[0]!.ms).toBeGreaterThanOrEqual(45);
    expect(wrong[2]!.ms).toBeGreaterThan(wrong[0]!.ms);
    const locked = await attempt(token);
    expect(locked.status).toBe(429);
    expect(locked.retry).toBe('60');
  });

  it('says the renderer is not built instead of failing', async () => {
    const response = await fetch(`${host.url}/`);
    expect(response.status).toBe(503);
    expect(await response.text()).toMatch(/npx vite build/);
  });
});

describe('mallard panel --install-service --dry-run', () => {
  it('prints a hardened unit and the systemctl commands without touching the system', () => {
    const dataDir = makeDataDir('mallard-service-');
    const configFile = path.join(dataDir, 'mallard.yaml');
    fs.writeFileSync(configFile, stringifyYaml({ data_dir: dataDir }));
    const result = spawnSync(
      process.execPath,
      [MALLARD_BIN, 'panel', '--install-service', '--dry-run', '--user', 'mallard', '--config', configFile],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, MALLARD_CONFIG: '' } },
    );
    expect(result.status, result.stderr).toBe(0);
    const text = result.stdout;
    expect(text).toContain('# /etc/systemd/system/mallard-panel.service (dry run: nothing is written)');
    expect(text).toContain(`ExecStart=${process.execPath} ${MALLARD_BIN} panel --config ${configFile}`);
    for (const line of [
      'User=mallard',
      'Restart=on-failure',
      'NoNewPrivileges=true',
      'ProtectSystem=strict',
      `ReadWritePaths=${dataDir} ${configFile}`,
      `Environment=MALLARD_DATA_DIR=${dataDir}`,
      'PrivateTmp=true',
      'AmbientCapabilities=CAP_NET_BIND_SERVICE',
      'WantedBy=multi-user.target',
      'systemctl daemon-reload',
      'systemctl enable --now mallard-panel.service',
    ])
      expect(text).toContain(line);
    expect(fs.existsSync('/etc/systemd/system/mallard-panel.service')).toBe(false);
    // The configured data directory is kept: nothing to warn about.
    expect(text).not.toContain('warning:');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('warns when --user moves the data directory to /var/lib/mallard', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, MALLARD_CONFIG: '', HOME: '/home/someone' };
    delete env.MALLARD_DATA_DIR;
    delete env.XDG_DATA_HOME;
    const result = spawnSync(
      process.execPath,
      [MALLARD_BIN, 'panel', '--install-service', '--dry-run', '--user', 'mallard'],
      { cwd: ROOT, encoding: 'utf8', env },
    );
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /^warning: as mallard the service keeps its mail in \/var\/lib\/mallard, not in \/home\/someone\/\S+; nothing is moved/m,
    );
    expect(result.stdout).toContain('StateDirectory=mallard');
    expect(result.stdout).toContain('Environment=MALLARD_DATA_DIR=/var/lib/mallard');
  });

  it('needs no capability when every port is 1024 or above, and quotes odd paths', () => {
    const config = loadConfig({
      env: {
        MALLARD_DATA_DIR: '/srv/mail data',
        MALLARD_IMAP_PORT: '1143',
        MALLARD_IMAP_TLS_PORT: '1993',
        MALLARD_POP3_PORT: '1110',
        MALLARD_POP3_TLS_PORT: '1995',
        MALLARD_LMTP_PORT: '2424',
        MALLARD_SMTP_PORT: '2525',
        MALLARD_SUBMISSION_PORT: '1587',
        MALLARD_SUBMISSION_TLS_PORT: '1465',
        MALLARD_WEB_PORT: '8443',
      },
    });
    const unit = renderUnit({
      node: '/usr/bin/node',
      bin: '/opt/mallard/bin/mallard.mjs',
      workingDirectory: '/opt/mallard',
      config,
    });
    expect(unit).toContain('ExecStart=/usr/bin/node /opt/mallard/bin/mallard.mjs panel\n');
    expect(unit).toContain('ReadWritePaths="/srv/mail data"');
    expect(unit).not.toContain('AmbientCapabilities');
    expect(unit).toContain('CapabilityBoundingSet=\n');
    expect(unit).not.toContain('User=');
    expect(unit).toContain('Environment="MALLARD_DATA_DIR=/srv/mail data"\n');
  });

  it('refuses --dry-run without --install-service', () => {
    const result = spawnSync(process.execPath, [MALLARD_BIN, 'panel', '--dry-run'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(result.status).toBe(64);
    expect(result.stderr).toMatch(/--dry-run and --user go with --install-service/);
  });
});
