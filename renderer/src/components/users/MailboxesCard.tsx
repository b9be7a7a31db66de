/** The user's mailboxes with message counts and sizes, from the user detail answer. */
import { Badge, Card, Group, Stack, Table, Text, Title } from '@mantine/core';
import type { UserDetailJson } from '../../api/users.ts';
import { formatBytes } from '../format.ts';

type Mailbox = UserDetailJson['mailboxes'][number];

export function MailboxesCard({ mailboxes }: { mailboxes: Mailbox[] }) {
  const totals = mailboxes.reduce(
    (sum, mailbox) => ({ messages: sum.messages + mailbox.messages, bytes: sum.bytes + mailbox.bytes }),
    { messages: 0, bytes: 0 },
  );
  return (
    <Card withBorder>
      <Stack>
        <Title order={3} size="h4">
          Mailboxes
        </Title>
        {mailboxes.length === 0 ? (
          <Text size="sm" c="dimmed">
            No mailboxes: they are created at the first login or delivery.
          </Text>
        ) : (
          <Table striped data-testid="mailboxes-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Mailbox</Table.Th>
                <Table.Th ta="right">Messages</Table.Th>
                <Table.Th ta="right">Unread</Table.Th>
                <Table.Th ta="right">Size</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {mailboxes.map((mailbox) => (
                <Table.Tr key={mailbox.id} data-testid="mailbox-row" data-path={mailbox.path}>
                  <Table.Td>
                    <Group gap="xs">
                      <Text size="sm" c={mailbox.selectable ? undefined : 'dimmed'}>
                        {mailbox.path}
                      </Text>
                      {mailbox.specialUse && (
                        <Badge size="xs" variant="light" color="gray">
                          {mailbox.specialUse.replace(/^\\/, '')}
                        </Badge>
                      )}
                      {!mailbox.subscribed && (
                        <Badge size="xs" variant="outline" color="gray">
                          not subscribed
                        </Badge>
                      )}
                    </Group>
                  </Table.Td>
                  <Table.Td ta="right">{mailbox.messages}</Table.Td>
                  <Table.Td ta="right">{mailbox.unseen}</Table.Td>
                  <Table.Td ta="right">{formatBytes(mailbox.bytes)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
            <Table.Tfoot>
              <Table.Tr>
                <Table.Th>Total</Table.Th>
                <Table.Th ta="right">{totals.messages}</Table.Th>
                <Table.Th />
                <Table.Th ta="right">{formatBytes(totals.bytes)}</Table.Th>
              </Table.Tr>
            </Table.Tfoot>
          </Table>
        )}
      </Stack>
    </Card>
  );
}
