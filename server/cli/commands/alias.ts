/** `mallard alias add|del|list`: extra addresses and per-domain catch-alls (`*@domain`). */
import { parseCommandArgs, requirePositionals } from '../args.ts';
import { CliError, EXIT, usageError } from '../cli-error.ts';
import { printList, withBackend } from '../context.ts';

const USAGE = `mallard alias add ADDRESS USER_EMAIL     (ADDRESS may be *@domain: a catch-all)
       mallard alias del ADDRESS
       mallard alias list USER_EMAIL [--json]`;

const ADDRESS = /^[^\s@]+@[^\s@]+$/;

export async function aliasCommand(argv: string[]): Promise<number> {
  const [action = '', ...rest] = argv;
  const { values, positionals } = parseCommandArgs(rest, {}, USAGE);
  return withBackend(values.config, async ({ backend }) => {
    switch (action) {
      case 'add': {
        const [address, email] = requirePositionals(positionals, ['ADDRESS', 'USER_EMAIL'], USAGE);
        if (!ADDRESS.test(address!)) throw new CliError(`not an address: ${address}`, EXIT.dataError);
        const user = await backend.getUser(email!);
        const added = await backend.addAddress(user.username, address!);
        process.stdout.write(`${added.address}\t${added.kind}\t${user.username}\n`);
        return EXIT.ok;
      }
      case 'del': {
        const [address] = requirePositionals(positionals, ['ADDRESS'], USAGE);
        await backend.removeAddress(address!);
        process.stdout.write(`${address!.toLowerCase()}\tdeleted\n`);
        return EXIT.ok;
      }
      case 'list': {
        const [email] = requirePositionals(positionals, ['USER_EMAIL'], USAGE);
        printList(await backend.listAddresses(email!), values.json, (a) => [a.address, a.kind]);
        return EXIT.ok;
      }
      default:
        throw usageError(action ? `unknown action: alias ${action}` : 'missing action', USAGE);
    }
  });
}
