/**
 * The DNS records a mail domain publishes for Mallard, ready to copy: where its mail goes (MX),
 * who may send it (SPF, DKIM keys, DMARC), TLS policy and reports (MTA-STS, TLS-RPT), and where
 * mail clients find the server (RFC 6186 SRV records, autoconfig and autodiscover names).
 */
import type { Config } from '../config/schema.ts';
import { DkimKeys } from '../outbound/dkim.ts';
import type { Domain } from '../store/types.ts';

export type DnsPurpose =
  'MX' | 'SPF' | 'DKIM' | 'DMARC' | 'MTA-STS' | 'TLS-RPT' | 'SRV' | 'AUTOCONFIG' | 'AUTODISCOVER';

export interface DnsRecord {
  purpose: DnsPurpose;
  /** The owner name, without the final dot. */
  name: string;
  type: 'MX' | 'TXT' | 'SRV' | 'CNAME';
  /** As it goes into the zone (TXT without quotes; names with their final dot). */
  value: string;
}

/** What the records depend on besides the domain. */
export interface RecordInputs {
  hostname: string;
  imap: { enabled: boolean; port: number; tlsPort: number };
  pop3: { enabled: boolean; port: number; tlsPort: number };
  submission: { enabled: boolean; port: number };
  /** The domain's DKIM keys as published (none when signing is off for it). */
  dkim: Array<{ name: string; value: string }>;
}

export function recordInputs(config: Config, dkim: RecordInputs['dkim']): RecordInputs {
  return {
    hostname: config.hostname.toLowerCase(),
    imap: { enabled: config.imap.enabled, port: config.imap.port, tlsPort: config.imap.tls_port },
    pop3: { enabled: config.pop3.enabled, port: config.pop3.port, tlsPort: config.pop3.tls_port },
    submission: { enabled: config.submission.enabled, port: config.submission.port },
    dkim,
  };
}

/** RFC 6186: "priority weight port target."; target "." says the service is not offered. */
function srv(port: number, target: string, offered: boolean): string {
  return offered ? `0 1 ${port} ${target}.` : '0 0 0 .';
}

export function domainRecords(domain: string, inputs: RecordInputs): DnsRecord[] {
  const host = inputs.hostname;
  const { imap, pop3, submission } = inputs;
  const txt = (purpose: DnsPurpose, name: string, value: string): DnsRecord => ({
    purpose,
    name,
    type: 'TXT',
    value,
  });
  const service = (name: string, port: number, offered: boolean): DnsRecord => ({
    purpose: 'SRV',
    name: `${name}.${domain}`,
    type: 'SRV',
    value: srv(port, host, offered),
  });
  return [
    { purpose: 'MX', name: domain, type: 'MX', value: `10 ${host}.` },
    // Through a relay the relay's own SPF include belongs here too (README: DNS records).
    txt('SPF', domain, 'v=spf1 mx -all'),
    ...inputs.dkim.map((key) => txt('DKIM', key.name, key.value)),
    txt('DMARC', `_dmarc.${domain}`, `v=DMARC1; p=quarantine; rua=mailto:postmaster@${domain}`),
    // The id changes with the policy, which names our host (RFC 8461 3.1).
    txt('MTA-STS', `_mta-sts.${domain}`, `v=STSv1; id=${policyId(host)}`),
    txt('TLS-RPT', `_smtp._tls.${domain}`, `v=TLSRPTv1; rua=mailto:postmaster@${domain}`),
    service('_imaps._tcp', imap.tlsPort, imap.enabled),
    service('_imap._tcp', imap.port, imap.enabled),
    service('_submission._tcp', submission.port, submission.enabled),
    service('_pop3s._tcp', pop3.tlsPort, pop3.enabled),
    service('_pop3._tcp', pop3.port, pop3.enabled),
    { purpose: 'AUTOCONFIG', name: `autoconfig.${domain}`, type: 'CNAME', value: `${host}.` },
    { purpose: 'AUTODISCOVER', name: `autodiscover.${domain}`, type: 'CNAME', value: `${host}.` },
  ];
}

/** A short id that changes when the MTA-STS policy (the MX host it names) does. */
function policyId(host: string): string {
  let hash = 5381;
  for (const char of host) hash = ((hash * 33) ^ char.charCodeAt(0)) >>> 0;
  return `m${hash.toString(36)}`;
}

/** The records of a domain as this server's configuration and DKIM keys have them. */
export function publishedRecords(config: Config, domain: Domain): DnsRecord[] {
  const dkim = domain.dkim ? new DkimKeys(config.data_dir, config.dkim.selector).dnsRecords(domain.name) : [];
  return domainRecords(domain.name, recordInputs(config, dkim));
}
