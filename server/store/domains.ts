/**
 * Engine-agnostic rules for domain records (see `Domain` in types.ts): how a name is validated
 * and spelled (lower-case IDNA A-label), and the domain part of a stored address.
 */
import { domainToASCII } from 'node:url';
import { StoreError } from './errors.ts';

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Why `name` is not a domain name Mallard can receive mail for, or null when it is one. Checked on
 * the A-label, so "bücher.example" passes and is stored as "xn--bcher-kva.example".
 */
export function domainProblem(name: string): string | null {
  const trimmed = typeof name === 'string' ? name.trim().replace(/\.$/, '') : '';
  if (trimmed === '') return 'a domain name is needed, e.g. example.org';
  if (trimmed.includes('@')) return 'a domain name has no "@": give only the part after it';
  if (/\s/.test(trimmed)) return 'a domain name has no spaces';
  const ascii = domainToASCII(trimmed.toLowerCase());
  if (ascii === '') return `${JSON.stringify(trimmed)} is not a valid domain name`;
  if (ascii.length > 253) return 'a domain name has at most 253 characters';
  const labels = ascii.split('.');
  if (labels.length < 2)
    return `a mail domain has at least one dot (e.g. ${ascii}.org or ${ascii}.home.arpa)`;
  const bad = labels.find((label) => !LABEL.test(label));
  if (bad !== undefined) {
    return bad === ''
      ? 'a domain name has no empty part (two dots in a row)'
      : `"${bad}" is not a valid part of a domain name: letters, digits and inner hyphens, at most 63`;
  }
  if (/^[0-9]+$/.test(labels.at(-1)!))
    return 'the last part of a domain name is not a number (an IP address is not a domain)';
  return null;
}

/** The stored spelling of a domain name: lower-case A-label, no final dot. INVALID otherwise. */
export function normalizeDomainName(name: string): string {
  const problem = domainProblem(name);
  if (problem) throw new StoreError('INVALID', problem);
  return domainToASCII(name.trim().replace(/\.$/, '').toLowerCase());
}

/** The stored spelling for a look-up; null when it cannot be a domain. */
export function tryDomainName(name: string): string | null {
  return domainProblem(name) === null ? normalizeDomainName(name) : null;
}

/**
 * The domain record an address belongs to ("" for a bare user name without "@"). Lenient: an
 * address the store accepted gets its domain recorded even where the stricter rules above would
 * refuse the name (a single-label test domain such as "localhost").
 */
export function domainOfAddress(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 0 || at === address.length - 1) return '';
  const domain = address.slice(at + 1).toLowerCase();
  return domainToASCII(domain) || domain;
}

/** "2 users and 1 alias": what keeps a domain from being deleted. */
export function usageText(users: number, aliases: number): string {
  const parts: string[] = [];
  if (users > 0) parts.push(`${users} user${users === 1 ? '' : 's'}`);
  if (aliases > 0) parts.push(`${aliases} alias${aliases === 1 ? '' : 'es'}`);
  return parts.join(' and ');
}
