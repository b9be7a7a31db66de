/** The settings to type into a mail client by hand, each with a copy button. */
import { Badge, Card, Group, Stack, Table, Text, Title } from '@mantine/core';
import type { ServerEndpoints } from './endpoints.ts';
import { CopyValue } from './CopyValue.tsx';

const PROTOCOL: Record<'imap' | 'pop3', string> = { imap: 'IMAP', pop3: 'POP3' };
const SECURITY: Record<'ssl' | 'starttls', string> = { ssl: 'SSL/TLS', starttls: 'STARTTLS' };
const NOTE: Record<'imap' | 'pop3', string> = {
  imap: 'Incoming: keeps mail and folders on the server.',
  pop3: 'Incoming: downloads the inbox to one device.',
};

export function ServerSettingsTable({
  hostname,
  username,
  endpoints,
}: {
  hostname: string;
  username: string;
  endpoints: ServerEndpoints;
}) {
  return (
    <Card withBorder>
      <Stack>
        <Title order={3} size="h4">
          Settings for the mail app
        </Title>
        <Table data-testid="device-settings">
          <Table.Tbody>
            <Table.Tr>
              <Table.Th w={170}>Username</Table.Th>
              <Table.Td colSpan={2}>
                <CopyValue value={username} label="username" testId="setting-username" />
              </Table.Td>
            </Table.Tr>
            <Table.Tr>
              <Table.Th>Password</Table.Th>
              <Table.Td colSpan={2}>
                <Text size="sm">The account password, or better an app password made for this device.</Text>
              </Table.Td>
            </Table.Tr>
            <Table.Tr>
              <Table.Th>Server</Table.Th>
              <Table.Td colSpan={2}>
                <CopyValue value={hostname} label="server name" testId="setting-hostname" />
              </Table.Td>
            </Table.Tr>
            {endpoints.incoming.map((endpoint) => (
              <Table.Tr
                key={`${endpoint.protocol}-${endpoint.port}-${endpoint.security}`}
                data-testid="setting-endpoint"
                data-protocol={endpoint.protocol}
                data-security={endpoint.security}
                data-port={endpoint.port}
              >
                <Table.Th>{PROTOCOL[endpoint.protocol]}</Table.Th>
                <Table.Td>
                  <Group gap="sm" wrap="nowrap">
                    <CopyValue value={String(endpoint.port)} label={`${PROTOCOL[endpoint.protocol]} port`} />
                    <Badge variant="light" color={endpoint.security === 'ssl' ? 'teal' : 'blue'}>
                      {SECURITY[endpoint.security]}
                    </Badge>
                  </Group>
                </Table.Td>
                <Table.Td>
                  <Text size="sm" c="dimmed">
                    {NOTE[endpoint.protocol]}
                    {endpoint.security === 'ssl' ? ' Recommended.' : ''}
                  </Text>
                </Table.Td>
              </Table.Tr>
            ))}
            {endpoints.incoming.length === 0 && (
              <Table.Tr>
                <Table.Td colSpan={3}>
                  <Text size="sm" c="dimmed">
                    IMAP and POP3 are both off: turn one on in Settings to connect a device.
                  </Text>
                </Table.Td>
              </Table.Tr>
            )}
            <Table.Tr data-testid="setting-submission">
              <Table.Th>SMTP (sending)</Table.Th>
              {endpoints.submission ? (
                <>
                  <Table.Td>
                    <Group gap="sm" wrap="nowrap">
                      <CopyValue value={String(endpoints.submission.port)} label="SMTP port" />
                      <Badge
                        variant="light"
                        color={endpoints.submission.security === 'ssl' ? 'teal' : 'blue'}
                      >
                        {SECURITY[endpoints.submission.security]}
                      </Badge>
                    </Group>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm" c="dimmed">
                      Outgoing: log in with the same username and password.
                    </Text>
                  </Table.Td>
                </>
              ) : (
                <Table.Td colSpan={2}>
                  <Text size="sm" c="dimmed">
                    Off: turn submission on in Settings, or send through the user&apos;s own provider.
                  </Text>
                </Table.Td>
              )}
            </Table.Tr>
            <Table.Tr data-testid="setting-smtp-in">
              <Table.Th>SMTP (incoming only)</Table.Th>
              <Table.Td colSpan={2}>
                {endpoints.smtpIn ? (
                  <Text size="sm">
                    Port {endpoints.smtpIn}: where mail from other servers arrives. Not for sending.
                  </Text>
                ) : (
                  <Text size="sm" c="dimmed">
                    Off
                  </Text>
                )}
              </Table.Td>
            </Table.Tr>
          </Table.Tbody>
        </Table>
      </Stack>
    </Card>
  );
}
