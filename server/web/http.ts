/**
 * What every route of the web server shares: the request as routes see it, the reply they return,
 * and the small parsing steps (host, address) that decide whether a request is about one of our
 * domains.
 */
import type { AccountSettings } from '../../renderer/src/components/devices/profiles.ts';
import type { Config } from '../config/schema.ts';
import type { TlsProvider } from '../tls/context.ts';

export interface WebRequest {
  method: string;
  /** The path without the query, as sent (case kept: the Autodiscover paths differ only by case). */
  path: string;
  query: URLSearchParams;
  /** The Host header without port and trailing dot, lower-cased ("" when absent). */
  host: string;
  /** The body as UTF-8 text (POST only; at most MAX_BODY_BYTES). */
  body: string;
}

export interface WebReply {
  status: number;
  type: string;
  body: string | Buffer;
  headers?: Record<string, string>;
}

/** What the routes need of the running server. */
export interface WebContext {
  config: Config;
  /** Whether Mallard takes mail for a domain (server/smtp/local-domains.ts). */
  domains: { has(domain: string): Promise<boolean> };
  /** The ways in for one address, with the ports in force (disabled listeners left out). */
  account(email: string): AccountSettings;
  tls: TlsProvider;
}

export interface Route {
  /** Methods this route answers; others get 405 with an Allow header. */
  readonly methods: readonly string[];
  matches(path: string): boolean;
  handle(request: WebRequest, context: WebContext): Promise<WebReply>;
}

/** Autodiscover requests are a few hundred bytes; nothing else has a body. */
export const MAX_BODY_BYTES = 16 * 1024;

export function notFound(): WebReply {
  return { status: 404, type: 'text/plain; charset=utf-8', body: 'Not found\n' };
}

export function badRequest(message: string): WebReply {
  return { status: 400, type: 'text/plain; charset=utf-8', body: `${message}\n` };
}

/** The Host header's name: lower case, without port or trailing dot; "" for a missing or odd one. */
export function hostName(header: string | undefined): string {
  if (!header) return '';
  const name = header.startsWith('[') ? header.slice(0, header.indexOf(']') + 1) : header.split(':')[0]!;
  const clean = name.toLowerCase().replace(/\.$/, '');
  return /^[a-z0-9.[\]:-]{1,253}$/.test(clean) ? clean : '';
}

/**
 * An e-mail address as clients send it (`emailaddress=`, `<EMailAddress>`), lower-cased domain, or
 * null when it is not one: no spaces, quotes or angle brackets, one @, a domain of DNS labels.
 */
export function parseAddress(value: string | null | undefined): { address: string; domain: string } | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (trimmed.length > 254) return null;
  const match = /^([^\s@<>"'&]{1,64})@([a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63})*)$/i.exec(trimmed);
  if (!match) return null;
  const domain = match[2]!.toLowerCase();
  return { address: `${match[1]}@${domain}`, domain };
}

/** The mail domain a special host name stands for: `autoconfig.example.org` → `example.org`. */
export function domainUnder(host: string, prefix: string): string | null {
  return host.startsWith(`${prefix}.`) && host.length > prefix.length + 1
    ? host.slice(prefix.length + 1)
    : null;
}
