/**
 * Where a worker thread starts. A thread does not inherit its parent's TypeScript loader: run from
 * the sources, it starts from a small .mjs that registers tsx first (about 20 MB of memory per
 * thread, and its start-up compiling); run from the bundle (bin/dist, see bin/bundle.mjs), it
 * starts from the thread's own built entry beside the bundle, plain JavaScript.
 */

/**
 * Set by the bundle's banner (bin/bundle.mjs) to the URL of the built file this code is in;
 * undeclared when the sources run.
 */
declare const __mallardDist: string | undefined;

/** The built entry named `built` (bin/bundle.mjs THREADS) in a bundle, else the source entry. */
export function threadEntry(built: string, source: URL): URL {
  return typeof __mallardDist === 'string' ? new URL(`./${built}.mjs`, __mallardDist) : source;
}
