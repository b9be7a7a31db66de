#!/usr/bin/env node
// The `mallard` command: loads the TypeScript sources through tsx so a fresh clone runs without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../server/cli/main.ts');
