/**
 * A user's spam allow and block lists: sender addresses and domains. Allowed senders reach the
 * INBOX whatever their spam score; blocked ones go to Junk (server/spam/check.ts).
 */
import {
  Badge,
  Button,
  Card,
  Group,
  SegmentedControl,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { senderProblem, userKeys, usersApi } from '../../api/users.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';

type ListKind = 'allow' | 'block';

export function SpamListsCard({ userId }: { userId: string }) {
  const queryClient = useQueryClient();
  const [pattern, setPattern] = useState('');
  const [list, setList] = useState<ListKind>('allow');
  const entries = useQuery({
    queryKey: userKeys.spamLists(userId),
    queryFn: () => usersApi.spamLists(userId),
  });
  const invalidate = () => queryClient.invalidateQueries({ queryKey: userKeys.spamLists(userId) });

  const add = useMutation({
    mutationFn: (value: { list: ListKind; pattern: string }) =>
      usersApi.setSpamEntry(userId, value.list, value.pattern),
    onSuccess: () => {
      setPattern('');
      return invalidate();
    },
  });
  const remove = useMutation({
    mutationFn: (value: string) => usersApi.removeSpamEntry(userId, value),
    onSuccess: invalidate,
  });

  const problem = senderProblem(pattern);
  const rows = entries.data?.entries ?? [];

  function submit(event: FormEvent) {
    event.preventDefault();
    if (pattern.trim() === '' || problem) return;
    add.mutate({ list, pattern: pattern.trim() });
  }

  return (
    <Card withBorder>
      <Stack>
        <Title order={3} size="h4">
          Spam: allowed and blocked senders
        </Title>
        {rows.length > 0 ? (
          <Table data-testid="spam-lists-table">
            <Table.Tbody>
              {rows.map((entry) => (
                <Table.Tr
                  key={entry.pattern}
                  data-testid="spam-list-row"
                  data-pattern={entry.pattern}
                  data-list={entry.list}
                >
                  <Table.Td>
                    <Text ff="monospace" size="sm">
                      {entry.pattern}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Badge variant="light" color={entry.list === 'allow' ? 'teal' : 'red'} size="sm">
                      {entry.list === 'allow' ? 'Allowed' : 'Blocked'}
                    </Badge>
                  </Table.Td>
                  <Table.Td ta="right">
                    <Button
                      variant="subtle"
                      color="red"
                      size="xs"
                      loading={remove.isPending && remove.variables === entry.pattern}
                      onClick={() => remove.mutate(entry.pattern)}
                      aria-label={`Remove ${entry.pattern}`}
                    >
                      Remove
                    </Button>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        ) : (
          <Text size="sm" c="dimmed">
            No senders listed. Allowed senders reach the inbox whatever their spam score; blocked ones go to
            Junk. A domain covers its subdomains; an address beats its domain.
          </Text>
        )}
        <ErrorNotice error={entries.error} />
        <ErrorNotice error={remove.error} title="The sender was not removed" />
        <form onSubmit={submit} noValidate>
          <Stack gap="xs">
            <SegmentedControl
              value={list}
              onChange={(value) => setList(value as ListKind)}
              data={[
                { label: 'Allow', value: 'allow' },
                { label: 'Block', value: 'block' },
              ]}
              data-testid="spam-list-kind"
            />
            <Group align="flex-start" wrap="nowrap">
              <TextInput
                label="Sender"
                placeholder="friend@example.com or example.com"
                value={pattern}
                onChange={(event) => {
                  setPattern(event.currentTarget.value);
                  if (add.error) add.reset();
                }}
                error={problem}
                style={{ flex: 1 }}
                autoComplete="off"
                data-testid="spam-sender-input"
              />
              <Button
                type="submit"
                mt={25}
                loading={add.isPending}
                disabled={Boolean(problem)}
                data-testid="add-spam-sender"
              >
                Add
              </Button>
            </Group>
          </Stack>
        </form>
        <ErrorNotice error={add.error} title="The sender was not added" />
      </Stack>
    </Card>
  );
}
