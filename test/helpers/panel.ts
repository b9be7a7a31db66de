/**
 * The control panel under test: `mallard panel` as a real OS process (with the real server it
 * supervises) on free loopback ports, the renderer built once, and headless Chromium through
 * playwright-core (Debian's /usr/bin/chromium).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { MALLARD_BIN, ROOT, makeDataDir } from './cli.ts';
import { freePort } from './ports.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'panel');
export const RENDERER_DIST = path.join(ROOT, 'renderer', 'dist');

export interface PanelPorts {
  imap: number;
  imaps: number;
  pop3: number;
  pop3s: number;
  lmtp: number;
  smtp: number;
  admin: number;
  panel: number;
}

export interface RunningPanel {
  /** http://127.0.0.1:PORT (no trailing slash) */
  url: string;
  /** The one-time login link `mallard panel` printed. */
  loginLink: string;
  adminToken: string;
  ports: PanelPorts;
  dataDir: string;
  configFile: string;
  process: ChildProcess;
  /** Everything the panel printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, wait for a clean exit; returns the exit code. Removes the data dir. */
  stop(): Promise<number | null>;
}

export interface StartPanelOptions {
  env?: NodeJS.ProcessEnv;
  /** YAML merged over the generated configuration (e.g. "limits: {max_message_size: 1000}"). */
  configYaml?: string;
  /** Extra `mallard panel` arguments (e.g. --no-server). */
  args?: string[];
  /** `start` runs `mallard start`, which falls back to the panel where Electron cannot run. */
  command?: 'panel' | 'start';
  /** Leave the first-run wizard to open by itself (default: the data dir starts with it finished). */
  firstRun?: boolean;
  /** Wait until the supervised server runs (default true; false with --no-server). */
  waitForServer?: boolean;
  timeoutMs?: number;
}

export async function freePorts(): Promise<PanelPorts> {
  // Distinct: asked for while the earlier ones are still held would be better, but the OS hands
  // out ephemeral ports in sequence, so a repeat within one call is retried instead.
  const taken = new Set<number>();
  const next = async () => {
    for (;;) {
      const port = await freePort();
      if (!taken.has(port)) {
        taken.add(port);
        return port;
      }
    }
  };
  return {
    imap: await next(),
    imaps: await next(),
    pop3: await next(),
    pop3s: await next(),
    lmtp: await next(),
    smtp: await next(),
    admin: await next(),
    panel: await next(),
  };
}

type Tree = Record<string, unknown>;

function deepMerge(base: Tree, extra: Tree): Tree {
  const result: Tree = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = result[key];
    result[key] =
      typeof value === 'object' && value && !Array.isArray(value) && typeof current === 'object' && current
        ? deepMerge(current as Tree, value as Tree)
        : value;
  }
  return result;
}

export function panelConfig(dataDir: string, ports: PanelPorts, configYaml?: string): Tree {
  const base: Tree = {
    data_dir: dataDir,
    hostname: 'localhost',
    log_level: 'info',
    imap: { host: '127.0.0.1', port: ports.imap, tls_port: ports.imaps },
    pop3: { host: '127.0.0.1', port: ports.pop3, tls_port: ports.pop3s },
    lmtp: { host: '127.0.0.1', port: ports.lmtp },
    smtp: { host: '127.0.0.1', port: ports.smtp },
    // Submission (587/465) is not what these tests are about: off, so no privileged port is needed.
    submission: { enabled: false, host: '127.0.0.1' },
    // Nor is the autoconfiguration server (443).
    web: { enabled: false, host: '127.0.0.1' },
    // Nor ManageSieve, whose fixed port (4190) two panels at once would both want.
    managesieve: { enabled: false, host: '127.0.0.1' },
    // Mail for other domains is looked up only on loopback, where nothing answers.
    dns: { servers: ['127.0.0.1:9'] },
    admin: { host: '127.0.0.1', port: ports.admin },
    panel: { host: '127.0.0.1', port: ports.panel },
  };
  const extra = configYaml ? (parseYaml(configYaml) as Tree | null) : null;
  return extra ? deepMerge(base, extra) : base;
}

/** Environment variables that would override the test's configuration file. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('MALLARD_')) env[key] = value;
  return { ...env, ...extra };
}

async function waitFor<T>(
  what: string,
  deadline: number,
  probe: () => Promise<T | null>,
  dump: () => string,
) {
  for (;;) {
    const value = await probe().catch(() => null);
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; panel output:\n${dump()}`);
    await sleep(100);
  }
}

/** Logs in with the admin token and returns the session cookie (name=value). */
export async function loginCookie(url: string, token: string): Promise<string> {
  const response = await fetch(`${url}/panel/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Mallard-Panel': '1' },
    body: JSON.stringify({ token }),
  });
  if (response.status !== 200) throw new Error(`login with the token failed: HTTP ${response.status}`);
  const cookie = response.headers.get('set-cookie') ?? '';
  return cookie.split(';')[0]!;
}

export async function startPanel(options: StartPanelOptions = {}): Promise<RunningPanel> {
  const dataDir = makeDataDir('mallard-panel-');
  const ports = await freePorts();
  const configFile = path.join(dataDir, 'test-config.yaml');
  fs.writeFileSync(configFile, stringifyYaml(panelConfig(dataDir, ports, options.configYaml)));
  // Tests of the other pages start where an admin who finished the wizard would.
  if (!options.firstRun) fs.writeFileSync(path.join(dataDir, 'setup.json'), '{"completed": true}\n');
  const child = spawn(
    process.execPath,
    [MALLARD_BIN, options.command ?? 'panel', '--config', configFile, ...(options.args ?? [])],
    {
      cwd: ROOT,
      env: cleanEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const dump = () => output;
  try {
    const loginLink = await waitFor(
      'the login link',
      deadline,
      async () => {
        if (child.exitCode !== null) throw new Error(`mallard panel exited (${child.exitCode}):\n${output}`);
        return /(http:\/\/\S+\/panel\/login\?code=[\w-]+)/.exec(output)?.[1] ?? null;
      },
      dump,
    );
    const url = new URL(loginLink).origin;
    const adminToken = fs.readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim();
    if (options.waitForServer ?? !(options.args ?? []).includes('--no-server')) {
      const cookie = await loginCookie(url, adminToken);
      await waitFor(
        'the supervised server',
        deadline,
        async () => {
          if (child.exitCode !== null)
            throw new Error(`mallard panel exited (${child.exitCode}):\n${output}`);
          const response = await fetch(`${url}/panel/server`, { headers: { cookie } });
          const status = (await response.json()) as { state: string };
          return status.state === 'running' ? true : null;
        },
        dump,
      );
    }
    return {
      url,
      loginLink,
      adminToken,
      ports,
      dataDir,
      configFile,
      process: child,
      output: dump,
      async stop() {
        if (child.exitCode === null) child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        const code = await exited;
        clearTimeout(timer);
        fs.rmSync(dataDir, { recursive: true, force: true });
        return code;
      },
    };
  } catch (error) {
    child.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/** Builds renderer/dist once (across parallel test files, under a lock) when it is missing. */
export async function ensureRendererBuilt(): Promise<void> {
  const index = path.join(RENDERER_DIST, 'index.html');
  if (fs.existsSync(index)) return;
  const lock = path.join(os.tmpdir(), 'mallard-renderer-build.lock');
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // Another test file builds it; a lock older than 5 minutes belongs to a dead build.
      const age = Date.now() - fs.statSync(lock, { throwIfNoEntry: false })!.mtimeMs;
      if (age > 5 * 60_000) fs.rmSync(lock, { recursive: true, force: true });
      if (fs.existsSync(index)) return;
      if (Date.now() > deadline) throw new Error('timed out waiting for another renderer build');
      await sleep(500);
    }
  }
  try {
    if (fs.existsSync(index)) return;
    const result = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'vite'), ['build'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (result.status !== 0 || !fs.existsSync(index))
      throw new Error(`vite build failed:\n${result.stdout}\n${result.stderr}`);
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Chromium {
  context: import('playwright-core').BrowserContext;
  userDataDir: string;
  close(): Promise<void>;
}

/** Debian's Chromium, headless, with a fresh profile (a persistent context on a temp dir). */
export async function launchChromium(): Promise<Chromium> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
  const { chromium } = await import('playwright-core');
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 860 },
  });
  return {
    context,
    userDataDir,
    async close() {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Console errors and uncaught page errors, collected as they happen. */
export function collectConsoleErrors(page: import('playwright-core').Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  return errors;
}

/** Saves a full-page screenshot as test-artifacts/panel/<name>.png; returns its path. */
export async function screenshot(page: import('playwright-core').Page, name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name.replace(/[^\w.-]+/g, '-')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** A logged-in panel page: what the browser tests of the panel's pages start from. */
export interface PanelPage {
  panel: RunningPanel;
  browser: Chromium;
  page: import('playwright-core').Page;
  /** Console and page errors as they happen (collectConsoleErrors). */
  errors: string[];
}

export interface OpenPanelPageOptions extends StartPanelOptions {
  /** Runs after the panel started and before the browser opens (API set-up that holds the server). */
  beforeBrowser?: (panel: RunningPanel) => Promise<void>;
}

/**
 * The set-up the page tests share: the renderer built, `mallard panel` started, Chromium on a
 * fresh page collecting console errors, logged in with the one-time link, the shell on screen.
 */
export async function openPanelPage(options: OpenPanelPageOptions = {}): Promise<PanelPage> {
  await ensureRendererBuilt();
  const panel = await startPanel(options);
  let browser: Chromium | undefined;
  try {
    await options.beforeBrowser?.(panel);
    browser = await launchChromium();
    const page = await browser.context.newPage();
    const errors = collectConsoleErrors(page);
    await page.goto(panel.loginLink);
    await page.getByRole('navigation').first().waitFor({ timeout: 60_000 });
    return { panel, browser, page, errors };
  } catch (error) {
    await browser?.close();
    await panel.stop();
    throw error;
  }
}
