/**
 * Database commands per IMAP operation and per delivery on the mongodb engine, counted with the
 * driver's command monitoring (MongoStore.onCommand) on a server running in this process: the
 * machine-independent cost measure of test/mongodb/query-cost.test.ts and bench/mongo-commands.ts.
 */
import type { RunningServer } from '../../server/main.ts';
import type { MongoStore } from '../../server/store/mongodb/store.ts';
import { LineClient } from '../helpers/server.ts';
import { FINAL, TextClient } from './support.ts';

export interface CommandCost {
  operation: string;
  commands: number;
  /** Command names and how often, for the report. */
  detail: string;
}

/**
 * Counts the commands `run` makes the store send, the journal polls of the process included (they
 * run every 250 ms whatever the operation: the longer it takes, the more of them), shown apart, as
 * are the recount janitor's look for marks and the readers' journal counter check (once a second).
 */
async function counted(
  store: MongoStore,
  run: () => Promise<unknown>,
): Promise<{ commands: number; detail: string }> {
  const names = new Map<string, number>();
  let journal = 0;
  let janitor = 0;
  let heads = 0;
  const stop = store.onCommandReply((command) => {
    const name = Object.keys(command)[0] ?? '?';
    names.set(name, (names.get(name) ?? 0) + 1);
    const collection = command.find ?? (command.getMore !== undefined ? command.collection : null);
    if (collection === 'journal' || collection === 'user_journal') journal++;
    // The recount janitor's look for marks (once a second) and the readers' journal counter check.
    if (collection === 'mailbox_recounts') janitor++;
    if (collection === 'counters' && command.find !== undefined) heads++;
  });
  try {
    await run();
  } finally {
    stop();
  }
  const commands = [...names.values()].reduce((a, b) => a + b, 0);
  const detail = [...names].map(([name, count]) => `${name} ${count}`).join(', ');
  const background = [
    journal > 0 ? `journal polls ${journal}` : '',
    heads > 0 ? `journal counter checks ${heads}` : '',
    janitor > 0 ? `recount janitor ${janitor}` : '',
  ].filter((part) => part !== '');
  return { commands, detail: background.length > 0 ? `${detail}; ${background.join(', ')}` : detail };
}

/**
 * Measures, on `user`'s INBOX: a fresh SELECT (no other session has it), SEARCH by flag, header,
 * body and size, STATUS, EXPUNGE of `expungeCount` messages flagged \Deleted first, and one LMTP
 * delivery.
 */
export async function measureCommandCosts(
  server: RunningServer,
  ports: { imap: number; lmtp: number },
  user: { username: string; password: string },
  expungeCount = 5,
): Promise<CommandCost[]> {
  const store = server.store as MongoStore;
  const costs: CommandCost[] = [];
  const measure = async (operation: string, run: () => Promise<unknown>) => {
    costs.push({ operation, ...(await counted(store, run)) });
  };
  const imap = await LineClient.connect(ports.imap);
  await imap.readUntil(/^\* OK/);
  await imap.command('l', `LOGIN ${user.username} ${user.password}`, 60_000);
  const ok = async (tag: string, command: string) => {
    const reply = await imap.command(tag, command, 600_000);
    if (!new RegExp(`^${tag} OK`, 'm').test(reply)) throw new Error(`${command}: ${reply.slice(-300)}`);
    return reply;
  };
  await measure('STATUS (MESSAGES UNSEEN SIZE)', () => ok('st', 'STATUS INBOX (MESSAGES UNSEEN SIZE)'));
  await measure('SELECT', () => ok('s', 'SELECT INBOX'));
  await measure('SEARCH FLAGGED', () => ok('f', 'UID SEARCH FLAGGED'));
  await measure('SEARCH LARGER 2000', () => ok('z', 'UID SEARCH LARGER 2000'));
  await measure('SEARCH HEADER SUBJECT', () => ok('h', 'UID SEARCH HEADER SUBJECT "needle-subject"'));
  await measure('SEARCH BODY', () => ok('b', 'UID SEARCH BODY "needle-body"'));
  // A needle with a whole word: what a text index can narrow (store/mongodb/text-search.ts).
  await measure('SEARCH BODY (words)', () => ok('w', 'UID SEARCH BODY "the needle-body is here"'));
  await ok('d', `STORE 1:${expungeCount} +FLAGS.SILENT (\\Deleted)`);
  await measure(`EXPUNGE (${expungeCount} messages)`, () => ok('e', 'EXPUNGE'));
  await measure('EXAMINE', () => ok('x', 'EXAMINE INBOX'));
  imap.close();
  const lmtp = await TextClient.connect(ports.lmtp);
  await lmtp.read(FINAL);
  await lmtp.send('LHLO cost.example', FINAL);
  await measure('LMTP delivery', async () => {
    await lmtp.send('MAIL FROM:<sender@example.net>', FINAL);
    await lmtp.send(`RCPT TO:<${user.username}>`, FINAL);
    await lmtp.send('DATA', FINAL);
    const reply = await lmtp.send(`Subject: delivered\r\n\r\nbody\r\n.`, FINAL, 60_000);
    if (!reply.startsWith('250')) throw new Error(`delivery: ${reply}`);
  });
  lmtp.close();
  return costs;
}
