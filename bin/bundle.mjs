// The prebuilt bundles of the `mallard` command, and whether they are up to date with the sources.
//
//   server/cli/main.ts → bin/dist/cli.mjs    every command but panel and start (serve included)
//   app/panel/cli.ts   → bin/dist/panel.mjs  `mallard panel` and `mallard start`
//
// Loading TypeScript through tsx costs about half a second per start (resolving and compiling
// hundreds of modules); an MTA that pipes each message to `mallard deliver` pays it every time. A
// bundle loads in a few tens of milliseconds. bin/mallard.mjs runs a bundle only when it is fresh:
// bin/dist/manifest.json lists, per bundle, every project file that went into it or into a chunk it
// may load (esbuild's metafile), with its size, mtime and hash, plus the lock files that change when
// dependencies do; a command checks only its own bundle's inputs. A changed input makes the bundle
// stale (a file that is new to the bundle is always imported by one that changed), and
// bin/mallard.mjs then rebuilds them (esbuild is a devDependency) or, without esbuild, runs the
// sources through tsx. So a bundle never runs code older than the checkout.
//
// Built by `npm run build:cli` (part of `npm run build`, which `npm test` runs), by `npm install`
// (the prepare script), and on demand by bin/mallard.mjs. Native modules and the MongoDB driver stay
// external and load from node_modules; the server's own modules that only some commands need stay
// lazily evaluated inside the bundle (esbuild keeps dynamic imports lazy).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = path.join(ROOT, 'bin', 'dist');
const MANIFEST = path.join(DIST, 'manifest.json');

/** Bundle name → its entry point. */
export const BUNDLES = { cli: 'server/cli/main.ts', panel: 'app/panel/cli.ts' };

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

/** Files outside the bundles' inputs whose change means the dependencies changed. */
const DEPENDENCY_FILES = ['package.json', 'package-lock.json', 'node_modules/.package-lock.json'];

// node:crypto takes a few milliseconds to load: only when a file's mtime changed (or at build).
const sha1 = (file) =>
  createRequire(import.meta.url)('node:crypto')
    .createHash('sha1')
    .update(fs.readFileSync(file))
    .digest('hex');

function describe(relative) {
  const file = path.join(ROOT, relative);
  try {
    const stat = fs.statSync(file);
    return { size: stat.size, mtimeMs: stat.mtimeMs, sha1: sha1(file) };
  } catch {
    return null;
  }
}

/** Whether a file is as the manifest saw it: size and mtime, or (a copy, a checkout) the same bytes. */
function unchanged(relative, seen) {
  // Runs for every input at every start: a plain concatenation (relative paths use "/", which
  // every platform's fs accepts) is measurably cheaper than path.join here.
  const file = `${ROOT}/${relative}`;
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat) return seen === null;
  if (seen === null || stat.size !== seen.size) return false;
  return stat.mtimeMs === seen.mtimeMs || sha1(file) === seen.sha1;
}

/** The path of a fresh bundle named `name`, or null when it is missing or older than its sources. */
export function freshBundle(name) {
  let manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(MANIFEST, 'utf8'));
  } catch {
    return null;
  }
  const bundle = manifest.bundles?.[name];
  // (a manifest of an older layout, without inputs per bundle, counts as stale)
  if (!Array.isArray(bundle?.inputs) || manifest.node !== process.versions.modules) return null;
  for (const relative of [...bundle.inputs, ...DEPENDENCY_FILES]) {
    if (unchanged(relative, manifest.inputs[relative] ?? null)) continue;
    if (process.env.MALLARD_BUNDLE_DEBUG)
      process.stderr.write(`mallard: bundle is stale: ${relative} changed\n`);
    return null;
  }
  const file = path.join(DIST, bundle.file);
  return fs.existsSync(file) ? file : null;
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
const sourceUrls = {
  name: 'source-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      const text = await fs.promises.readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const relative = path.relative(DIST, args.path).split(path.sep).join('/');
      const url = `new URL(${JSON.stringify(relative)}, import.meta.url).href`;
      return { contents: text.replaceAll('import.meta.url', url), loader: 'ts' };
    });
  },
};

/**
 * Each bundle's output files (its entry, the chunks it imports or may import later, their source
 * maps) and project inputs, from esbuild's metafile.
 */
function bundleContents(metafile, staging) {
  const outputs = metafile.outputs;
  const contents = {};
  for (const name of Object.keys(BUNDLES)) {
    const entry = path
      .relative(ROOT, path.join(staging, `${name}.mjs`))
      .split(path.sep)
      .join('/');
    const files = new Set();
    const inputs = new Set();
    const threads = Object.keys(THREADS).map((thread) =>
      path
        .relative(ROOT, path.join(staging, `${thread}.mjs`))
        .split(path.sep)
        .join('/'),
    );
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
    contents[name] = { file: `${name}.mjs`, files: [...files].sort(), inputs: [...inputs].sort() };
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
 * by their content, so the two builds share every file that did not change. Dot files (Node's
 * compile cache) are not chunks.
 */
function removeStaleFiles(keep) {
  for (const file of fs.readdirSync(DIST)) {
    if (keep.has(file) || file.startsWith('.')) continue;
    fs.rmSync(path.join(DIST, file), { force: true });
  }
}

/** Builds both bundles and the manifest; concurrent builds (two commands at once) do not clash. */
export async function buildBundles() {
  const { build } = await import('esbuild');
  const staging = fs.mkdtempSync(path.join(ROOT, 'bin', '.dist-'));
  try {
    const result = await build({
      absWorkingDir: ROOT,
      entryPoints: { ...BUNDLES, ...THREADS },
      outdir: staging,
      outExtension: { '.js': '.mjs' },
      // Modules that only some commands import (dynamically) go to chunks of their own, loaded
      // when imported: `deliver` neither reads the server's listeners nor loads the MongoDB driver.
      splitting: true,
      // Beside the entries, so that each module's path relative to its output file is known.
      chunkNames: '[name]-[hash]',
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      external: EXTERNAL,
      plugins: [sourceUrls, englishZod],
      // CommonJS dependencies call require() for Node's modules: give the ES module bundle one.
      // __mallardDist tells server/thread-entry.ts that it runs from here.
      banner: {
        js: "import { createRequire as __mallardCreateRequire } from 'node:module'; const require = __mallardCreateRequire(import.meta.url); const __mallardDist = import.meta.url;",
      },
      sourcemap: 'linked',
      metafile: true,
      logLevel: 'warning',
    });
    const bundles = bundleContents(result.metafile, staging);
    const inputs = {};
    for (const bundle of Object.values(bundles))
      for (const relative of bundle.inputs) inputs[relative] ??= describe(relative);
    for (const relative of DEPENDENCY_FILES) inputs[relative] = describe(relative);
    const manifest = { node: process.versions.modules, builtAt: new Date().toISOString(), bundles, inputs };
    fs.writeFileSync(path.join(staging, 'manifest.json'), `${JSON.stringify(manifest)}\n`);
    fs.mkdirSync(DIST, { recursive: true });
    const previous = currentBuildFiles();
    // Chunks first (named by their content, so no file a running process uses changes), then the
    // entries, then the manifest; each rename is atomic, so whoever sees a new file finds what it
    // imports.
    const rank = (file) =>
      file === 'manifest.json'
        ? 2
        : Object.hasOwn(BUNDLES, file.split('.')[0]) || Object.hasOwn(THREADS, file.split('.')[0])
          ? 1
          : 0;
    const files = fs.readdirSync(staging).sort((a, b) => rank(a) - rank(b));
    for (const file of files) fs.renameSync(path.join(staging, file), path.join(DIST, file));
    removeStaleFiles(new Set([...files, ...previous]));
    return Object.keys(BUNDLES).map((name) => ({
      file: path.relative(ROOT, path.join(DIST, `${name}.mjs`)),
      bytes: fs.statSync(path.join(DIST, `${name}.mjs`)).size,
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
