/** Step 5: the DNS records to publish for each domain, then "Check DNS" to see them as others do. */
import { Badge, Button, Group, Stack, Table, Text } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { setupApi, type SetupJson } from '../../api/setup.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { DnsRecordsSection } from '../settings/DnsRecordsSection.tsx';

export function CheckDomain({ domain, onChecked }: { domain: string; onChecked: () => void }) {
  const check = useMutation({ mutationFn: () => setupApi.checkDns(domain), onSuccess: onChecked });
  const problems = (check.data?.checks ?? []).filter((record) => record.status !== 'ok');
  return (
    <Stack gap="xs" data-testid="setup-dns-domain" data-domain={domain}>
      <Group>
        <Text fw={500}>{domain}</Text>
        <Button size="xs" variant="light" loading={check.isPending} onClick={() => check.mutate()}>
          Check DNS
        </Button>
        {check.data && (
          <Badge color={problems.length === 0 ? 'teal' : 'orange'} data-testid="setup-dns-result">
            {problems.length === 0 ? 'All records found' : `${problems.length} to fix`}
          </Badge>
        )}
      </Group>
      {problems.length > 0 && (
        <Table>
          <Table.Tbody>
            {problems.map((record) => (
              <Table.Tr key={`${record.type} ${record.name}`}>
                <Table.Td>
                  {record.type} {record.name}
                </Table.Td>
                <Table.Td>{record.status}</Table.Td>
                <Table.Td>{record.hint || record.expected}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      <ErrorNotice error={check.error} title="DNS could not be checked" />
    </Stack>
  );
}

export function DnsStep({ setup, onChanged }: { setup: SetupJson; onChanged: () => void }) {
  return (
    <Stack gap="md">
      <Text size="sm">
        Publish these records where your domain’s DNS is managed (your registrar or DNS provider), then check
        them. Changes can take a while to be seen everywhere.
      </Text>
      {setup.domains.map((domain) => (
        <CheckDomain key={domain} domain={domain} onChecked={onChanged} />
      ))}
      <DnsRecordsSection />
    </Stack>
  );
}
