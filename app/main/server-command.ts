/**
 * How the Electron app runs `mallard serve` as its supervised child, and which config file it uses.
 * Plain functions of their inputs so they are tested without Electron.
 */
import path from 'node:path';

export interface ServerCommand {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

export interface ServerCommandInput {
  /** app.isPackaged: true in an installed app, false when run as `electron app/dist/main.cjs`. */
  packaged: boolean;
  /** The directory holding bin/, server/ and node_modules/ (the repository, or resources/app). */
  appRoot: string;
  /** process.execPath: the Electron (or installed app) executable. */
  execPath: string;
  env: NodeJS.ProcessEnv;
  configFile?: string;
}

/**
 * An installed app has no Node of its own, so its executable runs the server as Node
 * (ELECTRON_RUN_AS_NODE); electron-builder rebuilt better-sqlite3 for exactly that runtime.
 * From a checkout the server runs on the `node` in PATH (or MALLARD_NODE), because there
 * better-sqlite3 was built by `npm install` for Node, whose ABI differs from Electron's.
 */
export function serverCommand(input: ServerCommandInput): ServerCommand {
  const args = [path.join(input.appRoot, 'bin', 'mallard.mjs'), 'serve'];
  if (input.configFile) args.push('--config', path.resolve(input.configFile));
  if (input.packaged) {
    return { command: input.execPath, args, env: { ...input.env, ELECTRON_RUN_AS_NODE: '1' } };
  }
  const env = { ...input.env };
  delete env.ELECTRON_RUN_AS_NODE;
  return { command: input.env.MALLARD_NODE || 'node', args, env };
}

/**
 * The value of `--config FILE` or `--config=FILE` among the app's arguments, else undefined
 * (the panel host then falls back to MALLARD_CONFIG, then to the defaults).
 */
export function configFileFromArgv(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--config') {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) throw new Error('--config needs a file path');
      return path.resolve(value);
    }
    if (arg.startsWith('--config=')) {
      const value = arg.slice('--config='.length);
      if (value === '') throw new Error('--config needs a file path');
      return path.resolve(value);
    }
  }
  return undefined;
}
