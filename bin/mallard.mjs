#!/usr/bin/env node
// The `mallard` command: loads the TypeScript sources through tsx so a fresh clone runs without a build step.
import { register } from 'tsx/esm/api';

register();
const command = process.argv[2];
if (command === 'panel' || command === 'start') {
  // The control panel lives in app/; server/cli must not import it.
  const { main } = await import('../app/panel/cli.ts');
  process.exitCode = await main(process.argv.slice(2));
} else {
  await import('../server/cli/main.ts');
}
