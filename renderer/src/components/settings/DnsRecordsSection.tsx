/**
 * The DNS records each local domain needs for its mail to be delivered and trusted: MX, SPF, every
 * DKIM key (one rotated out stays until retired) and DMARC, each ready to copy into the zone.
 */
import { Alert, Button, Card, CopyButton, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { dnsApi } from '../../api/settings.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';

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
        <Alert color="gray">No mail domain yet: add a user, and its domain is listed here.</Alert>
      )}
      <Stack gap="lg">
        {data?.domains.map(({ domain, records }) => (
          <Table.ScrollContainer key={domain} minWidth={640}>
            <Table verticalSpacing="xs" data-testid="dns-domain" data-domain={domain}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th colSpan={4}>{domain}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {records.map((record) => (
                  <Table.Tr
                    key={`${record.purpose}-${record.name}`}
                    data-testid="dns-record"
                    data-purpose={record.purpose}
                  >
                    <Table.Td w={70}>{record.purpose}</Table.Td>
                    <Table.Td>
                      <Text size="sm" ff="monospace">
                        {record.name}
                      </Text>
                    </Table.Td>
                    <Table.Td w={50}>{record.type}</Table.Td>
                    <Table.Td>
                      <Text
                        size="xs"
                        ff="monospace"
                        style={{ wordBreak: 'break-all' }}
                        data-testid="dns-value"
                      >
                        {record.value}
                      </Text>
                    </Table.Td>
                    <Table.Td w={80}>
                      <CopyButton value={record.value}>
                        {({ copied, copy }) => (
                          <Button size="compact-xs" variant="light" onClick={copy} data-testid="dns-copy">
                            {copied ? 'Copied' : 'Copy'}
                          </Button>
                        )}
                      </CopyButton>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        ))}
      </Stack>
    </Card>
  );
}
