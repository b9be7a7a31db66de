/**
 * The room a user has for Sieve scripts (`managesieve.max_scripts` and `managesieve.max_script_size`),
 * enforced alike wherever a script is uploaded: ManageSieve (RFC 5804 1.3: QUOTA/MAXSCRIPTS,
 * QUOTA/MAXSIZE) and the admin API (which the panel and `mallard sieve put` use while a server runs).
 */
export interface ScriptSpaceLimits {
  max_scripts: number;
  max_script_size: number;
}

export interface SpaceProblem {
  code: 'QUOTA/MAXSIZE' | 'QUOTA/MAXSCRIPTS';
  message: string;
}

/**
 * What refuses a script of `bytes` stored under `name` beside the user's `existing` scripts, or
 * null when it fits. Replacing a script by a new version never counts as one more.
 */
export function scriptSpaceProblem(
  existing: readonly { name: string }[],
  name: string,
  bytes: number,
  limits: ScriptSpaceLimits,
): SpaceProblem | null {
  if (bytes > limits.max_script_size) {
    return { code: 'QUOTA/MAXSIZE', message: `The script is larger than ${limits.max_script_size} bytes` };
  }
  if (!existing.some((script) => script.name === name) && existing.length >= limits.max_scripts) {
    return { code: 'QUOTA/MAXSCRIPTS', message: `No more than ${limits.max_scripts} scripts may be kept` };
  }
  return null;
}
