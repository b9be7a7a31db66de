/**
 * The headless panel host (`mallard panel`): serves the built renderer over HTTP, logs people in
 * (admin token, admin password, one-time link), forwards `/api/*` and the event stream to the
 * admin API with the token added, and supervises `mallard serve` like the Electron app does.
 *
 * Cross-site protection: the session cookie is SameSite=Strict and HttpOnly, every mutating
 * request must carry `X-Mallard-Panel: 1` (a header a cross-site form cannot add and a
 * cross-site fetch cannot send without a preflight we never grant) and, when it has an Origin, a
 * same-origin one; WebSocket upgrades are checked for origin too. When the panel listens on
 * loopback the Host header must be a loopback name, which defeats DNS rebinding.
 *
 * On the LAN (panel.lan, lan.ts) the same handler serves HTTPS only: the admin password plus a TOTP
 * code (or a recovery code), never the token or a one-time login link; Secure cookies and HSTS;
 * and one-time device links that open a user's set-up page and nothing else.
 */
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import type tls from 'node:tls';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
// Runtime imports from server/ (DESIGN allows app → server types only): the panel must read the
// very configuration the server reads, and find the token where the server keeps it.
import { loadConfig } from '../../server/config/load.ts';
import type { Config } from '../../server/config/schema.ts';
import { loadOrCreateToken, tokenPath } from '../../server/admin/token.ts';
import type { ThrottleOptions } from '../../server/auth/throttle.ts';
import { writeSettings } from '../../server/admin/handlers/settings-file.ts';
import { createTlsProvider, type TlsProvider } from '../../server/tls/context.ts';
import QRCode from 'qrcode';
import { ServerSupervisor } from '../supervisor/supervisor.ts';
import type { SupervisorOptions, SupervisorStatus } from '../supervisor/types.ts';
import { PanelAuth, SESSION_COOKIE } from './auth.ts';
import { DEVICE_COOKIE, DEVICE_LINK_TTL_MS, DEVICE_SESSION_MS, DeviceLinks } from './device-links.ts';
import { adminGet, sendDeviceFile, sendDevicePage, sendLinkRefused } from './device-page.ts';
import { HSTS, lanUrl, listenLan, securityLog, type LanListener } from './lan.ts';
import { PanelTotp } from './totp.ts';
import {
  PanelError,
  SECURITY_HEADERS,
  clientIp,
  parseCookies,
  readJsonObject,
  sendError,
  sendJson,
} from './http.ts';
import { hostOfHeader, isLoopbackHost } from './loopback-host.ts';
import { MigrationJob, MigrationRefused } from './migration.ts';
import { proxyHttp, proxyUpgrade, refuseUpgrade, type Upstream } from './proxy.ts';
import { serveStatic } from './static.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MALLARD_BIN = path.join(REPO_ROOT, 'bin', 'mallard.mjs');

export interface PanelHostOptions {
  configFile?: string;
  host?: string;
  /** 0 = a free port. Default: panel.port of the configuration. */
  port?: number;
  /** Run and supervise `mallard serve` (default true). */
  supervise?: boolean;
  serverCommand?: { command: string; args: string[]; env?: NodeJS.ProcessEnv };
  /** Default: <repo>/renderer/dist. */
  rendererDir?: string;
  /** Supervisor tuning (tests). */
  supervisor?: Pick<SupervisorOptions, 'backoff' | 'stopTimeoutMs' | 'logLines' | 'readyPollMs'>;
  /** Wrong-login throttling (tests). */
  throttle?: Partial<ThrottleOptions>;
  /** Environment for loading the configuration (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Serve the panel on the LAN too (`mallard panel --lan`), whatever panel.lan.enabled says. */
  lan?: boolean;
}

export interface PanelHost {
  readonly url: string;
  readonly supervisor: ServerSupervisor | null;
  readonly config: Config;
  /** Where the admin token is kept. */
  readonly tokenFile: string;
  /** A link that logs a browser in once, within 10 minutes. */
  createLoginLink(): string;
  /** https://… where phones reach the panel, or null while LAN access is off. */
  lanUrl(): string | null;
  close(): Promise<void>;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Where a client reaches a listener bound to `host` on this machine. */
function reachableHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Reads the admin token file again whenever it changed (the server may have made a new one). */
class TokenReader {
  private cached: { mtimeMs: number; size: number; token: string } | null = null;

  constructor(readonly file: string) {}

  read(): string | null {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(this.file);
    } catch {
      this.cached = null;
      return null;
    }
    if (this.cached && this.cached.mtimeMs === stat.mtimeMs && this.cached.size === stat.size)
      return this.cached.token;
    const token = fs.readFileSync(this.file, 'utf8').trim();
    this.cached = { mtimeMs: stat.mtimeMs, size: stat.size, token };
    return token || null;
  }
}

function defaultServerCommand(configFile: string | undefined) {
  return {
    command: process.execPath,
    args: [MALLARD_BIN, 'serve', ...(configFile ? ['--config', path.resolve(configFile)] : [])],
  };
}

/** One GET of /api/status: is the admin API up and does it take our token? */
function adminAnswers(upstream: Upstream, token: string | null): Promise<boolean> {
  if (!token) return Promise.resolve(false);
  return new Promise((resolve) => {
    const request = http.get(
      {
        host: upstream.host,
        port: upstream.port,
        path: '/api/status',
        headers: { authorization: `Bearer ${token}` },
        timeout: 2000,
      },
      (response) => {
        response.resume();
        resolve(response.statusCode === 200);
      },
    );
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}

function uptimeOf(status: SupervisorStatus): number | null {
  if (status.state !== 'running' || !status.startedAt) return null;
  return Math.max(0, Math.round((Date.now() - Date.parse(status.startedAt)) / 1000));
}

export async function startPanelHost(options: PanelHostOptions = {}): Promise<PanelHost> {
  const config = loadConfig({ file: options.configFile, env: options.env });
  if (config.admin.port === 0)
    throw new Error('admin.port is 0 (the admin API is off): the panel needs it; set admin.port, e.g. 8025');
  const dataDir = config.data_dir;
  // Made now, so that logging in with the token works before the server has ever started.
  loadOrCreateToken(dataDir);
  const tokens = new TokenReader(tokenPath(dataDir));
  const upstream: Upstream = { host: reachableHost(config.admin.host), port: config.admin.port };
  const auth = new PanelAuth(dataDir, options.throttle);
  const totp = new PanelTotp(dataDir);
  const deviceLinks = new DeviceLinks();
  const rendererDir = path.resolve(options.rendererDir ?? path.join(REPO_ROOT, 'renderer', 'dist'));

  let supervisor: ServerSupervisor | null = null;
  if (options.supervise !== false && (await adminAnswers(upstream, tokens.read()))) {
    // A second server would crash-loop on the taken ports while the panel showed the first one.
    throw new Error(
      `a mail server already runs for this configuration (its admin API answers on ${upstream.host}:${upstream.port}); ` +
        'stop it, or manage it with `mallard panel --no-server`',
    );
  }
  if (options.supervise !== false) {
    const command = options.serverCommand ?? defaultServerCommand(options.configFile);
    supervisor = new ServerSupervisor({
      command: command.command,
      args: command.args,
      env: { ...process.env, ...options.env, ...options.serverCommand?.env },
      cwd: REPO_ROOT,
      isReady: () => adminAnswers(upstream, tokens.read()),
      ...options.supervisor,
    });
  }

  // `mallard db migrate` runs the way the server does (same node or Electron-as-node, same config).
  const mallard = options.serverCommand ?? defaultServerCommand(options.configFile);
  const migration = new MigrationJob({
    command: mallard.command,
    args: mallard.args,
    env: { ...process.env, ...options.env, ...options.serverCommand?.env },
    config,
    supervisor,
    switchToMongo: (uri) => writeSettings(config, { store: { engine: 'mongodb', mongodb: { uri } } }),
  });

  async function startMigration(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const body = await readJsonObject(request);
    try {
      sendJson(response, 202, migration.start(body.uri));
    } catch (error) {
      if (error instanceof MigrationRefused)
        throw new PanelError(
          error.status,
          error.status === 400 ? 'validation_failed' : 'conflict',
          error.message,
        );
      throw error;
    }
  }

  function unavailableMessage(): string {
    if (!supervisor)
      return 'The mail server is not running (this panel does not supervise it). Start it with `mallard serve`.';
    const status = supervisor.status();
    const hint =
      status.state === 'backoff'
        ? `It stopped unexpectedly and will be started again at ${status.nextRestartAt}.`
        : status.state === 'starting'
          ? 'It is starting; try again in a moment.'
          : status.state === 'stopping'
            ? 'It is stopping.'
            : status.state === 'stopped'
              ? 'Start it from the dashboard.'
              : 'Its admin API does not answer.';
    return `The mail server is not running (state: ${status.state}). ${hint}`;
  }

  // --- request checks ---

  /** Whether the request came through the LAN listener (the only TLS one). */
  function isLan(request: http.IncomingMessage): boolean {
    return (request.socket as tls.TLSSocket).encrypted === true;
  }

  function hostAllowed(request: http.IncomingMessage, listenHost: string): boolean {
    if (isLan(request) || !isLoopbackHost(listenHost)) return true;
    const header = request.headers.host;
    return header !== undefined && isLoopbackHost(hostOfHeader(header), [listenHost]);
  }

  function sameOrigin(request: http.IncomingMessage): boolean {
    const origin = request.headers.origin;
    if (origin === undefined) return true;
    return origin === `${isLan(request) ? 'https' : 'http'}://${request.headers.host}`;
  }

  function csrfProblem(request: http.IncomingMessage): string | null {
    if (!MUTATING.has(request.method ?? 'GET')) return null;
    if (request.headers['x-mallard-panel'] !== '1')
      return 'missing header X-Mallard-Panel: 1 (required on every change, against cross-site requests)';
    if (!sameOrigin(request)) return 'request from another origin refused';
    return null;
  }

  function sessionOf(request: http.IncomingMessage): string | undefined {
    return parseCookies(request.headers.cookie).get(SESSION_COOKIE);
  }

  function loggedIn(request: http.IncomingMessage): boolean {
    return auth.checkSession(sessionOf(request));
  }

  function requireLogin(request: http.IncomingMessage): void {
    if (!loggedIn(request)) throw new PanelError(401, 'unauthorized', 'not logged in to the panel');
  }

  function cookieFor(session: string, lan: boolean): string {
    return `${SESSION_COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/${lan ? '; Secure' : ''}`;
  }

  function sessionState(isLoggedIn: boolean, lan = false) {
    return { loggedIn: isLoggedIn, passwordSet: auth.passwordSet(), lan, totpEnrolled: totp.enrolled() };
  }

  /** The LAN may log in and use the panel, but not change how the panel itself is reached. */
  function requireLocal(request: http.IncomingMessage): void {
    requireLogin(request);
    if (isLan(request))
      throw new PanelError(403, 'forbidden', 'this can only be done from the panel on the server itself');
  }

  /** Refuses while the address is locked out; afterwards the caller checks the credential. */
  function checkLockout(ip: string): void {
    if (auth.throttle.isLockedOut(ip, ip)) {
      throw new PanelError(429, 'rate_limited', 'too many wrong logins from this address; try again later', {
        'Retry-After': String(Math.ceil(auth.throttleOptions.lockoutMs / 1000)),
      });
    }
  }

  async function failLogin(ip: string, message: string): Promise<never> {
    auth.throttle.recordFailure(ip, ip);
    await sleep(auth.throttle.delayFor(ip, ip));
    throw new PanelError(401, 'unauthorized', message);
  }

  // --- the panel's own endpoints ---

  async function login(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const ip = clientIp(request);
    checkLockout(ip);
    const body = await readJsonObject(request);
    const { token, password } = body;
    if (isLan(request)) return lanLogin(request, response, ip, body);
    if ((token === undefined) === (password === undefined))
      throw new PanelError(400, 'validation_failed', 'send either {"token": …} or {"password": …}');
    if (token !== undefined) {
      if (typeof token !== 'string' || token === '')
        throw new PanelError(400, 'validation_failed', 'token: expected text');
      if (!auth.checkToken(tokens.read(), token.trim())) await failLogin(ip, 'wrong token');
    } else {
      if (typeof password !== 'string' || password === '')
        throw new PanelError(400, 'validation_failed', 'password: expected text');
      if (!auth.passwordSet())
        throw new PanelError(
          401,
          'unauthorized',
          'no admin password is set yet: log in with the admin token or the link `mallard panel` printed',
        );
      if (!(await auth.checkPassword(password))) await failLogin(ip, 'wrong password');
    }
    auth.endSession(sessionOf(request));
    const session = auth.createSession();
    sendJson(response, 200, sessionState(true), { 'Set-Cookie': cookieFor(session, false) });
  }

  /** Over the LAN: the admin password and a TOTP or recovery code, nothing else. */
  async function lanLogin(
    request: http.IncomingMessage,
    response: http.ServerResponse,
    ip: string,
    body: Record<string, unknown>,
  ): Promise<void> {
    const { password, code, recovery } = body;
    if (body.token !== undefined)
      throw new PanelError(
        403,
        'forbidden',
        'the admin token does not work over the network: use the admin password and a two-factor code',
      );
    if (!totp.enrolled())
      throw new PanelError(
        403,
        'forbidden',
        'logging in over the network is off until two-factor authentication is set up: open the panel on the server, Settings → "The panel from a phone"',
      );
    if (typeof password !== 'string' || password === '')
      throw new PanelError(400, 'validation_failed', 'password: expected text');
    if (
      (typeof code !== 'string' || code.trim() === '') &&
      (typeof recovery !== 'string' || recovery.trim() === '')
    )
      throw new PanelError(
        400,
        'validation_failed',
        'code: the 6-digit code from your authenticator app (or a recovery code)',
      );
    if (!(await auth.checkPassword(password))) {
      securityLog('warn', 'panel login over the network failed: wrong password', ip);
      await failLogin(ip, 'wrong password or code');
    }
    const second =
      typeof code === 'string' && code.trim() !== ''
        ? totp.verify(code)
        : await totp.useRecoveryCode(recovery as string);
    if (!second) {
      securityLog('warn', 'panel login over the network failed: wrong two-factor code', ip, {
        kind: typeof code === 'string' && code.trim() !== '' ? 'totp' : 'recovery',
      });
      await failLogin(ip, 'wrong password or code');
    }
    securityLog('info', 'panel login over the network', ip, {
      secondFactor: typeof code === 'string' && code.trim() !== '' ? 'totp' : 'recovery code',
      ...(typeof code === 'string' && code.trim() !== '' ? {} : { recoveryCodesLeft: totp.recoveryLeft() }),
    });
    auth.endSession(sessionOf(request));
    const session = auth.createSession();
    sendJson(response, 200, sessionState(true, true), { 'Set-Cookie': cookieFor(session, true) });
  }

  async function loginWithCode(
    request: http.IncomingMessage,
    response: http.ServerResponse,
    code: string | null,
  ): Promise<void> {
    const ip = clientIp(request);
    if (isLan(request))
      throw new PanelError(
        403,
        'forbidden',
        'one-time login links do not work over the network: log in with the admin password and a two-factor code',
      );
    checkLockout(ip);
    if (!code || !auth.consumeLoginCode(code)) {
      auth.throttle.recordFailure(ip, ip);
      await sleep(auth.throttle.delayFor(ip, ip));
      const body = `<!doctype html><meta charset="utf-8"><title>Mallard</title>
<h1>This login link is no longer valid</h1>
<p>A login link works once, for 10 minutes. <a href="/">Log in</a> with the admin token or password, or run <code>mallard panel</code> again for a new link.</p>`;
      response.writeHead(401, {
        ...SECURITY_HEADERS,
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-store',
      });
      return void response.end(body);
    }
    const session = auth.createSession();
    response.writeHead(303, {
      ...SECURITY_HEADERS,
      Location: '/',
      'Cache-Control': 'no-store',
      'Set-Cookie': cookieFor(session, false),
    });
    response.end();
  }

  async function setPassword(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    requireLogin(request);
    const body = await readJsonObject(request);
    const problem = await auth.setPassword(body.password);
    if (problem) throw new PanelError(400, 'validation_failed', problem);
    sendJson(response, 200, sessionState(true));
  }

  async function serverStatus(): Promise<SupervisorStatus & { uptimeSeconds: number | null }> {
    if (supervisor) {
      const status = supervisor.status();
      return { ...status, uptimeSeconds: uptimeOf(status) };
    }
    // Not supervised: say what can be seen from here.
    const up = await adminAnswers(upstream, tokens.read());
    return {
      state: up ? 'running' : 'stopped',
      pid: null,
      startedAt: null,
      restarts: 0,
      lastExit: null,
      nextRestartAt: null,
      uptimeSeconds: null,
    };
  }

  function requireSupervisor(): ServerSupervisor {
    if (!supervisor)
      throw new PanelError(
        409,
        'conflict',
        'this panel does not supervise the server (started with --no-server)',
      );
    return supervisor;
  }

  async function serverAction(action: string, response: http.ServerResponse): Promise<void> {
    const running = requireSupervisor();
    if (action === 'start') running.start();
    else if (action === 'stop') await running.stop();
    else await running.restart();
    sendJson(response, 200, await serverStatus());
  }

  function serverLogs(url: URL, response: http.ServerResponse): void {
    const running = requireSupervisor();
    const after = url.searchParams.get('after');
    if (after !== null && !/^\d{1,15}$/.test(after))
      throw new PanelError(400, 'validation_failed', 'after: expected a whole number ≥ 0');
    sendJson(response, 200, running.logs(after === null ? undefined : Number(after)));
  }

  // --- the panel on the LAN ---

  let lanListener: LanListener | null = null;
  let tlsProvider: TlsProvider | null = null;

  async function startLan(): Promise<void> {
    if (lanListener) return;
    // The server's certificate store, read per connection: renewals and activations apply at once.
    tlsProvider ??= createTlsProvider(config);
    lanListener = await listenLan(server, tlsProvider, config.panel.lan.host, config.panel.lan.port);
  }

  async function stopLan(): Promise<void> {
    const listener = lanListener;
    lanListener = null;
    await listener?.close();
  }

  function currentLanUrl(): string | null {
    return lanListener ? lanUrl(lanListener.host, lanListener.port, config.hostname) : null;
  }

  function lanState() {
    return {
      enabled: lanListener !== null,
      url: currentLanUrl(),
      port: config.panel.lan.port,
      totpEnrolled: totp.enrolled(),
      recoveryCodesLeft: totp.recoveryLeft(),
    };
  }

  async function setLan(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const { enabled } = await readJsonObject(request);
    if (typeof enabled !== 'boolean')
      throw new PanelError(400, 'validation_failed', 'enabled: true or false');
    if (enabled)
      await startLan().catch((error: Error) => {
        throw new PanelError(409, 'conflict', error.message);
      });
    else await stopLan();
    writeSettings(config, { panel: { lan: { enabled } } });
    sendJson(response, 200, lanState());
  }

  async function qrOf(text: string): Promise<string> {
    return QRCode.toDataURL(text, { margin: 2, width: 240, errorCorrectionLevel: 'M' });
  }

  async function beginTotp(response: http.ServerResponse): Promise<void> {
    const enrolment = totp.begin();
    sendJson(response, 200, { ...enrolment, qr: await qrOf(enrolment.uri) });
  }

  async function confirmTotp(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const { code } = await readJsonObject(request);
    if (typeof code !== 'string' || !/^\s*\d{6}\s*$/.test(code))
      throw new PanelError(400, 'validation_failed', 'code: the 6 digits your authenticator app shows');
    const recoveryCodes = await totp.confirm(code);
    if (!recoveryCodes)
      throw new PanelError(
        400,
        'validation_failed',
        "that code does not match: check the phone's clock, or scan the QR code again",
      );
    sendJson(response, 200, { recoveryCodes, ...lanState() });
  }

  async function createDeviceLink(
    request: http.IncomingMessage,
    response: http.ServerResponse,
  ): Promise<void> {
    const { userId, expiresInSeconds } = await readJsonObject(request);
    if (typeof userId !== 'string' || !/^[\w-]{1,64}$/.test(userId))
      throw new PanelError(400, 'validation_failed', 'userId: the id of a user');
    const maxSeconds = DEVICE_LINK_TTL_MS / 1000;
    // Optional: a link that lives shorter than the usual 15 minutes (never longer).
    if (
      expiresInSeconds !== undefined &&
      (typeof expiresInSeconds !== 'number' ||
        !Number.isInteger(expiresInSeconds) ||
        expiresInSeconds < 1 ||
        expiresInSeconds > maxSeconds)
    )
      throw new PanelError(
        400,
        'validation_failed',
        `expiresInSeconds: a whole number from 1 to ${maxSeconds}`,
      );
    const base = currentLanUrl();
    if (!base)
      throw new PanelError(
        409,
        'conflict',
        'the panel is not reachable from the network: turn on "The panel from a phone" in Settings first',
      );
    const token = tokens.read();
    if (!token) throw new PanelError(503, 'server_unavailable', unavailableMessage());
    const user = await adminGet(upstream, token, `/api/users/${encodeURIComponent(userId)}`)
      .then((body) => JSON.parse(body.toString('utf8')) as { id: string; username: string })
      .catch(() => {
        throw new PanelError(404, 'not_found', `no user ${userId}`);
      });
    const link = deviceLinks.create(
      { id: user.id, address: user.username },
      expiresInSeconds === undefined ? undefined : Number(expiresInSeconds) * 1000,
    );
    const url = `${base}/device/${link.code}`;
    sendJson(response, 201, { url, qr: await qrOf(url), expiresAt: link.expiresAt, address: user.username });
  }

  /** /device/…: what a phone opens from a device link; a device session reaches nothing else. */
  async function deviceRoute(
    request: http.IncomingMessage,
    response: http.ServerResponse,
    url: URL,
  ): Promise<void> {
    request.resume();
    if (request.method !== 'GET')
      throw new PanelError(405, 'method_not_allowed', `${request.method} is not allowed here`);
    const ip = clientIp(request);
    const token = tokens.read();
    if (!token) throw new PanelError(503, 'server_unavailable', unavailableMessage());
    const file = url.pathname.slice('/device/'.length);
    if (file === 'ca.crt' || file === 'profile.mobileconfig') {
      const user = deviceLinks.userOf(parseCookies(request.headers.cookie).get(DEVICE_COOKIE));
      if (!user)
        throw new PanelError(401, 'unauthorized', 'open the device link again (it works for 15 minutes)');
      return sendDeviceFile(response, upstream, token, user, file);
    }
    checkLockout(ip);
    const used = deviceLinks.use(file);
    if (!used.ok) {
      securityLog(
        'warn',
        `device link refused: ${used.reason === 'expired' ? 'expired' : 'unknown or already used'}`,
        ip,
      );
      auth.throttle.recordFailure(ip, ip);
      return sendLinkRefused(response, used.reason);
    }
    securityLog('info', 'device link used', ip, { user: used.user.address });
    response.setHeader(
      'Set-Cookie',
      `${DEVICE_COOKIE}=${used.session}; HttpOnly; Secure; SameSite=Strict; Path=/device/; Max-Age=${DEVICE_SESSION_MS / 1000}`,
    );
    return sendDevicePage(response, upstream, token, used.user);
  }

  async function panelRoute(
    request: http.IncomingMessage,
    response: http.ServerResponse,
    url: URL,
  ): Promise<void> {
    const method = request.method ?? 'GET';
    const route = `${method} ${url.pathname}`;
    switch (route) {
      case 'GET /panel/session':
        return sendJson(response, 200, sessionState(loggedIn(request), isLan(request)));
      case 'POST /panel/login':
        return login(request, response);
      case 'GET /panel/login':
        return loginWithCode(request, response, url.searchParams.get('code'));
      case 'POST /panel/logout':
        auth.endSession(sessionOf(request));
        response.writeHead(204, {
          ...SECURITY_HEADERS,
          'Set-Cookie': `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0${isLan(request) ? '; Secure' : ''}`,
        });
        return void response.end();
      case 'POST /panel/password':
        return setPassword(request, response);
      case 'GET /panel/server':
        requireLogin(request);
        return sendJson(response, 200, await serverStatus());
      case 'POST /panel/server/start':
      case 'POST /panel/server/stop':
      case 'POST /panel/server/restart':
        requireLogin(request);
        return serverAction(url.pathname.split('/').pop()!, response);
      case 'GET /panel/server/logs':
        requireLogin(request);
        return serverLogs(url, response);
      case 'GET /panel/store/migration':
        requireLogin(request);
        return sendJson(response, 200, migration.current());
      case 'POST /panel/store/migration':
        requireLogin(request);
        return startMigration(request, response);
      case 'GET /panel/lan':
        requireLocal(request);
        return sendJson(response, 200, lanState());
      case 'POST /panel/lan':
        requireLocal(request);
        return setLan(request, response);
      case 'POST /panel/totp/begin':
        requireLocal(request);
        return beginTotp(response);
      case 'POST /panel/totp/confirm':
        requireLocal(request);
        return confirmTotp(request, response);
      case 'POST /panel/device-links':
        requireLocal(request);
        return createDeviceLink(request, response);
      default:
        throw new PanelError(404, 'not_found', `no route ${method} ${url.pathname}`);
    }
  }

  function proxyApi(request: http.IncomingMessage, response: http.ServerResponse): void {
    requireLogin(request);
    const token = tokens.read();
    const state = supervisor?.status().state;
    if (!token || state === 'stopped' || state === 'backoff' || state === 'stopping') {
      request.resume();
      return sendError(response, 503, 'server_unavailable', unavailableMessage());
    }
    proxyHttp(request, response, upstream, token, unavailableMessage);
  }

  let listenHost = options.host ?? config.panel.host;

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://panel.invalid');
    if (!hostAllowed(request, listenHost)) {
      request.resume();
      return sendError(
        response,
        421,
        'forbidden',
        'unexpected Host header (open the panel by its loopback URL)',
      );
    }
    if (isLan(request)) {
      response.setHeader('Strict-Transport-Security', HSTS);
      if (url.pathname.startsWith('/device/')) return deviceRoute(request, response, url);
    }
    const isApi = url.pathname === '/api' || url.pathname.startsWith('/api/');
    const isPanel = url.pathname.startsWith('/panel/');
    if (isApi || isPanel || MUTATING.has(request.method ?? 'GET')) {
      const problem = csrfProblem(request);
      if (problem) {
        request.resume();
        return sendError(response, 403, 'forbidden', problem);
      }
    }
    if (isApi) return proxyApi(request, response);
    if (isPanel) return panelRoute(request, response, url);
    request.resume();
    serveStatic(request, response, rendererDir, url.pathname);
  }

  const server = http.createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      request.resume();
      if (response.headersSent) return void response.destroy();
      if (error instanceof PanelError)
        return sendError(response, error.status, error.code, error.message, error.headers);
      process.stderr.write(`mallard panel: request failed: ${(error as Error).stack ?? String(error)}\n`);
      sendError(response, 500, 'internal', 'internal error in the panel host');
    });
  });
  server.on('clientError', (_error, socket) => socket.destroy());

  /** Event stream sockets: detached from the HTTP server, so close() ends them itself. */
  const upgraded = new Set<net.Socket>();
  server.on('upgrade', (request: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(request.url ?? '/', 'http://panel.invalid');
    if (url.pathname !== '/api/events')
      return refuseUpgrade(socket, 404, 'not_found', `no WebSocket at ${url.pathname}`);
    if (!hostAllowed(request, listenHost) || !sameOrigin(request))
      return refuseUpgrade(socket, 403, 'forbidden', 'WebSocket from another origin refused');
    if (!loggedIn(request)) return refuseUpgrade(socket, 401, 'unauthorized', 'not logged in to the panel');
    const token = tokens.read();
    const state = supervisor?.status().state;
    if (!token || state === 'stopped' || state === 'backoff' || state === 'stopping')
      return refuseUpgrade(socket, 503, 'server_unavailable', unavailableMessage());
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    proxyUpgrade(request, socket, head, upstream, token, unavailableMessage);
  });

  const port = options.port ?? config.panel.port;
  await new Promise<void>((resolve, reject) => {
    const refuse = (error: NodeJS.ErrnoException) => {
      const advice = error.code === 'EADDRINUSE' ? 'the port is in use by another program' : error.message;
      reject(new Error(`cannot listen on ${listenHost}:${port} (panel): ${advice}`));
    };
    server.once('error', refuse);
    server.listen(port, listenHost, () => {
      server.off('error', refuse);
      resolve();
    });
  });
  listenHost = listenHost === 'localhost' ? '127.0.0.1' : listenHost;
  const address = server.address() as net.AddressInfo;
  const url = `http://${urlHost(reachableHost(listenHost))}:${address.port}`;

  if (options.lan || config.panel.lan.enabled) {
    try {
      await startLan();
    } catch (error) {
      server.close();
      throw error;
    }
  }

  supervisor?.start();

  let closing: Promise<void> | null = null;
  return {
    url,
    supervisor,
    config,
    tokenFile: tokens.file,
    createLoginLink() {
      return `${url}/panel/login?code=${auth.createLoginCode()}`;
    },
    lanUrl: currentLanUrl,
    close() {
      return (closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        for (const socket of upgraded) socket.destroy();
        await stopLan();
        await supervisor?.stop();
        await closed;
      })());
    },
  };
}
