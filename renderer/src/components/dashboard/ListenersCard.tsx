/** Every listener of the server with its address and TLS mode. */
import { Badge, Card, Table, Text, Title } from '@mantine/core';
import type { ListenerJson } from '../../api/status.ts';

const PROTOCOL_NAMES: Record<ListenerJson['protocol'], string> = {
  imap: 'IMAP',
  pop3: 'POP3',
  lmtp: 'LMTP',
  smtp: 'SMTP',
  submission: 'Submission',
  managesieve: 'ManageSieve (filters)',
  web: 'HTTPS (client setup)',
  admin: 'Admin API',
};

const TLS_BADGES: Record<ListenerJson['tls'], { label: string; color: string; hint: string }> = {
  implicit: { label: 'TLS', color: 'teal', hint: 'encrypted from the first byte' },
  starttls: { label: 'STARTTLS', color: 'blue', hint: 'clients upgrade to TLS after connecting' },
  none: { label: 'Plain', color: 'gray', hint: 'not encrypted' },
};

/** Implicit-TLS listeners go by their usual names (IMAPS, POP3S) so the two rows of a protocol differ. */
function protocolName(listener: ListenerJson): string {
  const name = PROTOCOL_NAMES[listener.protocol];
  return listener.tls === 'implicit' && (listener.protocol === 'imap' || listener.protocol === 'pop3')
    ? `${name}S`
    : name;
}

/** IPv6 hosts need brackets before the port. */
function address(listener: ListenerJson): string {
  return listener.host.includes(':')
    ? `[${listener.host}]:${listener.port}`
    : `${listener.host}:${listener.port}`;
}

export function ListenersCard({ listeners }: { listeners: readonly ListenerJson[] }) {
  return (
    <Card withBorder padding="lg" data-testid="listeners">
      <Title order={3} size="h4" mb="sm">
        Listeners
      </Title>
      {listeners.length === 0 ? (
        <Text c="dimmed" size="sm">
          No listeners: every protocol is switched off in the settings.
        </Text>
      ) : (
        <Table.ScrollContainer minWidth={360}>
          <Table verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Protocol</Table.Th>
                <Table.Th>Address</Table.Th>
                <Table.Th>Security</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {listeners.map((listener) => {
                const tls = TLS_BADGES[listener.tls];
                return (
                  <Table.Tr
                    key={`${listener.protocol}-${listener.host}-${listener.port}`}
                    data-testid={`listener-${listener.protocol}-${listener.port}`}
                  >
                    <Table.Td fw={500}>{protocolName(listener)}</Table.Td>
                    <Table.Td ff="monospace">{address(listener)}</Table.Td>
                    <Table.Td>
                      <Badge color={tls.color} variant="light" title={tls.hint}>
                        {tls.label}
                      </Badge>
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Card>
  );
}
