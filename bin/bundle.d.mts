// Types of bin/bundle.mjs for the TypeScript that imports it (tests, the bench).
export declare const ROOT: string;
export declare const DIST: string;
export declare const BUNDLES: Record<'cli' | 'panel', string>;
export declare const EXTERNAL: string[];
/** The path of a fresh bundle named `name`, or null when it is missing or older than its sources. */
export declare function freshBundle(name: string): string | null;
/** The bundle that runs `mallard COMMAND`: a script of its own (named after it), `panel` or `cli`. */
export declare function bundleName(command: string): string;
/** The commands that run from a script of their own: name → the script's entry for esbuild. */
export declare function commandScripts(): Record<string, string>;
/** Runs a command's script with V8's code cache. */
export declare function runScript(file: string): void;
export declare function buildBundles(): Promise<Array<{ file: string; bytes: number }>>;
