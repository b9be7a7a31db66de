/**
 * `mallard vacation EMAIL --subject S --body B [--from DATE] [--until DATE] [--days N] | --off`:
 * the vacation reply, answered once per sender in --days (7), never to lists or robots.
 */
import { vacationSchema } from '../../sieve/filters/index.ts';
import { parseCommandArgs, requirePositionals } from '../args.ts';
import { CliError, EXIT, usageError } from '../cli-error.ts';
import { withBackend } from '../context.ts';

const USAGE = `mallard vacation USER_EMAIL --subject TEXT --body TEXT [--from YYYY-MM-DD] [--until YYYY-MM-DD]
                  [--days N] [--overwrite]
       mallard vacation USER_EMAIL --off`;

export async function vacationCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      subject: { type: 'string' },
      body: { type: 'string' },
      from: { type: 'string' },
      until: { type: 'string' },
      days: { type: 'string' },
      off: { type: 'boolean' },
      overwrite: { type: 'boolean' },
    },
    USAGE,
  );
  const [email] = requirePositionals(positionals, ['USER_EMAIL'], USAGE);
  let vacation = null;
  if (!values.off) {
    if (values.subject === undefined || values.body === undefined)
      throw usageError('--subject and --body are needed (or --off)', USAGE);
    const parsed = vacationSchema.safeParse({
      subject: values.subject,
      body: values.body,
      from: values.from,
      until: values.until,
      days: values.days === undefined ? undefined : Number(values.days),
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new CliError(`--${String(issue.path[0] ?? 'vacation')}: ${issue.message}`, EXIT.dataError);
    }
    vacation = parsed.data;
  }
  return withBackend(values.config, async ({ backend }) => {
    const { settings } = await backend.getFilters(email!);
    await backend.putFilters(email!, { ...settings, vacation }, values.overwrite ?? false);
    if (vacation === null) process.stdout.write(`${email}: vacation reply off\n`);
    else {
      const period = [
        vacation.from && `from ${vacation.from}`,
        vacation.until && `until ${vacation.until}`,
      ].filter(Boolean);
      process.stdout.write(
        `${email}: vacation reply "${vacation.subject}"${period.length > 0 ? ` ${period.join(' ')}` : ''}\n`,
      );
    }
    return EXIT.ok;
  });
}
