// Bundles the Electron main process and the preload with esbuild:
//   app/main/index.ts    → app/dist/main.cjs     (Node inside Electron)
//   app/preload/index.ts → app/dist/preload.cjs  (sandboxed preload: may require only 'electron')
// The server is not bundled: the app runs it as `bin/mallard.mjs serve` (TypeScript through tsx)
// in a child process. Native modules stay external and load from node_modules at run time.
// Run: `npm run build:app` (or `node app/build.mjs [--outdir DIR]`).
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const appDir = path.dirname(fileURLToPath(import.meta.url));

/** Modules never bundled: Electron itself and packages with compiled (.node) parts. */
export const EXTERNAL = ['electron', 'better-sqlite3', '@node-rs/argon2', 'mongodb'];

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  // Electron 45 runs Node 22 and Chromium 142.
  target: 'node22',
  sourcemap: 'linked',
  logLevel: 'warning',
  metafile: true,
  absWorkingDir: path.dirname(appDir),
};

/** Builds both bundles into `outDir` (default app/dist); resolves to the files written and their sizes. */
export async function buildApp({ outDir = path.join(appDir, 'dist') } = {}) {
  fs.rmSync(outDir, { recursive: true, force: true });
  const results = await Promise.all([
    build({
      ...common,
      entryPoints: [path.join(appDir, 'main', 'index.ts')],
      outfile: path.join(outDir, 'main.cjs'),
      external: EXTERNAL,
      // Modules shared with `mallard panel` are ESM and locate files from import.meta.url.
      define: { 'import.meta.url': '__mallardModuleUrl' },
      banner: { js: "const __mallardModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
    }),
    build({
      ...common,
      entryPoints: [path.join(appDir, 'preload', 'index.ts')],
      outfile: path.join(outDir, 'preload.cjs'),
      external: ['electron'],
    }),
  ]);
  return results.flatMap((result) =>
    Object.entries(result.metafile.outputs)
      .filter(([file]) => !file.endsWith('.map'))
      .map(([file, output]) => ({ file, bytes: output.bytes })),
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // `--outdir DIR` builds elsewhere (tests build into a temporary copy of the app's layout).
  const at = process.argv.indexOf('--outdir');
  buildApp(at > 0 && process.argv[at + 1] ? { outDir: path.resolve(process.argv[at + 1]) } : {}).then(
    (outputs) => {
      for (const { file, bytes } of outputs)
        process.stdout.write(`${file}  ${(bytes / 1024).toFixed(1)} KiB\n`);
    },
    (error) => {
      process.stderr.write(`app build failed: ${error.message}\n`);
      process.exitCode = 1;
    },
  );
}
