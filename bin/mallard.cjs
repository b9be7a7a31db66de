#!/usr/bin/env node
// The `mallard` command. It runs the prebuilt bundle of the command (bin/dist/, see bin/bundle.mjs)
// when that is up to date with the sources, rebuilding it first when esbuild is installed, and
// otherwise loads the TypeScript sources through tsx, so a fresh clone runs without a build step.
// MALLARD_BUNDLE=0 always runs the sources.
//
// CommonJS, as is launch.cjs (what every start needs): a command started as an ES module pays for
// Node's ES module loader (some 5 ms) before it does anything, and for a namespace per Node module
// it imports (for node:process that reads process.stdin, which opens standard input as a stream).
// A command that runs from a script of its own (see bundleName in launch.cjs) then loads no ES
// module at all; serve, panel and start import their bundle. bin/mallard.mjs runs this file too.
'use strict';
const { BUNDLES, DIST, bundleName, freshBundle, runScript } = require('./launch.cjs');

// Node 22 keeps compiled code between runs (Node 20 has no such cache): in bin/dist, beside the
// bundle, rather than in a folder of the system's temp directory shared by every user.
require('node:module').enableCompileCache?.(`${DIST}/.compile-cache`);

const command = process.argv[2];

// `mallard message list … | head`: once the reader has gone, there is nobody to tell anything to.
// End quietly, as a closed pipe ends a C program (SIGPIPE), instead of with an EPIPE stack trace.
// Not for `deliver`, which writes its line with write(2) (see writeNow in server/cli/args.ts): on a
// pipe, merely creating process.stdout and process.stderr costs every delivery a few milliseconds.
if (command !== 'deliver') {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
}
// The control panel lives in app/; server/cli must not import it. Most commands run from a script
// of their own (see bundleName in launch.cjs).
const name = bundleName(command);

/** The bundle to run, or null for the sources. */
async function bundle() {
  if (process.env.MALLARD_BUNDLE === '0') return null;
  const fresh = freshBundle(name);
  if (fresh) return fresh;
  try {
    const { buildBundles } = await import('./bundle.mjs');
    await buildBundles();
    return freshBundle(name);
  } catch {
    // No esbuild (installed without devDependencies), or bin/ is not writable: run the sources.
    return null;
  }
}

async function main() {
  const file = await bundle();
  if (file?.endsWith('.cjs')) return runScript(file);
  const { pathToFileURL } = require('node:url');
  let entry;
  if (file) entry = await import(pathToFileURL(file).href);
  else {
    const { register } = await import('tsx/esm/api');
    register();
    entry = await import(pathToFileURL(`${__dirname}/../${BUNDLES[name] ?? BUNDLES.cli}`).href);
  }
  // The CLI module runs its command when loaded; the panel's exports main().
  if (name === 'panel') process.exitCode = await entry.main(process.argv.slice(2));
}

// A failure to load a bundle ends the process as an uncaught error would (its stack, exit 1).
void main();
