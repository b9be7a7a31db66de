/** `mallard user add|list|show|passwd|del`: accounts. */
import { hashPassword } from '../../auth/password.ts';
import type { User } from '../../store/types.ts';
import { parseCommandArgs, passwordFrom, requirePositionals } from '../args.ts';
import { CliError, EXIT, usageError } from '../cli-error.ts';
import { formatBytes, parseSize, printList, printObject, requireUser, withStore } from '../context.ts';

const USAGE = `mallard user add EMAIL --password PW|- [--name NAME] [--quota SIZE]
       mallard user list [--search TEXT] [--json]
       mallard user show EMAIL [--json]
       mallard user passwd EMAIL [--password PW|-]
       mallard user del EMAIL`;

const EMAIL = /^[^\s@]+@[^\s@]+$/;

function checkPassword(password: string): string {
  if (password.length < 8)
    throw new CliError('password too short: use at least 8 characters', EXIT.dataError);
  return password;
}

function quotaText(user: User): string {
  return `${formatBytes(user.usedBytes)} / ${user.quotaBytes ? formatBytes(user.quotaBytes) : 'unlimited'}`;
}

export async function userCommand(argv: string[]): Promise<number> {
  const [action = '', ...rest] = argv;
  const { values, positionals } = parseCommandArgs(
    rest,
    {
      password: { type: 'string' },
      name: { type: 'string' },
      quota: { type: 'string' },
      search: { type: 'string' },
    },
    USAGE,
  );
  return withStore(values.config, async ({ store }) => {
    switch (action) {
      case 'add': {
        const [email] = requirePositionals(positionals, ['EMAIL'], USAGE);
        if (!EMAIL.test(email!)) throw new CliError(`not an email address: ${email}`, EXIT.dataError);
        if (values.password === undefined) throw usageError('missing --password', USAGE);
        const password = checkPassword(await passwordFrom(values.password));
        const user = await store.createUser({
          username: email!,
          passwordHash: await hashPassword(password),
          name: values.name,
          quotaBytes: values.quota === undefined ? undefined : parseSize(values.quota),
        });
        process.stdout.write(`${user.username}\tcreated\n`);
        return EXIT.ok;
      }
      case 'list': {
        const { users } = await store.listUsers({ search: values.search, limit: 1_000_000 });
        printList(users, values.json, (user) => [
          user.username,
          user.name,
          quotaText(user),
          user.disabled ? 'disabled' : 'active',
        ]);
        return EXIT.ok;
      }
      case 'show': {
        const [email] = requirePositionals(positionals, ['EMAIL'], USAGE);
        const user = await requireUser(store, email!);
        const addresses = await store.listAddresses(user.id);
        printObject({ ...user, addresses }, values.json, [
          ['address', user.username],
          ['name', user.name],
          ['status', user.disabled ? 'disabled' : 'active'],
          ['storage', quotaText(user)],
          ['addresses', addresses.map((a) => a.address).join(', ')],
          ['created', user.createdAt.toISOString()],
        ]);
        return EXIT.ok;
      }
      case 'passwd': {
        const [email] = requirePositionals(positionals, ['EMAIL'], USAGE);
        const user = await requireUser(store, email!);
        const password = checkPassword(await passwordFrom(values.password));
        await store.setPasswordHash(user.id, await hashPassword(password));
        process.stdout.write(`${user.username}\tpassword changed\n`);
        return EXIT.ok;
      }
      case 'del': {
        const [email] = requirePositionals(positionals, ['EMAIL'], USAGE);
        const user = await requireUser(store, email!);
        await store.deleteUser(user.id);
        process.stdout.write(`${user.username}\tdeleted\n`);
        return EXIT.ok;
      }
      default:
        throw usageError(action ? `unknown action: user ${action}` : 'missing action', USAGE);
    }
  });
}
