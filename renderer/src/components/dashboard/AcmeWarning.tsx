/**
 * Warns when the last request or renewal of the ACME certificate failed (the served certificate
 * stays in use meanwhile), with the error and a way to the Certificates page. Follows acme.changed.
 */
import { Alert, Anchor } from '@mantine/core';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import { acmeApi } from '../../api/acme.ts';
import { useEvents } from '../../api/events.ts';
import { ACME_KEY } from '../certificates/AcmeCard.tsx';
import { formatDate } from '../format.ts';

export function AcmeWarning() {
  const queryClient = useQueryClient();
  const acme = useQuery({ queryKey: ACME_KEY, queryFn: acmeApi.status, refetchInterval: 60_000 });
  useEvents(
    (event) => {
      if (event.type === 'acme.changed') queryClient.setQueryData(ACME_KEY, event.data);
    },
    ['acme.changed'],
  );
  // No ACME part (501) or not loaded yet: nothing to say here (the certificate check speaks for TLS).
  const status = acme.data;
  if (!status || status.state !== 'failed' || !status.lastError) return null;
  return (
    <Alert
      color="red"
      variant="light"
      title="The Let's Encrypt certificate was not renewed"
      data-testid="acme-warning"
    >
      {status.lastError}
      {status.certificate
        ? ` The current certificate (valid until ${formatDate(status.certificate.notAfter)}) stays in use.`
        : ''}
      {status.enabled && status.nextAttemptAt ? ` Next attempt: ${formatDate(status.nextAttemptAt)}.` : ''}{' '}
      <Anchor component={Link} to="/certificates">
        Certificates page
      </Anchor>
    </Alert>
  );
}
