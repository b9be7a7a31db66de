/** `mallard forward EMAIL ADDRESS [--keep] | --off`: forward all of a user's mail (no Sieve to write). */
import { forwardingSchema } from '../../sieve/filters/index.ts';
import { parseCommandArgs, requirePositionals } from '../args.ts';
import { CliError, EXIT, usageError } from '../cli-error.ts';
import { withBackend } from '../context.ts';

const USAGE = `mallard forward USER_EMAIL ADDRESS [--keep] [--overwrite]   (--keep: keep a copy here too)
       mallard forward USER_EMAIL --off`;

export async function forwardCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { keep: { type: 'boolean' }, off: { type: 'boolean' }, overwrite: { type: 'boolean' } },
    USAGE,
  );
  const [email, address] = requirePositionals(
    positionals,
    values.off ? ['USER_EMAIL'] : ['USER_EMAIL', 'ADDRESS'],
    USAGE,
  );
  if (values.off && address !== undefined) throw usageError('--off takes no ADDRESS', USAGE);
  let forwarding = null;
  if (!values.off) {
    const parsed = forwardingSchema.safeParse({ address, keepCopy: values.keep ?? false });
    if (!parsed.success) throw new CliError(`${address}: ${parsed.error.issues[0]!.message}`, EXIT.dataError);
    forwarding = parsed.data;
  }
  return withBackend(values.config, async ({ backend }) => {
    const { settings } = await backend.getFilters(email!);
    await backend.putFilters(email!, { ...settings, forwarding }, values.overwrite ?? false);
    process.stdout.write(
      forwarding === null
        ? `${email}: forwarding off\n`
        : `${email}: forwarding to ${forwarding.address}${forwarding.keepCopy ? ', keeping a copy' : ', no copy kept'}\n`,
    );
    return EXIT.ok;
  });
}
