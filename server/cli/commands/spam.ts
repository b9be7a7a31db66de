/** `mallard spam allow|block|remove|list`: a user's allowed and blocked senders (addresses or domains). */
import { parseCommandArgs, requirePositionals } from '../args.ts';
import { EXIT, usageError } from '../cli-error.ts';
import { printList, withBackend } from '../context.ts';

const USAGE = `mallard spam allow USER_EMAIL SENDER     (SENDER: an address, or a domain such as example.com)
       mallard spam block USER_EMAIL SENDER
       mallard spam remove USER_EMAIL SENDER
       mallard spam list USER_EMAIL [--json]`;

export async function spamCommand(argv: string[]): Promise<number> {
  const [action = '', ...rest] = argv;
  const { values, positionals } = parseCommandArgs(rest, {}, USAGE);
  return withBackend(values.config, async ({ backend }) => {
    switch (action) {
      case 'allow':
      case 'block': {
        const [email, sender] = requirePositionals(positionals, ['USER_EMAIL', 'SENDER'], USAGE);
        const entry = await backend.setSpamEntry(email!, action, sender!);
        process.stdout.write(`${entry.pattern}\t${entry.list}\n`);
        return EXIT.ok;
      }
      case 'remove': {
        const [email, sender] = requirePositionals(positionals, ['USER_EMAIL', 'SENDER'], USAGE);
        await backend.removeSpamEntry(email!, sender!);
        process.stdout.write(`${sender!.trim().toLowerCase().replace(/^@/, '')}\tremoved\n`);
        return EXIT.ok;
      }
      case 'list': {
        const [email] = requirePositionals(positionals, ['USER_EMAIL'], USAGE);
        printList(await backend.listSpamEntries(email!), values.json, (entry) => [
          entry.pattern,
          entry.list,
          entry.createdAt,
        ]);
        return EXIT.ok;
      }
      default:
        throw usageError(action ? `unknown action: spam ${action}` : 'missing action', USAGE);
    }
  });
}
