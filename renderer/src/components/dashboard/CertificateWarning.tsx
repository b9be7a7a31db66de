/** Warns when the active certificate has expired or expires within 30 days, with a way to fix it. */
import { Alert, Anchor, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { ApiError } from '../../api/client.ts';
import { certificateConcern, statusApi, type CertificateSummary } from '../../api/status.ts';
import { formatDate } from '../format.ts';

function describe(certificate: CertificateSummary): string {
  return certificate.names.length > 0 ? certificate.names.join(', ') : certificate.subject;
}

export function CertificateWarning() {
  const certificates = useQuery({
    queryKey: ['certificates', 'dashboard'],
    queryFn: statusApi.certificates,
    refetchInterval: 60_000,
  });
  // A server without certificate management (501) has nothing to warn about.
  if (certificates.error instanceof ApiError && certificates.error.code === 'not_implemented') return null;
  if (certificates.error) {
    return (
      <Text size="sm" c="dimmed" data-testid="certificate-check-failed">
        The certificates could not be checked: {certificates.error.message}
      </Text>
    );
  }
  const concern = certificates.data ? certificateConcern(certificates.data.certificates) : null;
  if (!concern) return null;
  const { certificate } = concern;
  const expired = concern.kind === 'expired';
  return (
    <Alert
      color={expired ? 'red' : 'yellow'}
      variant="light"
      title={expired ? 'The TLS certificate has expired' : 'The TLS certificate expires soon'}
      data-testid="certificate-warning"
      data-kind={concern.kind}
    >
      {expired
        ? `The certificate for ${describe(certificate)} expired on ${formatDate(certificate.notAfter)}. Mail clients will refuse to connect over TLS or show warnings.`
        : `The certificate for ${describe(certificate)} expires in ${concern.days} day${concern.days === 1 ? '' : 's'} (${formatDate(certificate.notAfter)}).`}{' '}
      <Anchor component={Link} to="/certificates">
        Renew it on the Certificates page
      </Anchor>
    </Alert>
  );
}
