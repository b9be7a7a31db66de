/**
 * What PUTSCRIPT, CHECKSCRIPT and HAVESPACE share: the limits of `managesieve.max_scripts` and
 * `managesieve.max_script_size` (RFC 5804 1.3 QUOTA/MAXSCRIPTS, QUOTA/MAXSIZE), and the check of a
 * script by the interpreter, whose first error says where it is ("line L, column C: ...").
 */
import { checkScript } from '../sieve/index.ts';
import { scriptSpaceProblem } from '../sieve/script-space.ts';
import { isStoreError } from '../store/errors.ts';
import { checkSieveName } from '../store/sieve.ts';
import type { User } from '../store/types.ts';
import type { ManageSieveContext } from './context.ts';
import { err } from './errors.ts';

/** The logged-in user; the registry lets only authenticated-state commands get here. */
export function userOf(ctx: ManageSieveContext): User {
  const user = ctx.session.user;
  if (!user) throw err('Authenticate first');
  return user;
}

/** Refuses a script of `size` bytes stored under `name` when it would cross a limit. */
export async function checkSpace(ctx: ManageSieveContext, name: string, size: number): Promise<void> {
  const scripts = await ctx.services.store.listSieveScripts(userOf(ctx).id);
  const problem = scriptSpaceProblem(scripts, name, size, ctx.services.config.managesieve);
  if (problem) throw err(problem.message, problem.code);
}

/**
 * Refuses a script the interpreter does not accept. `include :personal` may name the user's other
 * scripts (RFC 6609), so they are looked up; `replacing` is the name being uploaded, whose old
 * content does not count.
 */
export async function checkContent(
  ctx: ManageSieveContext,
  content: string,
  replacing?: string,
): Promise<void> {
  const scripts = await ctx.services.store.listSieveScripts(userOf(ctx).id);
  const personal = new Map(scripts.map((script) => [script.name, script.content]));
  if (replacing !== undefined) personal.set(replacing, content);
  const problem = checkScript(content, {
    loadScript: (name, location) => (location === 'personal' ? (personal.get(name) ?? null) : null),
  });
  if (problem) throw err(problem.message);
}

/** A script name as RFC 5804 1.6 allows it: NO with the reason otherwise. */
export function checkName(name: string): string {
  try {
    return checkSieveName(name);
  } catch (error) {
    if (isStoreError(error, 'INVALID'))
      throw err('A script name is 1 to 128 characters, without control characters or "/"');
    throw error;
  }
}
