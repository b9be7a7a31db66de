/**
 * `mallard sieve list|put|activate|check`: a user's Sieve filters. put and check refuse a script
 * that does not compile, with its line and column, and exit 65.
 */
import fs from 'node:fs';
import { checkScript } from '../../sieve/index.ts';
import { parseCommandArgs, readStdin, requirePositionals } from '../args.ts';
import { CliError, EXIT, usageError } from '../cli-error.ts';
import { printList, withBackend } from '../context.ts';

const USAGE = `mallard sieve list USER_EMAIL [--json]
       mallard sieve put USER_EMAIL NAME FILE     (FILE - reads standard input)
       mallard sieve activate USER_EMAIL NAME
       mallard sieve check FILE`;

async function readScript(file: string): Promise<string> {
  try {
    return file === '-' ? (await readStdin()).toString('utf8') : fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`, EXIT.noInput);
  }
}

/** Checks a script file alone (no server, no store): "FILE:LINE:COLUMN: message" on error. */
async function check(file: string): Promise<number> {
  const problem = checkScript(await readScript(file));
  if (problem === null) {
    process.stdout.write(`${file}: ok\n`);
    return EXIT.ok;
  }
  const { line, column } = problem.position;
  process.stderr.write(
    `${file}:${line}:${column}: ${problem.message.replace(/^line \d+, column \d+: /, '')}\n`,
  );
  return EXIT.dataError;
}

export async function sieveCommand(argv: string[]): Promise<number> {
  const [action = '', ...rest] = argv;
  const { values, positionals } = parseCommandArgs(rest, {}, USAGE);
  if (action === 'check') {
    const [file] = requirePositionals(positionals, ['FILE'], USAGE);
    return check(file!);
  }
  return withBackend(values.config, async ({ backend }) => {
    switch (action) {
      case 'list': {
        const [email] = requirePositionals(positionals, ['USER_EMAIL'], USAGE);
        printList(await backend.listSieveScripts(email!), values.json, (script) => [
          script.name,
          script.active ? 'active' : '-',
          script.updatedAt,
        ]);
        return EXIT.ok;
      }
      case 'put': {
        const [email, name, file] = requirePositionals(positionals, ['USER_EMAIL', 'NAME', 'FILE'], USAGE);
        const script = await backend.putSieveScript(email!, name!, await readScript(file!));
        process.stdout.write(`${script.name}\tstored${script.active ? ' (active)' : ''}\n`);
        return EXIT.ok;
      }
      case 'activate': {
        const [email, name] = requirePositionals(positionals, ['USER_EMAIL', 'NAME'], USAGE);
        await backend.activateSieveScript(email!, name!);
        process.stdout.write(`${name}\tactive\n`);
        return EXIT.ok;
      }
      default:
        throw usageError(action ? `unknown action: sieve ${action}` : 'missing action', USAGE);
    }
  });
}
