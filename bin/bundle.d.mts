// Types of bin/bundle.mjs for the TypeScript that imports it (tests, the bench).
export declare const ROOT: string;
export declare const DIST: string;
export declare const BUNDLES: Record<'cli' | 'panel', string>;
export declare const SCRIPTS: Record<'deliver', string>;
export declare const ENTRIES: Record<'cli' | 'panel' | 'deliver', string>;
export declare const EXTERNAL: string[];
/** The path of a fresh bundle named `name`, or null when it is missing or older than its sources. */
export declare function freshBundle(name: 'cli' | 'panel' | 'deliver'): string | null;
/** Runs a script bundle (SCRIPTS) with V8's code cache. */
export declare function runScript(file: string): void;
export declare function buildBundles(): Promise<Array<{ file: string; bytes: number }>>;
