/**
 * The `mallard` command. Each subcommand returns its exit code; failures meant for a person are
 * printed to stderr without a stack trace.
 */
import { ConfigError } from '../config/load.ts';
import { isStoreError, type StoreErrorCode } from '../store/errors.ts';
import { VERSION } from '../version.ts';
import { CliError, EXIT } from './cli-error.ts';
import { aliasCommand } from './commands/alias.ts';
import { certCommand } from './commands/cert.ts';
import { dbCommand } from './commands/db.ts';
import { deliverCommand } from './commands/deliver.ts';
import { dkimCommand } from './commands/dkim.ts';
import { mailboxCommand } from './commands/mailbox.ts';
import { messageCommand } from './commands/message.ts';
import { queueCommand } from './commands/queue.ts';
import { ruleCommand } from './commands/rule.ts';
import { serveCommand } from './commands/serve.ts';
import { sessionsCommand } from './commands/sessions.ts';
import { statusCommand } from './commands/status.ts';
import { userCommand } from './commands/user.ts';

const HELP = `mallard ${VERSION}: a self-hosted IMAP/POP3 mail server

usage: mallard COMMAND [ARGS] [--config FILE] [--offline]

  serve                                  run the mail server
  panel [--port N] [--no-server]         the control panel in a browser (serves it, runs the server)
  panel --install-service [--dry-run]    a systemd unit that starts the panel at boot
  start                                  the desktop app where it can run, else \`mallard panel\`
  user add EMAIL --password PW|-         create an account (- reads the password from stdin)
  user list | show EMAIL | passwd EMAIL | disable EMAIL | enable EMAIL | del EMAIL
  alias add ADDRESS EMAIL | del ADDRESS | list EMAIL
                                         extra addresses; *@domain is a catch-all
  deliver RECIPIENT... < message         local delivery (exit 67: unknown user, 75: try later)
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
  status                                 the running server's status, else configuration and
                                         store health
  db migrate --to mongodb://HOST/DB      copy the configured store into MongoDB (UIDs, flags and
                                         bytes kept), then verify; run again to resume
  db shard --uri mongodb://MONGOS/DB     shard the database on a sharded cluster (--dry-run prints)
  db status                              the store engine, whether it answers, what it holds
  queue list | show ID | retry ID | delete ID
                                         the outbound queue: state per recipient, last error
  dkim show DOMAIN                       the DNS TXT record of the domain's DKIM key

List commands take --json. The configuration file comes from --config or MALLARD_CONFIG;
every key can also be set as MALLARD_<KEY_PATH>, e.g. MALLARD_IMAP_PORT=1143.
When a server runs for the configuration, user, alias, rule, cert and status talk to its admin
API (token from <data_dir>/admin.token); otherwise they open the store directly. --offline (or
MALLARD_CLI_OFFLINE=1) always opens the store directly.
`;

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  serve: serveCommand,
  user: userCommand,
  alias: aliasCommand,
  deliver: deliverCommand,
  mailbox: mailboxCommand,
  message: messageCommand,
  rule: ruleCommand,
  sessions: sessionsCommand,
  cert: certCommand,
  status: statusCommand,
  db: dbCommand,
  queue: queueCommand,
  dkim: dkimCommand,
};

const STORE_EXIT: Partial<Record<StoreErrorCode, number>> = {
  NONEXISTENT: EXIT.noUser,
  UNAVAILABLE: EXIT.tempFail,
  INVALID: EXIT.dataError,
  // what the admin API answers 409 conflict for, so both paths exit alike
  ALREADYEXISTS: EXIT.dataError,
  CANNOT: EXIT.dataError,
};

async function run(args: string[]): Promise<number> {
  // --offline is global: it may stand anywhere, and the commands see it as MALLARD_CLI_OFFLINE.
  const argv = args.filter((arg) => arg !== '--offline');
  if (argv.length !== args.length) process.env.MALLARD_CLI_OFFLINE = '1';
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(HELP);
    return name ? EXIT.ok : EXIT.usage;
  }
  if (name === 'version' || name === '--version') {
    process.stdout.write(`${VERSION}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`mallard: unknown command: ${name}\n\n${HELP}`);
    return EXIT.usage;
  }
  return command(rest);
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CliError) return error.code;
  if (error instanceof ConfigError) return EXIT.config;
  if (isStoreError(error)) return STORE_EXIT[error.code] ?? EXIT.failure;
  return EXIT.software;
}

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`mallard: ${message}\n`);
  if (exitCodeFor(error) === EXIT.software && error instanceof Error)
    process.stderr.write(`${error.stack}\n`);
  process.exitCode = exitCodeFor(error);
}
