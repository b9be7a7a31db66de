/** One domain's DNS records as a table, each value with a Copy button (Settings and Domains pages). */
import { Button, CopyButton, Table, Text } from '@mantine/core';
import type { DnsRecordJson } from '../../api/settings.ts';

export function DnsRecordsTable({ domain, records }: { domain: string; records: DnsRecordJson[] }) {
  return (
    <Table.ScrollContainer minWidth={640}>
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
                <Text size="xs" ff="monospace" style={{ wordBreak: 'break-all' }} data-testid="dns-value">
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
  );
}
