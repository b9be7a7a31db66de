/**
 * A certificate from Let's Encrypt (or the configured ACME CA) for the server's names: request or
 * renew it, see its state, expiry and the last error, and for the manual DNS step the TXT records
 * to publish and "Published". The status follows the acme.changed event, so a request that runs
 * for a while, or a renewal that fails at night, shows here without a reload.
 */
import {
  Alert,
  Badge,
  Button,
  Card,
  Checkbox,
  Code,
  Group,
  NativeSelect,
  Stack,
  Table,
  Text,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { acmeApi, caName, type AcmeChallenge, type AcmeStatus } from '../../api/acme.ts';
import { useEvents } from '../../api/events.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { formatDate } from '../format.ts';

export const ACME_KEY = ['acme'] as const;

const STATE_LABEL: Record<AcmeStatus['state'], { label: string; color: string }> = {
  idle: { label: 'Not requested', color: 'gray' },
  running: { label: 'Requesting…', color: 'blue' },
  'waiting-for-dns': { label: 'Waiting for DNS records', color: 'yellow' },
  valid: { label: 'Issued', color: 'green' },
  failed: { label: 'Last attempt failed', color: 'red' },
};

const CHALLENGES: Array<{ value: AcmeChallenge; label: string }> = [
  { value: 'http-01', label: 'HTTP-01 (port 80 reaches this machine)' },
  { value: 'tls-alpn-01', label: 'TLS-ALPN-01 (port 443 reaches this machine)' },
  { value: 'dns-01', label: 'DNS-01 by dynamic update (RFC 2136)' },
  { value: 'manual', label: 'DNS-01, I publish a TXT record myself' },
];

function Records({ status, onConfirm, busy }: { status: AcmeStatus; onConfirm: () => void; busy: boolean }) {
  return (
    <Stack gap="xs" data-testid="acme-records">
      <Text size="sm">Publish these TXT records in your DNS, wait until they are visible, then confirm:</Text>
      <Table withTableBorder>
        <Table.Tbody>
          {status.records.map((record) => (
            <Table.Tr key={`${record.name} ${record.value}`}>
              <Table.Td>
                <Code>{record.name}</Code>
              </Table.Td>
              <Table.Td>TXT</Table.Td>
              <Table.Td>
                <Code data-testid="acme-record-value">{record.value}</Code>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Group>
        <Button onClick={onConfirm} loading={busy} data-testid="acme-confirm">
          The records are published
        </Button>
      </Group>
    </Stack>
  );
}

export function AcmeCard({ onIssued }: { onIssued: () => void }) {
  const queryClient = useQueryClient();
  const acme = useQuery({ queryKey: ACME_KEY, queryFn: acmeApi.status });
  useEvents(
    (event) => {
      if (event.type !== 'acme.changed') return;
      queryClient.setQueryData(ACME_KEY, event.data);
      if (event.data.state === 'valid') onIssued();
    },
    ['acme.changed'],
  );
  const [accepted, setAccepted] = useState(false);
  const [challenge, setChallenge] = useState<AcmeChallenge | null>(null);
  const request = useMutation({
    mutationFn: acmeApi.issue,
    onSuccess: (status) => queryClient.setQueryData(ACME_KEY, status),
  });
  const confirm = useMutation({
    mutationFn: acmeApi.confirm,
    onSuccess: (status) => queryClient.setQueryData(ACME_KEY, status),
  });

  if (acme.error) return <ErrorNotice error={acme.error} title="The ACME status cannot be loaded" />;
  const status = acme.data;
  if (!status) return null;
  const state = STATE_LABEL[status.state];
  const busy = status.state === 'running' || status.state === 'waiting-for-dns';
  const chosen = challenge ?? status.challenge;
  const ca = caName(status.directoryUrl);

  return (
    <Card withBorder padding="lg" data-testid="acme-card">
      <Stack gap="sm">
        <Group justify="space-between" align="flex-start">
          <div>
            <Title order={3} size="h4">
              Certificate from {ca}
            </Title>
            <Text size="sm" c="dimmed" maw={720}>
              Trusted by phones and computers without installing anything. The names must point at this server
              from the internet (or use a DNS challenge).{' '}
              {status.enabled
                ? 'It is renewed automatically before it expires.'
                : 'Automatic renewal is off (acme.enabled): renew it here or with “mallard cert acme renew”.'}
            </Text>
          </div>
          <Badge color={state.color} size="lg" data-testid="acme-state">
            {state.label}
          </Badge>
        </Group>
        <Text size="sm">
          Names: <span data-testid="acme-names">{status.names.join(', ')}</span>
        </Text>
        {status.certificate && (
          <Text size="sm" data-testid="acme-certificate">
            Certificate {status.certificate.id} valid until {formatDate(status.certificate.notAfter)}
            {status.renewAfter && `, renewed after ${formatDate(status.renewAfter)}`}
            {status.certificate.active ? ' (active)' : ' (not active)'}
          </Text>
        )}
        {status.lastError && (
          <Alert color="red" variant="light" title="The last request failed" data-testid="acme-error">
            {status.lastError}
            {status.certificate && ' The certificate issued before stays in use.'}
            {status.nextAttemptAt && status.enabled && ` Next attempt: ${formatDate(status.nextAttemptAt)}.`}
          </Alert>
        )}
        {status.state === 'waiting-for-dns' && (
          <Records status={status} busy={confirm.isPending} onConfirm={() => confirm.mutate()} />
        )}
        {request.error && <ErrorNotice error={request.error} title="The request was not started" />}
        {confirm.error && <ErrorNotice error={confirm.error} title="Not confirmed" />}
        <Group align="flex-end">
          <NativeSelect
            label="How to prove the names"
            data={CHALLENGES}
            value={chosen}
            onChange={(event) => setChallenge(event.currentTarget.value as AcmeChallenge)}
            disabled={busy}
            data-testid="acme-challenge"
          />
          {!status.termsAccepted && (
            <Checkbox
              label={`I accept ${ca}'s terms of service`}
              checked={accepted}
              onChange={(event) => setAccepted(event.currentTarget.checked)}
              data-testid="acme-terms"
            />
          )}
          <Button
            onClick={() => request.mutate({ challenge: chosen, acceptTerms: accepted || undefined })}
            disabled={busy || (!status.termsAccepted && !accepted)}
            loading={request.isPending || status.state === 'running'}
            data-testid="acme-request"
          >
            {status.certificate ? 'Renew now' : 'Request certificate'}
          </Button>
        </Group>
      </Stack>
    </Card>
  );
}
