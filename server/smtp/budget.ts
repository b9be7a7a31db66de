/**
 * What one SMTP, LMTP or submission connection may spend beyond smtp-server's idle timeout, which
 * any byte pushes back: a client dripping a byte every few seconds would otherwise hold its
 * connection, and a transaction, for as long as it likes.
 * - Time: a command line must arrive in full within `commandMs` of our last reply (RFC 5321
 *   4.5.3.2: 5 minutes); a transaction (MAIL FROM to the end of DATA) must end within
 *   `transactionMs`; DATA itself within `commandMs` of the DATA command. Message bytes earn time at
 *   `minDataRate` bytes a second, so a big message on a slow line still gets through (Postfix's
 *   smtpd_min_data_rate). Time the client waits for us (a handler running, a message being
 *   delivered) never counts. Over budget: `421 4.4.2` and the connection is closed; a transaction
 *   cut short stores nothing.
 * - Errors: after `maxErrors` error replies the connection is closed with `421 4.7.0` (Postfix's
 *   smtpd_hard_error_limit). NOOP, RSET, VRFY and HELP beyond `JUNK_COMMAND_LIMIT` between two
 *   accepted messages each count as an error (Postfix's smtpd_junk_command_limit), so a client
 *   cannot keep an idle connection alive for ever with harmless commands.
 * - Volume: after `maxRecipients` RCPT commands (a client probing which addresses exist, one
 *   transaction after another) or `maxCommands` commands of any kind, `421 4.7.0` and close.
 */
import type { SMTPServer } from 'smtp-server';

type SmtpConnection = SMTPServer['connections'] extends Set<infer C> ? C : never;

export interface ConnectionBudget {
  commandMs: number;
  transactionMs: number;
  /** Bytes a second a message must at least arrive at to earn its time. */
  minDataRate: number;
  maxErrors: number;
  /** RCPT commands over all of the connection's transactions. */
  maxRecipients: number;
  /** Commands of any kind. */
  maxCommands: number;
}

/** Postfix's default smtpd_junk_command_limit. */
const JUNK_COMMAND_LIMIT = 100;
const JUNK_COMMANDS = new Set(['NOOP', 'RSET', 'VRFY', 'HELP', 'EXPN']);
/** Not the client's error: the goodbye of a connection being closed anyway. */
const NOT_COUNTED = new Set([421]);

export function applyBudget(connection: SmtpConnection, budget: ConnectionBudget, hostname: string): void {
  let repliedAt = Date.now();
  let mailCommandAt = repliedAt;
  let dataCommandAt = repliedAt;
  let errors = 0;
  let junk = 0;
  let recipients = 0;
  let commands = 0;
  let timer: NodeJS.Timeout | null = null;

  /** Milliseconds the bytes of the message in transfer have earned. */
  const earned = (): number => {
    const parser = connection._parser;
    return parser ? (parser.dataBytes / budget.minDataRate) * 1000 : 0;
  };
  const inData = (): boolean => connection._parser !== false && connection._parser._dataMode;
  const inTransaction = (): boolean => Boolean(connection.session.envelope?.mailFrom);
  /** The client waits for us: a handler has not called back, or a received message awaits its verdict. */
  const waitsForUs = (): boolean =>
    connection._handlerPending || (Boolean(connection._dataStream) && !inData());

  /** When the client runs out of time, as things stand now. */
  function dueAt(): number {
    let due = inData() ? dataCommandAt + budget.commandMs + earned() : repliedAt + budget.commandMs;
    if (inTransaction()) due = Math.min(due, mailCommandAt + budget.transactionMs + earned());
    return due;
  }

  function arm(): void {
    if (timer) clearTimeout(timer);
    if (connection._closing) return;
    timer = setTimeout(check, Math.max(dueAt() - Date.now(), 0) + 1);
    timer.unref();
  }

  function check(): void {
    timer = null;
    if (connection._closing) return;
    if (waitsForUs() || Date.now() < dueAt()) return arm();
    connection.send(421, `4.4.2 ${hostname} Error: timeout exceeded, closing connection`);
  }

  const send = connection.send.bind(connection);
  /** Counts one error; true (and the connection is closed) when that was one too many. */
  function overErrorBudget(): boolean {
    if (++errors < budget.maxErrors) return false;
    send(421, `4.7.0 ${hostname} Error: too many errors, closing connection`);
    return true;
  }

  const onCommand = connection._onCommand.bind(connection);
  connection._onCommand = (command, callback) => {
    const verb = (command || Buffer.alloc(0)).toString('latin1').split(' ', 1)[0]!.toUpperCase();
    const now = Date.now();
    if (verb === 'MAIL' && !inTransaction()) mailCommandAt = now;
    // BDAT (submission's CHUNKING) reads its chunk in the parser's data mode, as DATA its message.
    if (verb === 'DATA' || verb === 'BDAT') dataCommandAt = now;
    if (JUNK_COMMANDS.has(verb) && ++junk > JUNK_COMMAND_LIMIT && overErrorBudget()) return;
    if ((verb === 'RCPT' && ++recipients > budget.maxRecipients) || ++commands > budget.maxCommands) {
      const what = recipients > budget.maxRecipients ? 'recipients' : 'commands';
      return send(421, `4.7.0 ${hostname} Error: too many ${what} in one connection, closing connection`);
    }
    onCommand(command, callback);
  };

  connection.send = (code, data, context) => {
    send(code, data, context);
    if (connection._closing) {
      if (timer) clearTimeout(timer);
      return;
    }
    repliedAt = Date.now();
    if (code === 250 && context === 'DATA_OK') junk = 0;
    if (code >= 400 && !NOT_COUNTED.has(code) && overErrorBudget()) return;
    arm();
  };

  arm();
}
