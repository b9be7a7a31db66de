#!/usr/bin/env node
// `node bin/mallard.mjs …`, as before: the `mallard` command is bin/mallard.cjs (package.json's
// bin), CommonJS because it starts faster; this file runs it.
import { createRequire } from 'node:module';

createRequire(import.meta.url)('./mallard.cjs');
