/**
 * The `mallard` command. Each subcommand returns its exit code; failures meant for a person are
 * printed to stderr without a stack trace.
 */
import { VERSION } from '../version.ts';
import { EXIT } from './cli-error.ts';
import { commandArgs, runCommand } from './run-command.ts';

const HELP = `mallard ${VERSION}: a self-hosted IMAP/POP3 mail server

usage: mallard COMMAND [ARGS] [--config FILE] [--offline]

  serve                                  run the mail server
  panel [--port N] [--no-server]         the control panel in a browser (serves it, runs the server)
  panel --install-service [--dry-run]    a systemd unit that starts the panel at boot
  start                                  the desktop app where it can run, else \`mallard panel\`
  user add EMAIL --password PW|-         create an account (- reads the password from stdin)
  user list | show EMAIL | passwd EMAIL | disable EMAIL | enable EMAIL | del EMAIL
  user save-sent EMAIL on|off            submission keeps a copy of sent mail in Sent (default off)
  domain add NAME | list | show NAME | remove NAME
                                         mail domains (users and aliases need theirs first);
                                         show gives the DNS records to publish
  domain set NAME [--catch-all ADDRESS|none] [--dkim on|off]
  domain check NAME                      what DNS answers for each record, with hints
  alias add ADDRESS EMAIL | del ADDRESS | list EMAIL
                                         extra addresses; *@domain is a catch-all
  spam allow EMAIL SENDER | block EMAIL SENDER | remove EMAIL SENDER | list EMAIL
                                         a user's allowed and blocked senders (address or domain)
  sieve list EMAIL | put EMAIL NAME FILE | activate EMAIL NAME | check FILE
                                         a user's Sieve filters (put and check give errors with
                                         line and column, exit 65)
  filters show EMAIL | set EMAIL FILE.json [--overwrite]
                                         Gmail-like filters (the panel's Filters page), kept as
                                         the Sieve script "mallard-filters"
  forward EMAIL ADDRESS [--keep] | EMAIL --off
                                         forward all mail (--keep: keep a copy here too)
  vacation EMAIL --subject S --body B [--from DATE] [--until DATE] [--days N] | EMAIL --off
                                         the vacation reply, once per sender every N days (7)
  deliver [--from SENDER] RECIPIENT... < message
                                         local delivery (exit 67: unknown user, 75: try later);
                                         an MTA should rather use LMTP (see README)
  import imap --user EMAIL --host HOST --login LOGIN [--tls|--starttls|--plain] [--port N]
         [--password-file F] [--folders A,B] [--all-mail] [--max-rate N] [--max-bytes-rate N]
                                         copy a user's mail from another IMAP server (password
                                         also from MALLARD_IMPORT_PASSWORD); run again for what
                                         is new, or to resume
  import mbox|maildir EMAIL PATH [--mailbox NAME]
                                         mail from files: an mbox file, Thunderbird's local
                                         folders, Apple Mail's export, a Maildir, or a tar of
                                         these; flags and dates kept, nothing imported twice
  export EMAIL --format mbox|maildir --out FILE [--mailbox NAME]
                                         a user's mail (or one mailbox) as a tar of mbox files
                                         or of a Maildir that Dovecot reads
  mailbox list EMAIL                     a user's mailboxes
  message list EMAIL MAILBOX             messages, one line per UID
  message show EMAIL MAILBOX UID [--raw] a message; --raw gives the exact stored bytes
  rule list | add KIND ... | del ID | move ID POSITION | test ADDRESS
                                         connection rules: add deny|allow CIDR...,
                                         max-conn N, rate N, lockout N --window SECONDS,
                                         require-tls; --protocol P, --note TEXT
  rule enable ID | disable ID
  sessions [--json] | sessions kick ID   live sessions of the running server
  cert list | ca [--ecdsa] [--name CN]   TLS certificates: a local CA, server certificates
  cert issue NAME... [--ecdsa] [--days N] [--activate]
  cert import --cert FILE --key FILE [--activate]
  cert activate ID | remove ID | export-ca [--der]
  cert acme issue [--accept-terms] [--challenge TYPE] | renew [--force] | status | confirm
  status                                 the running server's status, else configuration and
                                         store health
  db migrate --to mongodb://HOST/DB      copy the configured store into MongoDB (UIDs, flags and
                                         bytes kept), then verify; run again to resume
  db shard --uri mongodb://MONGOS/DB     shard the database on a sharded cluster (--dry-run prints)
  db status                              the store engine, whether it answers, what it holds
  queue list | show ID | retry ID | delete ID
                                         the outbound queue: state per recipient, last error
  dkim show DOMAIN                       the DNS TXT records of the domain's DKIM keys
  dkim rotate DOMAIN [--ed25519]         a new key (selector) signs; the old one stays published
  dkim retire DOMAIN SELECTOR            remove a key rotated out
  backup now [--to FOLDER]               back up everything into backup.destination (atomic,
                                         compressed, encrypted with backup.passphrase_file)
  backup list | verify FILE              the backups; verify re-reads one and checks every body
  backup restore FILE [--user EMAIL [--mailbox NAME]]
                                         the whole server into an empty store, or one user or
                                         mailbox into a live one (UIDs kept where it is empty)

List commands take --json. The configuration file comes from --config or MALLARD_CONFIG;
every key can also be set as MALLARD_<KEY_PATH>, e.g. MALLARD_IMAP_PORT=1143.
When a server runs for the configuration, user, alias, spam, sieve, filters, forward, vacation, rule,
cert and status talk to its admin API (token from <data_dir>/admin.token); otherwise they open the
store directly. --offline (or MALLARD_CLI_OFFLINE=1) always opens the store directly.
`;

type Command = (argv: string[]) => Promise<number>;

/**
 * Each command is loaded when it runs: `mallard deliver`, which an MTA may start for every
 * message, then loads neither the server's listeners nor the MongoDB driver nor certificate code.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./commands/serve.ts')).serveCommand,
  user: async () => (await import('./commands/user.ts')).userCommand,
  alias: async () => (await import('./commands/alias.ts')).aliasCommand,
  domain: async () => (await import('./commands/domain.ts')).domainCommand,
  spam: async () => (await import('./commands/spam.ts')).spamCommand,
  sieve: async () => (await import('./commands/sieve.ts')).sieveCommand,
  filters: async () => (await import('./commands/filters.ts')).filtersCommand,
  forward: async () => (await import('./commands/forward.ts')).forwardCommand,
  vacation: async () => (await import('./commands/vacation.ts')).vacationCommand,
  deliver: async () => (await import('./commands/deliver.ts')).deliverCommand,
  import: async () => (await import('./commands/import.ts')).importCommand,
  export: async () => (await import('./commands/export.ts')).exportCommand,
  mailbox: async () => (await import('./commands/mailbox.ts')).mailboxCommand,
  message: async () => (await import('./commands/message.ts')).messageCommand,
  rule: async () => (await import('./commands/rule.ts')).ruleCommand,
  sessions: async () => (await import('./commands/sessions.ts')).sessionsCommand,
  cert: async () => (await import('./commands/cert.ts')).certCommand,
  status: async () => (await import('./commands/status.ts')).statusCommand,
  db: async () => (await import('./commands/db.ts')).dbCommand,
  queue: async () => (await import('./commands/queue.ts')).queueCommand,
  dkim: async () => (await import('./commands/dkim.ts')).dkimCommand,
  backup: async () => (await import('./commands/backup.ts')).backupCommand,
};

async function run(args: string[]): Promise<number> {
  const [name, ...rest] = commandArgs(args);
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(HELP);
    return name ? EXIT.ok : EXIT.usage;
  }
  if (name === 'version' || name === '--version') {
    process.stdout.write(`${VERSION}\n`);
    return EXIT.ok;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    process.stderr.write(`mallard: unknown command: ${name}\n\n${HELP}`);
    return EXIT.usage;
  }
  const command = await load();
  return command(rest);
}

void runCommand(() => run(process.argv.slice(2)));
