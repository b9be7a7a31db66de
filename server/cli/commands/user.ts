/** `mallard user add|list|show|passwd|disable|enable|save-sent|del`: accounts. */
import type { UserRecord } from '../backends/types.ts';
import { parseCommandArgs, passwordFrom, requirePositionals } from '../args.ts';
import { CliError, EXIT, usageError } from '../cli-error.ts';
import { formatBytes, parseSize, printList, printObject, withBackend } from '../context.ts';

const USAGE = `mallard user add EMAIL --password PW|- [--name NAME] [--quota SIZE]
       mallard user list [--search TEXT] [--json]
       mallard user show EMAIL [--json]
       mallard user passwd EMAIL [--password PW|-]
       mallard user disable EMAIL | enable EMAIL
       mallard user save-sent EMAIL on|off
       mallard user del EMAIL`;

const EMAIL = /^[^\s@]+@[^\s@]+$/;

function checkPassword(password: string): string {
  if (password.length < 8)
    throw new CliError('password too short: use at least 8 characters', EXIT.dataError);
  return password;
}

function quotaText(user: UserRecord): string {
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
  const email = () => requirePositionals(positionals, ['EMAIL'], USAGE)[0]!;
  // Everything that can be checked without the store is checked before it is opened.
  let newPassword: string | undefined;
  if (action === 'add') {
    if (!EMAIL.test(email())) throw new CliError(`not an email address: ${email()}`, EXIT.dataError);
    if (values.password === undefined) throw usageError('missing --password', USAGE);
  }
  if (action === 'add') newPassword = checkPassword(await passwordFrom(values.password));
  return withBackend(values.config, async ({ backend }) => {
    switch (action) {
      case 'add': {
        const user = await backend.createUser({
          username: email(),
          password: newPassword!,
          name: values.name,
          quotaBytes: values.quota === undefined ? undefined : parseSize(values.quota),
        });
        process.stdout.write(`${user.username}\tcreated\n`);
        return EXIT.ok;
      }
      case 'list': {
        printList(await backend.listUsers(values.search), values.json, (user) => [
          user.username,
          user.name,
          quotaText(user),
          user.disabled ? 'disabled' : 'active',
        ]);
        return EXIT.ok;
      }
      case 'show': {
        const user = await backend.getUser(email());
        const addresses = await backend.listAddresses(user.username);
        printObject({ ...user, addresses }, values.json, [
          ['address', user.username],
          ['name', user.name],
          ['status', user.disabled ? 'disabled' : 'active'],
          ['storage', quotaText(user)],
          ['copy to Sent', user.saveSentCopy ? 'on' : 'off'],
          ['addresses', addresses.map((a) => a.address).join(', ')],
          ['created', user.createdAt],
        ]);
        return EXIT.ok;
      }
      case 'passwd': {
        await backend.getUser(email()); // an unknown user is said before a password is read
        const password = checkPassword(await passwordFrom(values.password));
        const user = await backend.setPassword(email(), password);
        process.stdout.write(`${user.username}\tpassword changed\n`);
        return EXIT.ok;
      }
      case 'disable':
      case 'enable': {
        const user = await backend.setDisabled(email(), action === 'disable');
        process.stdout.write(`${user.username}\t${user.disabled ? 'disabled' : 'enabled'}\n`);
        return EXIT.ok;
      }
      case 'save-sent': {
        // Submission stores a copy of what the user sends in Sent (for clients that do not upload one).
        const [, setting = ''] = positionals;
        if (setting !== 'on' && setting !== 'off') throw usageError('save-sent takes on or off', USAGE);
        const user = await backend.setSaveSentCopy(email(), setting === 'on');
        process.stdout.write(`${user.username}\tcopy to Sent ${user.saveSentCopy ? 'on' : 'off'}\n`);
        return EXIT.ok;
      }
      case 'del': {
        const user = await backend.deleteUser(email());
        process.stdout.write(`${user.username}\tdeleted\n`);
        return EXIT.ok;
      }
      default:
        throw usageError(action ? `unknown action: user ${action}` : 'missing action', USAGE);
    }
  });
}
