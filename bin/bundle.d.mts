// Types of bin/bundle.mjs for the TypeScript that imports it (tests, the bench).
export declare const ROOT: string;
export declare const DIST: string;
export declare const BUNDLES: Record<'cli' | 'panel', string>;
export declare const EXTERNAL: string[];
/** The path of a fresh bundle named `name`, or null when it is missing or older than its sources. */
export declare function freshBundle(name: 'cli' | 'panel'): string | null;
export declare function buildBundles(): Promise<Array<{ file: string; bytes: number }>>;
