// What `mallard` needs at every start, before it runs a command: which prebuilt bundle is fresh
// (bin/dist/manifest.json, see bin/bundle.mjs, which builds them) and how to run a script bundle.
// CommonJS, required by bin/mallard.mjs: loaded as an ES module, each Node module it uses would
// get a namespace built by reading all of that module's exports, a few milliseconds per start.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'bin', 'dist');
const MANIFEST = path.join(DIST, 'manifest.json');

/**
 * Bundle name → its entry point: ES modules, split into chunks that load when first imported.
 * `cli` holds every command; `serve` always runs from it (its threads find their bundles beside it).
 */
const BUNDLES = { cli: 'server/cli/main.ts', panel: 'app/panel/cli.ts' };

/** Files outside the bundles' inputs whose change means the dependencies changed. */
const DEPENDENCY_FILES = ['package.json', 'package-lock.json', 'node_modules/.package-lock.json'];

// node:crypto takes a few milliseconds to load: only when a file's mtime changed (or at build).
const sha1 = (file) => require('node:crypto').createHash('sha1').update(fs.readFileSync(file)).digest('hex');

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

let manifestRead = { mtimeMs: NaN, manifest: null };
/** bin/dist/manifest.json as the last build wrote it, or null; parsed again only once it changed. */
function readManifest() {
  const mtimeMs = fs.statSync(MANIFEST, { throwIfNoEntry: false })?.mtimeMs;
  if (mtimeMs === undefined) return null;
  if (mtimeMs !== manifestRead.mtimeMs) {
    try {
      manifestRead = { mtimeMs, manifest: JSON.parse(fs.readFileSync(MANIFEST, 'utf8')) };
    } catch {
      return null;
    }
  }
  return manifestRead.manifest;
}

/**
 * The bundle that runs `mallard COMMAND`. Every command of server/cli/main.ts but `serve` also runs
 * from a script (its own, or one it shares with commands that need the same modules: see
 * commandScripts in bin/bundle.mjs), with V8's code cache (runScript below): an MTA's pipe starts `mallard deliver` for every message, and a person waits on every
 * other command. Loaded as ES modules, a command's two dozen chunks cost a resolution, a link and a
 * compilation each, and every Node module they import a namespace built by reading all its exports;
 * Node 20 keeps no compiled code for ES modules between runs. A script is one file, compiled once
 * and then taken from the cache. Without one (no build yet, a command added since) `cli` runs it.
 */
function bundleName(command) {
  if (command === 'panel' || command === 'start') return 'panel';
  const commands = readManifest()?.commands ?? {};
  return Object.hasOwn(commands, command) ? commands[command] : 'cli';
}

/** The path of a fresh bundle named `name`, or null when it is missing or older than its sources. */
function freshBundle(name) {
  const manifest = readManifest();
  if (!manifest) return null;
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
 * Runs a command's script as Node runs a CommonJS module, with V8's code cache: compiled code
 * kept in bin/dist/.FILE.v8cache, written after the first run (with the functions that ran
 * compiled) and whenever V8 refuses it (another Node version, a damaged file). Where bin/dist is
 * not writable the script compiles at every run, as any other would.
 */
function runScript(file) {
  const vm = require('node:vm');
  const cacheFile = path.join(path.dirname(file), `.${path.basename(file)}.v8cache`);
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  // esbuild writes ASCII only (non-ASCII characters escaped): latin1 is the cheapest exact reading.
  const source = fs.readFileSync(file, 'latin1');
  const script = new vm.Script(require('node:module').wrap(source), { filename: file, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    process.once('exit', () => {
      // Written aside and renamed: a delivery starting meanwhile reads a whole cache or none.
      const aside = `${cacheFile}.${process.pid}`;
      try {
        fs.writeFileSync(aside, script.createCachedData());
        fs.renameSync(aside, cacheFile);
      } catch {
        // not writable: the next run compiles again
        fs.rmSync(aside, { force: true });
      }
    });
  }
  const module = { exports: {} };
  const requireHere = require('node:module').createRequire(file);
  script.runInThisContext()(module.exports, requireHere, module, file, path.dirname(file));
}

module.exports = { ROOT, DIST, BUNDLES, DEPENDENCY_FILES, sha1, bundleName, freshBundle, runScript };
