/**
 * HELO/EHLO syntax on port 25 (RFC 5321 4.1.1.1): the argument is the client's domain name or, for
 * a host without one, an address literal ("[192.0.2.1]", "[IPv6:2001:db8::1]"). smtp-server only
 * refuses control characters; anything else is taken and ends up in the Received header. A client
 * that cannot say who it is in valid syntax is refused with 501 5.5.2 and a text saying what is
 * expected, as Postfix does with reject_invalid_helo_hostname. Submission and LMTP clients are
 * our own users' programs and a local MTA, so they are not held to this.
 */
import net from 'node:net';
import type { SMTPServer } from 'smtp-server';

type SmtpConnection = SMTPServer['connections'] extends Set<infer C> ? C : never;

/**
 * One label: letters and digits, hyphens inside. Underscores are let through, as Postfix does:
 * Windows machine names carry them and refusing them stops mail without stopping any spam.
 * Bytes above 0x7f are UTF-8 U-labels, which RFC 6531 (SMTPUTF8) allows.
 */
const LABEL = /^[A-Za-z0-9_\u0080-\uffff](?:[A-Za-z0-9_\u0080-\uffff-]{0,61}[A-Za-z0-9_\u0080-\uffff])?$/;

/** Whether `name` is a domain name in RFC 5321 syntax (a bare IPv4 address is one, too). */
export function isHeloDomain(name: string): boolean {
  if (name.length === 0 || name.length > 255) return false;
  return name.split('.').every((label) => LABEL.test(label));
}

/** Whether `literal` is an address literal: "[IPv4]" or "[IPv6:address]". */
export function isAddressLiteral(literal: string): boolean {
  const inner = /^\[(.*)\]$/.exec(literal)?.[1];
  if (inner === undefined) return false;
  if (/^IPv6:/i.test(inner)) return net.isIPv6(inner.slice(5));
  return net.isIPv4(inner);
}

/** The text of the refusal: what was wrong and what is expected. */
export function heloRefusal(verb: string, argument: string | undefined): string | null {
  if (argument === undefined) {
    return `5.5.2 Syntax: ${verb} needs your domain name or an address literal such as [192.0.2.1]`;
  }
  if (isHeloDomain(argument) || isAddressLiteral(argument)) return null;
  return `5.5.2 Syntax: ${verb} ${argument.slice(0, 100)}: not a domain name or an address literal such as [192.0.2.1]`;
}

/** Refuses HELO and EHLO commands whose argument is neither a domain name nor an address literal. */
export function checkHeloSyntax(connection: SmtpConnection): void {
  const onCommand = connection._onCommand.bind(connection);
  connection._onCommand = (command, callback) => {
    const words = (command || Buffer.alloc(0)).toString('utf8').trim().split(/\s+/);
    const verb = words[0]!.toUpperCase();
    if ((verb === 'HELO' || verb === 'EHLO') && connection._ready && !connection._upgrading) {
      // More than one word: smtp-server's own 501 says so.
      const refusal = words.length > 2 ? null : heloRefusal(verb, words[1]);
      if (refusal) {
        connection.send(501, refusal);
        return callback?.();
      }
    }
    onCommand(command, callback);
  };
}
