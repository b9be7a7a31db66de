/**
 * `mallard panel` (the headless control panel) and `mallard start` (the Electron app where it can
 * run, else the headless panel). bin/mallard.mjs sends these two commands here, so that
 * server/cli never imports app/.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../server/config/load.ts';
import { MALLARD_BIN, REPO_ROOT, startPanelHost, type PanelHost } from './host.ts';
import { isLoopbackHost } from './loopback-host.ts';
import { installService } from './service.ts';

const PANEL_USAGE = `usage: mallard panel [--config FILE] [--port N] [--host H] [--no-server] [--lan]
       mallard panel --install-service [--user NAME] [--config FILE] [--port N] [--host H] [--dry-run]

Serves the control panel over HTTP (default 127.0.0.1:8026, panel.host/panel.port) and runs the
mail server under supervision (restarted when it dies). --no-server only serves the panel, for a
server started otherwise. --lan also serves it over HTTPS to the local network (panel.lan, default
port 8443; the admin password plus a two-factor code). --install-service writes a systemd unit that starts it at boot.
`;

const EXIT_USAGE = 64;
const EXIT_CONFIG = 78;

const RENDERER_INDEX = path.join(REPO_ROOT, 'renderer', 'dist', 'index.html');
const ELECTRON_MAIN = path.join(REPO_ROOT, 'app', 'dist', 'main.cjs');

function out(text: string): void {
  process.stdout.write(text);
}

function err(text: string): void {
  process.stderr.write(text);
}

function parsePanelArgs(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'no-server': { type: 'boolean' },
      lan: { type: 'boolean' },
      'install-service': { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      user: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`);
  let port: number | undefined;
  if (values.port !== undefined) {
    if (!/^\d{1,5}$/.test(values.port) || Number(values.port) > 65535)
      throw new UsageError(`--port: expected a port number from 0 to 65535, got ${values.port}`);
    port = Number(values.port);
  }
  if (values.user !== undefined && !/^[a-z_][a-z0-9_-]{0,31}\$?$/i.test(values.user))
    throw new UsageError(`--user: not a valid user name: ${values.user}`);
  if ((values['dry-run'] || values.user) && !values['install-service'])
    throw new UsageError('--dry-run and --user go with --install-service');
  return { ...values, port };
}

class UsageError extends Error {}

/** Builds renderer/dist with vite when it is missing, saying so. Returns false when that failed. */
export function ensureRendererBuilt(): boolean {
  if (fs.existsSync(RENDERER_INDEX)) return true;
  err('The control panel is not built yet: building it now (npx vite build)…\n');
  const result = spawnSync('npx', ['vite', 'build'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.status === 0 && fs.existsSync(RENDERER_INDEX)) return true;
  err('The build failed; the panel will say so in the browser. Run `npx vite build` to see why.\n');
  return false;
}

function printWelcome(host: PanelHost, supervised: boolean): void {
  out(`Mallard control panel: ${host.url}/\n`);
  out(`Log in with this one-time link (valid 10 minutes): ${host.createLoginLink()}\n`);
  out(
    `Later, log in with the admin token (in ${host.tokenFile}) or with the admin password you set in the panel;\n` +
      'run `mallard panel` again for a new one-time link.\n',
  );
  out(
    supervised
      ? 'The mail server runs under this panel and is restarted when it stops unexpectedly.\n'
      : 'The mail server is not started by this panel (--no-server).\n',
  );
  const lan = host.lanUrl();
  if (lan)
    out(
      `On the local network (phones): ${lan}/ — HTTPS with the server's certificate; log in with the admin password\n` +
        'and a two-factor code (set it up on the Settings page first).\n',
    );
  out('Press Ctrl+C to stop.\n');
}

async function runPanel(values: ReturnType<typeof parsePanelArgs>): Promise<number> {
  ensureRendererBuilt();
  const host = await startPanelHost({
    configFile: values.config,
    host: values.host,
    port: values.port,
    supervise: !values['no-server'],
    lan: values.lan,
  });
  // The server's own log is JSON on its stdout; a person at this terminal wants to know what the
  // supervisor did and what the server complained about.
  host.supervisor?.on('log', (line) => {
    if (line.stream !== 'stdout') err(`[server] ${line.text}\n`);
  });
  printWelcome(host, host.supervisor !== null);
  const listen = values.host ?? host.config.panel.host;
  if (!isLoopbackHost(listen))
    err(
      `Warning: the panel listens on ${listen}, beyond this machine, over plain HTTP: passwords and the ` +
        'session cookie cross the network unencrypted. Prefer 127.0.0.1 and an SSH tunnel (ssh -L 8026:127.0.0.1:8026 host).\n',
    );
  await new Promise<void>((resolve) => {
    let signals = 0;
    const stop = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        err(`mallard panel: ${signal} again, exiting now\n`);
        process.exit(130);
      }
      err(`mallard panel: ${signal}: stopping the mail server and the panel…\n`);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await host.close();
  err('mallard panel: stopped\n');
  return 0;
}

export async function panelCommand(argv: string[]): Promise<number> {
  let values: ReturnType<typeof parsePanelArgs>;
  try {
    values = parsePanelArgs(argv);
  } catch (error) {
    err(`mallard panel: ${(error as Error).message}\n\n${PANEL_USAGE}`);
    return EXIT_USAGE;
  }
  if (values.help) {
    out(PANEL_USAGE);
    return 0;
  }
  if (values['install-service']) {
    const config = loadConfig({ file: values.config });
    const panelArgs = [
      ...(values.port !== undefined ? ['--port', String(values.port)] : []),
      ...(values.host !== undefined ? ['--host', values.host] : []),
    ];
    return installService(
      {
        node: process.execPath,
        bin: MALLARD_BIN,
        workingDirectory: REPO_ROOT,
        configFile: values.config,
        user: values.user,
        config,
        panelArgs,
      },
      values['dry-run'] ?? false,
      { out },
    );
  }
  return runPanel(values);
}

/**
 * Where the Electron binary is, or why Electron cannot run here. The path is worked out the way
 * the `electron` package does it (path.txt in the package, ELECTRON_OVERRIDE_DIST_PATH), but
 * without requiring the package: its index downloads a missing binary, and starting the panel must
 * not reach for the network.
 */
export function electronAvailability(
  env: NodeJS.ProcessEnv = process.env,
): { reason: string } | { binary: string } {
  if (process.platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY)
    return { reason: 'there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set)' };
  let packageDir: string;
  try {
    packageDir = path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return { reason: 'the electron package is not installed (npm install installs it)' };
  }
  let executable = '';
  try {
    executable = fs.readFileSync(path.join(packageDir, 'path.txt'), 'utf8').trim();
  } catch {
    // no path.txt: the binary was never downloaded
  }
  const override = env.ELECTRON_OVERRIDE_DIST_PATH;
  const binary = override
    ? path.join(override, executable || 'electron')
    : executable
      ? path.join(packageDir, 'dist', executable)
      : '';
  if (!binary || !fs.existsSync(binary)) {
    // Electron fetches its binary on first use, not at npm install: say where we looked and how.
    const looked = binary || path.join(packageDir, 'dist');
    return {
      reason: `the Electron binary is not downloaded yet (looked for ${looked}); run \`npx install-electron\` once to fetch it`,
    };
  }
  return { binary };
}

function ensureElectronBuilt(): boolean {
  if (fs.existsSync(ELECTRON_MAIN)) return true;
  err('The desktop app is not built yet: building it now (node app/build.mjs)…\n');
  const result = spawnSync(process.execPath, [path.join(REPO_ROOT, 'app', 'build.mjs')], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return result.status === 0 && fs.existsSync(ELECTRON_MAIN);
}

export async function startCommand(argv: string[]): Promise<number> {
  const electron = electronAvailability();
  if ('reason' in electron) {
    out(`mallard start: ${electron.reason}; starting the headless panel instead (mallard panel).\n`);
    return panelCommand(argv);
  }
  if (!ensureElectronBuilt()) {
    out(
      'mallard start: the desktop app could not be built; starting the headless panel instead (mallard panel).\n',
    );
    return panelCommand(argv);
  }
  ensureRendererBuilt();
  const child = spawn(electron.binary, [ELECTRON_MAIN, ...argv], { cwd: REPO_ROOT, stdio: 'inherit' });
  return new Promise((resolve) => {
    child.on('error', (error) => {
      err(`mallard start: cannot run Electron: ${error.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  try {
    if (name === 'panel') return await panelCommand(rest);
    if (name === 'start') return await startCommand(rest);
    err(`mallard: unknown command: ${name}\n`);
    return EXIT_USAGE;
  } catch (error) {
    err(`mallard ${name}: ${(error as Error).message}\n`);
    return (error as Error).name === 'ConfigError' ? EXIT_CONFIG : 1;
  }
}
