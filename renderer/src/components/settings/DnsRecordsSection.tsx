/**
 * The DNS records each local domain needs for its mail to be delivered and trusted: MX, SPF, every
 * DKIM key (one rotated out stays until retired) and DMARC, each ready to copy into the zone.
 */
import { Alert, Card, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { dnsApi } from '../../api/settings.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { DnsRecordsTable } from './DnsRecordsTable.tsx';

export function DnsRecordsSection() {
  const query = useQuery({ queryKey: ['dns-records'], queryFn: dnsApi.records });
  const data = query.data;
  return (
    <Card withBorder padding="lg" data-testid="dns-records">
      <Title order={3} size="h4" mb="xs">
        DNS records for sending
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        Publish these at your DNS provider for each domain, SPF and DKIM before DMARC.
        {data?.relay ? ` Through the relay ${data.relay}, add its SPF include as your provider says.` : ''}
      </Text>
      <ErrorNotice error={query.error} title="The records could not be loaded" />
      {data && data.domains.length === 0 && (
        <Alert color="gray">No mail domain yet: add one on the Domains page.</Alert>
      )}
      <Stack gap="lg">
        {data?.domains.map(({ domain, records }) => (
          <DnsRecordsTable key={domain} domain={domain} records={records} />
        ))}
      </Stack>
    </Card>
  );
}
