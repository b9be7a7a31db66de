// The prebuilt bundles of the `mallard` command, and whether they are up to date with the sources.
//
//   server/cli/main.ts   → bin/dist/cli.mjs       every command but panel and start (serve included)
//   app/panel/cli.ts     → bin/dist/panel.mjs     `mallard panel` and `mallard start`
//   server/cli/commands/ → bin/dist/NAME-HASH.cjs  the commands of main.ts but serve, in scripts of
//                          their own or a few to a script (see bundleName in bin/launch.cjs)
//
// Loading TypeScript through tsx costs about half a second per start (resolving and compiling
// hundreds of modules); an MTA that pipes each message to `mallard deliver` pays it every time. A
// bundle loads in a few tens of milliseconds. bin/mallard.cjs runs a bundle only when it is fresh:
// bin/dist/manifest.json lists, per bundle, every project file that went into it or into a chunk it
// may load (esbuild's metafile), with its size, mtime and hash, plus the lock files that change when
// dependencies do; a command checks only its own bundle's inputs. A changed input makes the bundle
// stale (a file that is new to the bundle is always imported by one that changed), and
// bin/mallard.cjs then rebuilds them (esbuild is a devDependency) or, without esbuild, runs the
// sources through tsx. So a bundle never runs code older than the checkout.
//
// Built by `npm run build:cli` (part of `npm run build`, which `npm test` runs), by `npm install`
// (the prepare script), and on demand by bin/mallard.cjs. Native modules and the MongoDB driver stay
// external and load from node_modules; the server's own modules that only some commands need stay
// lazily evaluated inside the bundle (esbuild keeps dynamic imports lazy).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLES, DEPENDENCY_FILES, DIST, ROOT, sha1 } from './launch.cjs';

// What every start needs (which bundle is fresh, how to run a script) is in launch.cjs.
export { BUNDLES, bundleName, DIST, freshBundle, ROOT, runScript } from './launch.cjs';

const MANIFEST = path.join(DIST, 'manifest.json');

/**
 * Worker threads the bundles start, built as entries of their own (server/thread-entry.ts finds
 * them): run from the sources, each thread would load tsx (about 20 MB apiece). They belong to
 * every bundle: a change to one of their inputs makes the bundles stale.
 */
export const THREADS = {
  'store-thread': 'server/store/sqlite/thread-worker.ts',
  'parse-worker': 'server/imap/offload/worker.ts',
};

/** Packages with compiled parts, the MongoDB driver (loaded only for that engine), and Electron. */
export const EXTERNAL = [
  'better-sqlite3',
  '@node-rs/argon2',
  'mongodb',
  'electron',
  // optional native helpers of ws, required inside try/catch
  'bufferutil',
  'utf-8-validate',
];

function describe(relative) {
  const file = path.join(ROOT, relative);
  try {
    const stat = fs.statSync(file);
    return { size: stat.size, mtimeMs: stat.mtimeMs, sha1: sha1(file) };
  } catch {
    return null;
  }
}

/**
 * zod carries error messages in some forty languages (a third of its code) and configures English
 * when it loads. Mallard's messages are its own, in English: every other locale is left out, which
 * every command that reads the configuration (all of them) feels at start-up.
 */
const englishZod = {
  name: 'english-zod',
  setup(build) {
    build.onResolve({ filter: /^\.\/[a-zA-Z-]+\.js$/ }, (args) => {
      if (!/[\\/]zod[\\/]v4[\\/]locales$/.test(args.resolveDir) || args.path === './en.js') return undefined;
      return { path: args.path, namespace: 'zod-locale-left-out' };
    });
    build.onLoad({ filter: /.*/, namespace: 'zod-locale-left-out' }, () => ({
      contents:
        'export default function leftOut() { throw new Error("zod locale left out of the mallard bundle"); }',
      loader: 'js',
    }));
  },
};

/**
 * Our modules locate files from import.meta.url (../package.json, the repository root). In a bundle
 * that would be the bundle's own URL, so each occurrence is replaced by the URL of the source file,
 * relative to the bundle: the bundle keeps working wherever the repository is.
 */
const sourceUrls = (format) => ({
  name: 'source-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      let text = await fs.promises.readFile(args.path, 'utf8');
      if (format === 'cjs') text = withScriptEdits(args.path, text);
      if (!text.includes('import.meta.url')) return { contents: text, loader: 'ts' };
      const relative = path.relative(DIST, args.path).split(path.sep).join('/');
      // A script has no import.meta: its own URL is computed at its top (see buildScripts).
      const base = format === 'esm' ? 'import.meta.url' : '__mallardScriptUrl';
      const url = `new URL(${JSON.stringify(relative)}, ${base}).href`;
      return { contents: text.replaceAll('import.meta.url', url), loader: 'ts' };
    });
  },
});

/**
 * The sqlite driver's JavaScript goes into a script (only its compiled addon loads from
 * node_modules): required from node_modules it is a dozen CommonJS files, each resolved, read and
 * compiled at every start (some 5 ms of a delivery), where in the script V8's code cache has it.
 * The sources load the driver with a require() of their own (see server/store/sqlite/database.ts),
 * which esbuild cannot follow; a script gets a plain require() there, which it can.
 */
const SCRIPT_EDITS = [
  {
    file: 'server/store/sqlite/database.ts',
    from: "requireHere('better-sqlite3')",
    to: "require('better-sqlite3')",
  },
];

function withScriptEdits(file, text) {
  const relative = path.relative(ROOT, file).split(path.sep).join('/');
  for (const edit of SCRIPT_EDITS.filter((candidate) => candidate.file === relative)) {
    // A source that no longer reads as expected fails the build rather than the delivery.
    if (!text.includes(edit.from)) throw new Error(`${relative} no longer contains ${edit.from}`);
    text = text.replace(edit.from, edit.to);
  }
  return text;
}

/**
 * Each bundle's output files (its entry, the chunks it imports or may import later, their source
 * maps) and project inputs, from esbuild's metafile; `entries` names the bundles of this build.
 */
function bundleContents(metafile, staging, entries) {
  const outputs = metafile.outputs;
  // The threads' entries of this build (the module build has them; the scripts' build does not).
  const threads = Object.values(THREADS)
    .map((source) => Object.keys(outputs).find((output) => outputs[output].entryPoint === source))
    .filter((output) => output !== undefined);
  const contents = {};
  for (const [name, entryPoint] of Object.entries(entries)) {
    const entry = Object.keys(outputs).find((output) => outputs[output].entryPoint === entryPoint);
    const files = new Set();
    const inputs = new Set();
    const pending = [entry, ...threads];
    while (pending.length > 0) {
      const output = pending.pop();
      const file = path.basename(output);
      if (files.has(file)) continue;
      files.add(file);
      if (fs.existsSync(path.join(staging, `${file}.map`))) files.add(`${file}.map`);
      for (const input of Object.keys(outputs[output].inputs)) {
        if (!input.split('/').includes('node_modules') && !input.includes(':')) inputs.add(input);
      }
      for (const imported of outputs[output].imports) if (!imported.external) pending.push(imported.path);
    }
    contents[name] = { file: path.basename(entry), files: [...files].sort(), inputs: [...inputs].sort() };
  }
  return contents;
}

/** The files of the build that bin/dist/manifest.json describes now (none without one). */
function currentBuildFiles() {
  try {
    const manifest = JSON.parse(fs.readFileSync(MANIFEST, 'utf8'));
    return Object.values(manifest.bundles ?? {}).flatMap((bundle) => bundle.files ?? []);
  } catch {
    return [];
  }
}

/**
 * Removes what earlier builds left in bin/dist: every file that is neither part of the new build
 * nor of the one just before it. That one is kept because a process started from it a moment ago
 * (or a running server) may still import one of its chunks when it first needs it; chunks are named
 * by their content, so the two builds share every file that did not change. Dot files are caches:
 * Node's compile cache stays, a script's code cache goes with its script.
 */
function removeStaleFiles(keep) {
  for (const file of fs.readdirSync(DIST)) {
    if (keep.has(file)) continue;
    const cacheOf = /^\.(.+)\.v8cache$/.exec(file)?.[1];
    if (file.startsWith('.') && !(cacheOf && !keep.has(cacheOf))) continue;
    fs.rmSync(path.join(DIST, file), { force: true });
  }
}

/** What both builds share. */
const COMMON = {
  absWorkingDir: ROOT,
  bundle: true,
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
};

/** The ES module bundles (BUNDLES), split into chunks. */
function buildModules(build, staging) {
  return build({
    ...COMMON,
    entryPoints: { ...BUNDLES, ...THREADS },
    outdir: staging,
    outExtension: { '.js': '.mjs' },
    // Modules that only some commands import (dynamically) go to chunks of their own, loaded
    // when imported: `user list` neither reads the server's listeners nor loads the MongoDB driver.
    splitting: true,
    // Beside the entries, so that each module's path relative to its output file is known.
    chunkNames: '[name]-[hash]',
    format: 'esm',
    plugins: [sourceUrls('esm'), englishZod],
    // CommonJS dependencies call require() for Node's modules: give the ES module bundle one.
    // __mallardDist tells server/thread-entry.ts that it runs from here.
    banner: {
      js: "import { createRequire as __mallardCreateRequire } from 'node:module'; const require = __mallardCreateRequire(import.meta.url); const __mallardDist = import.meta.url;",
    },
  });
}

/**
 * Commands that share a script: they need the same modules (the configuration, both stores, the
 * admin API's client), so one script serves each group as fast as one of its own would, and the
 * build writes it once (each script costs the build about as much as the whole of cli.mjs).
 * Every other command of main.ts but `serve` has a script of its own, named after it.
 */
const SHARED_SCRIPTS = {
  admin: ['user', 'alias', 'domain', 'spam', 'sieve', 'filters', 'forward', 'vacation', 'rule'],
  store: ['mailbox', 'message', 'status', 'db', 'queue', 'sessions'],
};

/**
 * The scripts to build: name → the commands of server/cli/main.ts it runs ({ name, file,
 * exported }). Read from main.ts's COMMANDS, so that a command exists in one list; one this misses
 * runs from cli.mjs. `serve` is left out: it runs for long, and its threads find their bundles
 * beside cli.mjs.
 */
export function commandScripts() {
  const main = fs.readFileSync(path.join(ROOT, BUNDLES.cli), 'utf8');
  const line = /([\w-]+):\s*async\s*\(\)\s*=>\s*\(await import\('\.\/commands\/([\w-]+)\.ts'\)\)\.(\w+)/g;
  const scripts = {};
  for (const [, name, file, exported] of main.matchAll(line)) {
    if (name === 'serve') continue;
    const script =
      Object.keys(SHARED_SCRIPTS).find((shared) => SHARED_SCRIPTS[shared].includes(name)) ?? name;
    (scripts[script] ??= []).push({ name, file, exported });
  }
  return scripts;
}

/**
 * A script's entry (a module of the `mallard-command` namespace, named after the script): its
 * commands run as main.ts runs them, each loaded when it runs, with nothing of the other commands.
 */
const commandEntries = (scripts) => ({
  name: 'command-entries',
  setup(build) {
    build.onResolve({ filter: /^mallard-command:/ }, (args) => ({
      path: args.path.slice('mallard-command:'.length),
      namespace: 'mallard-command',
    }));
    build.onLoad({ filter: /.*/, namespace: 'mallard-command' }, (args) => ({
      contents: [
        "import { commandArgs, runCommand } from './run-command.ts';",
        'const COMMANDS = {',
        ...scripts[args.path].map(
          ({ name, file, exported }) =>
            `  ${JSON.stringify(name)}: async () => (await import('./commands/${file}.ts')).${exported},`,
        ),
        '};',
        'const [name, ...rest] = commandArgs(process.argv.slice(2));',
        'void runCommand(async () => (await COMMANDS[name]())(rest));',
      ].join('\n'),
      resolveDir: path.join(ROOT, 'server', 'cli'),
      loader: 'ts',
    }));
  },
});

/** Script name → its entry, for esbuild and for bundleContents. */
const scriptEntries = (scripts) =>
  Object.fromEntries(Object.keys(scripts).map((script) => [script, `mallard-command:${script}`]));

/**
 * The scripts (commandScripts), one file each, named by their content: a code cache is kept per
 * file name (V8 checks a cache against its source's length only, not its bytes). What a script
 * imports dynamically is in the file too (zod for a configuration the quick check leaves to it, the
 * MongoDB store), compiled only when first called; the MongoDB driver stays external, required then.
 */
function buildScripts(build, staging, scripts) {
  return build({
    ...COMMON,
    entryPoints: scriptEntries(scripts),
    outdir: staging,
    entryNames: '[name]-[hash]',
    outExtension: { '.js': '.cjs' },
    format: 'cjs',
    // The sqlite driver is bundled (SCRIPT_EDITS); `bindings`, its search for the addon, is not
    // used: database.ts names the addon's file.
    external: [...EXTERNAL.filter((name) => name !== 'better-sqlite3'), 'bindings'],
    plugins: [commandEntries(scripts), sourceUrls('cjs'), englishZod],
    // A source map per script would be most of the build's time. Node uses none without
    // --enable-source-maps, and a script is not minified: a stack trace's line reads as it is,
    // under esbuild's comment naming the source file.
    sourcemap: false,
    // A script has no import.meta.url: its own URL, for sourceUrls, computed at its top, where no
    // module's own `require` can shadow the script's.
    banner: { js: 'const __mallardScriptUrl = require("node:url").pathToFileURL(__filename);' },
  });
}

/** Builds the bundles and the manifest; concurrent builds (two commands at once) do not clash. */
export async function buildBundles() {
  const { build } = await import('esbuild');
  const staging = fs.mkdtempSync(path.join(ROOT, 'bin', '.dist-'));
  try {
    const scripts = commandScripts();
    const [modules, built] = await Promise.all([
      buildModules(build, staging),
      buildScripts(build, staging, scripts),
    ]);
    const bundles = {
      ...bundleContents(modules.metafile, staging, BUNDLES),
      ...bundleContents(built.metafile, staging, scriptEntries(scripts)),
    };
    // Which script runs each command (see bundleName in launch.cjs).
    const commands = Object.fromEntries(
      Object.entries(scripts).flatMap(([script, entries]) => entries.map(({ name }) => [name, script])),
    );
    const inputs = {};
    for (const bundle of Object.values(bundles))
      for (const relative of bundle.inputs) inputs[relative] ??= describe(relative);
    for (const relative of DEPENDENCY_FILES) inputs[relative] = describe(relative);
    const manifest = {
      node: process.versions.modules,
      builtAt: new Date().toISOString(),
      bundles,
      commands,
      inputs,
    };
    fs.writeFileSync(path.join(staging, 'manifest.json'), `${JSON.stringify(manifest)}\n`);
    fs.mkdirSync(DIST, { recursive: true });
    const previous = currentBuildFiles();
    // Chunks and scripts first (named by their content, so no file a running process uses
    // changes), then the entries, then the manifest; each rename is atomic, so whoever sees a new
    // file finds what it imports.
    const rank = (file) =>
      file === 'manifest.json'
        ? 2
        : Object.hasOwn(BUNDLES, file.split('.')[0]) || Object.hasOwn(THREADS, file.split('.')[0])
          ? 1
          : 0;
    const files = fs.readdirSync(staging).sort((a, b) => rank(a) - rank(b));
    for (const file of files) fs.renameSync(path.join(staging, file), path.join(DIST, file));
    removeStaleFiles(new Set([...files, ...previous]));
    return Object.values(bundles).map((bundle) => ({
      file: path.relative(ROOT, path.join(DIST, bundle.file)),
      bytes: fs.statSync(path.join(DIST, bundle.file)).size,
    }));
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // --if-possible (the prepare script): an install without devDependencies has no esbuild, and
  // the command then runs from the sources.
  const optional = process.argv.includes('--if-possible');
  buildBundles().then(
    (outputs) => {
      for (const { file, bytes } of outputs)
        process.stdout.write(`${file}  ${(bytes / 1024).toFixed(1)} KiB\n`);
    },
    (error) => {
      if (optional && error?.code === 'ERR_MODULE_NOT_FOUND') {
        process.stdout.write('esbuild is not installed: `mallard` will run from the TypeScript sources\n');
        return;
      }
      process.stderr.write(`cli build failed: ${error.message}\n`);
      process.exitCode = 1;
    },
  );
}
