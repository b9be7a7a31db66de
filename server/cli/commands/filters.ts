/**
 * `mallard filters show|set`: a user's Gmail-like filters, forwarding and vacation (the Filters
 * page's settings, kept as the "mallard-filters" Sieve script). set reads the JSON show --json
 * prints; a file that is not valid settings is refused with where and why (exit 65).
 */
import fs from 'node:fs';
import { z } from 'zod';
import { filterSettingsSchema, type FilterSettings, type UserFilters } from '../../sieve/filters/index.ts';
import { parseCommandArgs, readStdin, requirePositionals } from '../args.ts';
import { CliError, EXIT, usageError } from '../cli-error.ts';
import { withBackend } from '../context.ts';

const USAGE = `mallard filters show USER_EMAIL [--json]
       mallard filters set USER_EMAIL FILE.json [--overwrite]   (FILE - reads standard input)`;

const STATE_TEXT: Record<UserFilters['state'], string> = {
  none: 'no filters saved yet',
  managed: 'in force (script "mallard-filters" is active)',
  edited: 'the "mallard-filters" script was edited by hand since; saving replaces those edits (--overwrite)',
  'other-script': 'not in force: a hand-written script is active; saving replaces it (--overwrite)',
};

/** Settings from a JSON file, with the first problem named by its path. */
export async function readSettings(file: string): Promise<FilterSettings> {
  let text: string;
  try {
    text = file === '-' ? (await readStdin()).toString('utf8') : fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`, EXIT.noInput);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${file}: not JSON: ${(error as Error).message}`, EXIT.dataError);
  }
  // `show --json` prints { settings, state, activeScript }: accept that as well as bare settings.
  const settings = z.object({ settings: z.unknown() }).safeParse(json).success
    ? (json as { settings: unknown }).settings
    : json;
  const parsed = filterSettingsSchema.safeParse(settings);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new CliError(`${file}: ${issue.path.join('.') || 'settings'}: ${issue.message}`, EXIT.dataError);
}

/** The settings in lines a person reads. */
export function describeFilters(filters: UserFilters): string {
  const { settings } = filters;
  const lines = [`state: ${STATE_TEXT[filters.state]}`];
  const forwarding = settings.forwarding;
  lines.push(
    forwarding === null
      ? 'forwarding: off'
      : `forwarding: to ${forwarding.address}${forwarding.keepCopy ? ', keeping a copy' : ', no copy kept'}`,
  );
  const vacation = settings.vacation;
  if (vacation === null) lines.push('vacation: off');
  else {
    const days = [
      vacation.from && `from ${vacation.from}`,
      vacation.until && `until ${vacation.until}`,
    ].filter(Boolean);
    lines.push(
      `vacation: "${vacation.subject}"${days.length > 0 ? ` ${days.join(' ')}` : ''}, once per sender in ${vacation.days} days`,
    );
  }
  settings.filters.forEach((filter, index) => {
    const conditions = Object.entries(filter.conditions).map(
      ([key, value]) => `${key}=${JSON.stringify(value)}`,
    );
    const actions = Object.entries(filter.actions)
      .filter(([, value]) => value !== false)
      .map(([key, value]) => (value === true ? key : `${key}=${JSON.stringify(value)}`));
    lines.push(
      `filter ${index + 1}${filter.name ? ` (${filter.name})` : ''}: ${conditions.join(' ')} → ${actions.join(' ')}`,
    );
  });
  if (settings.filters.length === 0) lines.push('filters: none');
  return `${lines.join('\n')}\n`;
}

export async function filtersCommand(argv: string[]): Promise<number> {
  const [action = '', ...rest] = argv;
  const { values, positionals } = parseCommandArgs(rest, { overwrite: { type: 'boolean' } }, USAGE);
  return withBackend(values.config, async ({ backend }) => {
    switch (action) {
      case 'show': {
        const [email] = requirePositionals(positionals, ['USER_EMAIL'], USAGE);
        const filters = await backend.getFilters(email!);
        process.stdout.write(
          values.json ? `${JSON.stringify(filters, null, 2)}\n` : describeFilters(filters),
        );
        return EXIT.ok;
      }
      case 'set': {
        const [email, file] = requirePositionals(positionals, ['USER_EMAIL', 'FILE'], USAGE);
        const settings = await readSettings(file!);
        const saved = await backend.putFilters(email!, settings, values.overwrite ?? false);
        process.stdout.write(
          `${saved.settings.filters.length} filter(s) saved; ${STATE_TEXT[saved.state]}\n`,
        );
        return EXIT.ok;
      }
      default:
        throw usageError(action ? `unknown action: filters ${action}` : 'missing action', USAGE);
    }
  });
}
