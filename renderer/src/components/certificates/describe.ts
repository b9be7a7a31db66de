/** How a certificate is named in lists and confirmations. */
import type { Certificate } from '../../api/certificates.ts';

export const KIND_LABELS: Record<Certificate['kind'], string> = {
  ca: 'Local CA',
  server: 'Server (local CA)',
  imported: 'Imported',
  'self-signed': 'Self-signed (default)',
};

export function certificateName(certificate: Certificate): string {
  const label = KIND_LABELS[certificate.kind];
  if (certificate.kind === 'ca') return `${label} “${commonName(certificate.subject)}”`;
  const names = certificate.names.length > 0 ? certificate.names.join(', ') : certificate.subject;
  return `${label} certificate for ${names}`;
}

/** The CN of a distinguished name ("CN=mail.example.org, O=Mallard" → "mail.example.org"). */
export function commonName(dn: string): string {
  return /(?:^|,\s*)CN=([^,]+)/.exec(dn)?.[1]?.trim() ?? dn;
}
