// The prebuilt bundles of the `mallard` command, and whether they are up to date with the sources.
//
//   server/cli/main.ts         → bin/dist/cli.mjs    every command but panel and start (serve included)
//   app/panel/cli.ts           → bin/dist/panel.mjs  `mallard panel` and `mallard start`
//   server/cli/deliver-main.ts → bin/dist/deliver-HASH.cjs  `mallard deliver` alone
//                                (a script: see SCRIPTS in bin/launch.cjs)
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
import { BUNDLES, DEPENDENCY_FILES, DIST, ROOT, SCRIPTS, sha1 } from './launch.cjs';

// What every start needs (which bundle is fresh, how to run a script) is in launch.cjs.
export { BUNDLES, DIST, ENTRIES, freshBundle, ROOT, runScript, SCRIPTS } from './launch.cjs';

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
      // A script has no import.meta: its own URL comes from __filename (runScript passes it).
      const base = format === 'esm' ? 'import.meta.url' : 'require("node:url").pathToFileURL(__filename)';
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
 * The scripts (SCRIPTS), one file each, named by their content: a code cache is kept per file name
 * (V8 checks a cache against its source's length only, not its bytes). What a script imports
 * dynamically is in the file too (zod for a configuration the quick check leaves to it, the MongoDB
 * store), compiled only when first called; the MongoDB driver stays external, required then.
 */
function buildScripts(build, staging) {
  return build({
    ...COMMON,
    entryPoints: SCRIPTS,
    outdir: staging,
    entryNames: '[name]-[hash]',
    outExtension: { '.js': '.cjs' },
    format: 'cjs',
    // The sqlite driver is bundled (SCRIPT_EDITS); `bindings`, its search for the addon, is not
    // used: database.ts names the addon's file.
    external: [...EXTERNAL.filter((name) => name !== 'better-sqlite3'), 'bindings'],
    plugins: [sourceUrls('cjs'), englishZod],
  });
}

/** Builds the bundles and the manifest; concurrent builds (two commands at once) do not clash. */
export async function buildBundles() {
  const { build } = await import('esbuild');
  const staging = fs.mkdtempSync(path.join(ROOT, 'bin', '.dist-'));
  try {
    const [modules, scripts] = await Promise.all([
      buildModules(build, staging),
      buildScripts(build, staging),
    ]);
    const bundles = {
      ...bundleContents(modules.metafile, staging, BUNDLES),
      ...bundleContents(scripts.metafile, staging, SCRIPTS),
    };
    const inputs = {};
    for (const bundle of Object.values(bundles))
      for (const relative of bundle.inputs) inputs[relative] ??= describe(relative);
    for (const relative of DEPENDENCY_FILES) inputs[relative] = describe(relative);
    const manifest = { node: process.versions.modules, builtAt: new Date().toISOString(), bundles, inputs };
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
