/**
 * DNS-01 (RFC 8555 8.4) through an RFC 2136 dynamic update signed with TSIG (dns-update.ts): the TXT
 * record `_acme-challenge.<name>` is added to the operator's zone before the CA looks, and that one
 * record deleted afterwards (other TXT records at the name are left alone).
 */
import { sendUpdate, type TsigKey } from '../dns-update.ts';
import { dnsChallengeName, type ChallengeResponder, type ChallengeTask } from './types.ts';

export interface Rfc2136Options {
  /** "IP" or "IP:PORT" of the primary server. */
  server: string;
  /** Empty: the name's parent domain (mail.example.org → example.org). */
  zone: string;
  key: TsigKey;
}

/** The zone a challenge name is updated in: the configured one, else the identifier's parent. */
export function zoneFor(identifier: string, configured: string): string {
  if (configured) return configured.replace(/\.$/, '');
  const labels = identifier.replace(/^\*\./, '').split('.');
  return labels.length > 2 ? labels.slice(1).join('.') : labels.join('.');
}

export function rfc2136ChallengeResponder(options: Rfc2136Options): ChallengeResponder {
  const change = (action: 'add' | 'delete', task: ChallengeTask) =>
    sendUpdate({ server: options.server, zone: zoneFor(task.identifier, options.zone), key: options.key }, [
      { action, name: dnsChallengeName(task.identifier), value: task.keyAuthorization, ttl: 60 },
    ]);
  return {
    acmeType: 'dns-01',
    present: (task) => change('add', task),
    cleanup: (task) => change('delete', task),
    close: async () => {},
  };
}
