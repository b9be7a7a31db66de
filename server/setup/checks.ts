/**
 * What a household still has to do before phones and other mail servers can use this server — the
 * list the dashboard shows and the first-run wizard walks through. Pure: the admin API gathers the
 * facts, this says what they mean.
 */
import net from 'node:net';
import { nameMatches } from '../tls/store.ts';

export type SetupCheckId = 'domains' | 'public-name' | 'accounts' | 'certificate' | 'dns';

export interface SetupCheck {
  id: SetupCheckId;
  ok: boolean;
  /** One line for the list ("DNS not checked for example.org"). */
  title: string;
  /** What to do about it, or what is fine. */
  detail: string;
  /** The wizard step that fixes it. */
  step: number;
}

export interface SetupFacts {
  hostname: string;
  domains: string[];
  accounts: number;
  /** The certificate clients get without SNI; null when none is active. */
  activeCertificate: { names: string[]; kind: string; trust: string; expired: boolean } | null;
  dnsChecks: Record<string, { at: string; ok: boolean }>;
}

/** The wizard's steps, in order; a check names the one that fixes it. */
export const SETUP_STEPS = ['domains', 'public-name', 'accounts', 'certificate', 'dns'] as const;

function step(id: SetupCheckId): number {
  return SETUP_STEPS.indexOf(id);
}

/** A name other servers and phones can look up: dotted, not an address, not localhost. */
export function isPublicName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name.includes('.') && net.isIP(name) === 0 && name !== 'localhost' && !name.endsWith('.localhost');
}

function domainsCheck(facts: SetupFacts): SetupCheck {
  return facts.domains.length > 0
    ? {
        id: 'domains',
        ok: true,
        title: `Mail domains: ${facts.domains.join(', ')}`,
        detail: '',
        step: step('domains'),
      }
    : {
        id: 'domains',
        ok: false,
        title: 'No mail domain yet',
        detail: 'Add the domain your addresses end in (example.org).',
        step: step('domains'),
      };
}

function publicNameCheck(facts: SetupFacts): SetupCheck {
  if (isPublicName(facts.hostname)) {
    return {
      id: 'public-name',
      ok: true,
      title: `Public name: ${facts.hostname}`,
      detail: '',
      step: step('public-name'),
    };
  }
  return {
    id: 'public-name',
    ok: false,
    title: `The server's public name is "${facts.hostname}"`,
    detail: 'Phones and other mail servers need a DNS name such as mail.example.org.',
    step: step('public-name'),
  };
}

function accountsCheck(facts: SetupFacts): SetupCheck {
  return facts.accounts > 0
    ? {
        id: 'accounts',
        ok: true,
        title: `${facts.accounts} account${facts.accounts === 1 ? '' : 's'}`,
        detail: '',
        step: step('accounts'),
      }
    : {
        id: 'accounts',
        ok: false,
        title: 'No account yet',
        detail: 'Create the first mailbox.',
        step: step('accounts'),
      };
}

function certificateCheck(facts: SetupFacts): SetupCheck {
  const certificate = facts.activeCertificate;
  const fail = (title: string, detail: string): SetupCheck => ({
    id: 'certificate',
    ok: false,
    title,
    detail,
    step: step('certificate'),
  });
  if (!certificate)
    return fail('No TLS certificate is active', "Get one from Let's Encrypt or make one with the local CA.");
  if (certificate.expired) return fail('The active certificate has expired', 'Renew it or make a new one.');
  if (certificate.kind === 'self-signed') {
    return fail(
      'Clients see a self-signed certificate',
      "Get one from Let's Encrypt or make one with the local CA.",
    );
  }
  const name = facts.hostname.toLowerCase();
  if (!certificate.names.some((pattern) => nameMatches(pattern, name))) {
    return fail(
      `The certificate does not cover ${facts.hostname}`,
      `It is for ${certificate.names.join(', ') || 'no name'}: clients connecting to ${facts.hostname} will refuse it.`,
    );
  }
  const detail =
    certificate.trust === 'local-ca' ? 'Signed by the local CA: devices must install the CA once.' : '';
  return {
    id: 'certificate',
    ok: true,
    title: `The certificate covers ${facts.hostname}`,
    detail,
    step: step('certificate'),
  };
}

function dnsChecks(facts: SetupFacts): SetupCheck[] {
  return facts.domains.map((domain) => {
    const mark = facts.dnsChecks[domain.toLowerCase()];
    const base = { id: 'dns' as const, step: step('dns') };
    if (!mark)
      return {
        ...base,
        ok: false,
        title: `DNS not checked for ${domain}`,
        detail: 'Publish the records, then Check DNS.',
      };
    if (!mark.ok)
      return {
        ...base,
        ok: false,
        title: `DNS records of ${domain} are missing or wrong`,
        detail: `Checked ${mark.at}.`,
      };
    return { ...base, ok: true, title: `DNS of ${domain} checked`, detail: `Checked ${mark.at}.` };
  });
}

export function setupChecks(facts: SetupFacts): SetupCheck[] {
  return [
    domainsCheck(facts),
    publicNameCheck(facts),
    accountsCheck(facts),
    certificateCheck(facts),
    ...dnsChecks(facts),
  ];
}
