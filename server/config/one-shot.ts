/**
 * Whether this process is a command that validates its configuration once and exits (every
 * `mallard` command but `serve`). zod's JIT (a validator compiled with new Function on first use)
 * then costs more than it saves; schema.ts reads this when zod is loaded, which a one-shot command
 * does only when it needs zod (often never: see quick-check.ts), so the CLI sets it first.
 */
let oneShot = false;

export function markOneShotProcess(): void {
  oneShot = true;
}

export function isOneShotProcess(): boolean {
  return oneShot;
}
