/**
 * The Authentication-Results header field (RFC 8601) for what verify.ts found, and the removal
 * of incoming ones that claim to be ours: RFC 8601 5 has a border MTA delete fields bearing its
 * own authserv-id, else a sender could write "dkim=pass" in the name of our server.
 */
import libmime from 'libmime';
import { withoutFields } from '../../delivery/trace.ts';
import type { AuthResults } from './verify.ts';

/** The result lines, in mailauth's order: each DKIM signature, SPF, ARC, DMARC. */
function resultLines(results: AuthResults): string[] {
  const lines = results.dkim.results.map((row) => row.info);
  if (results.spf) lines.push(results.spf.info);
  if (results.arc && results.arc.info) lines.push(results.arc.info);
  if (results.dmarc && results.dmarc.info) lines.push(results.dmarc.info);
  return lines.filter((line): line is string => typeof line === 'string' && line !== '');
}

/** A host name is a token (RFC 2045) as it is; anything else is written as a quoted string. */
function authservId(hostname: string): string {
  if (/^[A-Za-z0-9.-]+$/.test(hostname)) return hostname;
  return `"${hostname.replace(/[\\"\r\n]/g, (c) => (c === '\r' || c === '\n' ? '' : `\\${c}`))}"`;
}

/** "Authentication-Results: mx.example.org;\r\n dkim=pass ...;\r\n spf=pass ...\r\n" */
export function authenticationResults(hostname: string, results: AuthResults): string {
  const lines = resultLines(results).map((line) => libmime.foldLines(line, 160));
  const value = lines.length > 0 ? lines.join(';\r\n ') : 'none';
  return `Authentication-Results: ${authservId(hostname)};\r\n ${value}\r\n`;
}

const AUTH_RESULTS = /^authentication-results[ \t]*:/i;

/** The authserv-id a field's value starts with (comments and quotes taken away), lower case. */
export function authservIdOf(field: string): string {
  const value = field
    .replace(/^[^:]*:/, '')
    .replace(/\r?\n/g, '')
    .replace(/\((?:[^()\\]|\\.)*\)/g, ' ')
    .trim();
  const token = /^("(?:[^"\\]|\\.)*"|[^\s;]+)/.exec(value);
  if (!token) return '';
  return token[1]!.replace(/^"|"$/g, '').replace(/\\(.)/g, '$1').toLowerCase();
}

/** The message without the Authentication-Results fields that claim `hostname` as authserv-id. */
export function withoutOurAuthResults(message: Buffer, hostname: string): Buffer {
  const ours = hostname.toLowerCase();
  return withoutFields(message, (field) => {
    const text = field.toString('latin1');
    return AUTH_RESULTS.test(text) && authservIdOf(text) === ours;
  });
}
