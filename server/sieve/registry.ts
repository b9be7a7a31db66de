/** Every command and test the interpreter knows, by name. */
import type { CommandDefinition, TestDefinition } from './definition.ts';
import { address } from './commands/address.ts';
import { body } from './commands/body.ts';
import { elseCommand, elsifCommand, ifCommand } from './commands/control.ts';
import { currentdate, date } from './commands/date.ts';
import { discard } from './commands/discard.ts';
import { duplicate } from './commands/duplicate.ts';
import { addheader, deleteheader } from './commands/editheader.ts';
import { envelope } from './commands/envelope.ts';
import { exists } from './commands/exists.ts';
import { fileinto } from './commands/fileinto.ts';
import { addflag, removeflag, setflag } from './commands/flags.ts';
import { hasflag } from './commands/hasflag.ts';
import { header } from './commands/header.ts';
import { global, include, returnCommand } from './commands/include.ts';
import { keep } from './commands/keep.ts';
import { allof, anyof, falseTest, not, trueTest } from './commands/logic.ts';
import { mailboxexists, specialuseExists } from './commands/mailbox.ts';
import { redirect } from './commands/redirect.ts';
import { ereject, reject } from './commands/reject.ts';
import { require } from './commands/require.ts';
import { set } from './commands/set.ts';
import { size } from './commands/size.ts';
import { stop } from './commands/stop.ts';
import { string } from './commands/string.ts';
import { vacation } from './commands/vacation.ts';

const COMMANDS = new Map<string, CommandDefinition>(
  [
    require,
    ifCommand,
    elsifCommand,
    elseCommand,
    stop,
    keep,
    discard,
    fileinto,
    redirect,
    reject,
    ereject,
    vacation,
    setflag,
    addflag,
    removeflag,
    set,
    include,
    returnCommand,
    global,
    addheader,
    deleteheader,
  ].map((definition) => [definition.name, definition]),
);

const TESTS = new Map<string, TestDefinition>(
  [
    address,
    header,
    envelope,
    exists,
    size,
    allof,
    anyof,
    not,
    trueTest,
    falseTest,
    body,
    string,
    hasflag,
    date,
    currentdate,
    duplicate,
    mailboxexists,
    specialuseExists,
  ].map((definition) => [definition.name, definition]),
);

export function commandDefinition(name: string): CommandDefinition | undefined {
  return COMMANDS.get(name);
}

export function testDefinition(name: string): TestDefinition | undefined {
  return TESTS.get(name);
}
