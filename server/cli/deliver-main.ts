/**
 * `mallard deliver` on its own: the entry of bin/dist/deliver-*.cjs (see bin/bundle.mjs), which
 * bin/mallard.mjs runs for that command alone. An MTA's pipe starts it for every message, so it
 * holds only what a delivery needs, in one script that loads with V8's code cache. It behaves as
 * `deliver` through main.ts does: the same options, messages and exit codes.
 */
import { commandArgs, runCommand } from './run-command.ts';
import { deliverCommand } from './commands/deliver.ts';

const [, ...rest] = commandArgs(process.argv.slice(2));
void runCommand(() => deliverCommand(rest));
