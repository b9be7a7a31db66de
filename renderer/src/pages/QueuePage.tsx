/**
 * The outbound queue: every message waiting for (or done with) delivery to other domains, with
 * the state of each recipient, its last error and next attempt; retry now and delete.
 */
import { Badge, Button, Group, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { queueApi, type QueuedMessage } from '../api/queue.ts';
import { DeliveryHistoryCard } from '../components/deliveries/DeliveryHistoryCard.tsx';
import { ErrorNotice } from '../components/ErrorNotice.tsx';

const QUEUE_KEY = ['queue'];
const QUEUE_REFRESH_MS = 5000;

const STATE_COLORS: Record<string, string> = {
  queued: 'blue',
  deferred: 'orange',
  delivered: 'teal',
  bounced: 'red',
};

function when(iso: string | null): string {
  return iso ? new Date(iso).toLocaleString() : '';
}

function Recipients({ message }: { message: QueuedMessage }) {
  return (
    <Stack gap={4}>
      {message.recipients.map((recipient) => (
        <div key={recipient.address} data-testid="queue-recipient">
          <Group gap="xs">
            <Text size="sm">{recipient.address}</Text>
            <Badge size="sm" color={STATE_COLORS[recipient.state] ?? 'gray'} data-testid="queue-state">
              {recipient.state}
            </Badge>
            <Text size="xs" c="dimmed">
              {recipient.attempts} attempts
              {recipient.nextAttemptAt ? ` · next ${when(recipient.nextAttemptAt)}` : ''}
            </Text>
          </Group>
          {recipient.lastError ? (
            <Text size="xs" c="dimmed" data-testid="queue-error">
              {recipient.lastError}
            </Text>
          ) : null}
        </div>
      ))}
    </Stack>
  );
}

export function QueuePage() {
  const queryClient = useQueryClient();
  // The queue changes by itself (deliveries): looked at again every few seconds.
  const query = useQuery({ queryKey: QUEUE_KEY, queryFn: queueApi.list, refetchInterval: QUEUE_REFRESH_MS });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: QUEUE_KEY });
  const messages = query.data ?? [];

  return (
    <Stack gap="lg">
      <div>
        <Title order={2}>Outgoing mail</Title>
        <Text c="dimmed" size="sm">
          Messages to other domains, with what became of each recipient. Deferred ones are retried by
          themselves; “Retry now” does not wait.
        </Text>
      </div>
      {query.error ? <ErrorNotice error={query.error} /> : null}
      {query.isSuccess && messages.length === 0 ? (
        <Text c="dimmed" data-testid="queue-empty">
          Nothing is waiting to be sent.
        </Text>
      ) : null}
      {messages.length > 0 ? (
        <Table data-testid="queue-table" verticalSpacing="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Queued</Table.Th>
              <Table.Th>From</Table.Th>
              <Table.Th>Recipients</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {messages.map((message) => (
              <Table.Tr key={message.id} data-testid="queue-row">
                <Table.Td>
                  <Text size="sm">{when(message.createdAt)}</Text>
                  <Text size="xs" c="dimmed">
                    {message.id} · {message.size} bytes
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Text size="sm">{message.sender || '<>'}</Text>
                </Table.Td>
                <Table.Td>
                  <Recipients message={message} />
                </Table.Td>
                <Table.Td>
                  <Group gap="xs" justify="flex-end">
                    <Button
                      size="xs"
                      variant="light"
                      data-testid="queue-retry"
                      onClick={() => void queueApi.retry(message.id).then(refresh)}
                    >
                      Retry now
                    </Button>
                    <Button
                      size="xs"
                      variant="light"
                      color="red"
                      data-testid="queue-delete"
                      onClick={() => void queueApi.remove(message.id).then(refresh)}
                    >
                      Delete
                    </Button>
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      ) : null}
      <DeliveryHistoryCard refreshMs={QUEUE_REFRESH_MS} />
    </Stack>
  );
}
