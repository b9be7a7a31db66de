/**
 * App passwords: one per device, listed without secrets. A new one's secret is shown once with a
 * copy button and a QR code; revoking asks first, naming the label.
 */
import { Button, Card, Group, Modal, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { userKeys, usersApi, type AppPasswordJson, type CreatedAppPassword } from '../../api/users.ts';
import { formatDate } from '../format.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { SecretOnce } from './SecretOnce.tsx';

export function AppPasswordsCard({ userId }: { userId: string }) {
  const queryClient = useQueryClient();
  const list = useQuery({
    queryKey: userKeys.appPasswords(userId),
    queryFn: () => usersApi.appPasswords(userId),
  });
  const [label, setLabel] = useState('');
  const [created, setCreated] = useState<CreatedAppPassword | null>(null);
  const [revoking, setRevoking] = useState<AppPasswordJson | null>(null);
  const invalidate = () => queryClient.invalidateQueries({ queryKey: userKeys.appPasswords(userId) });

  const create = useMutation({
    mutationFn: (value: string) => usersApi.createAppPassword(userId, value),
    onSuccess: (result) => {
      setLabel('');
      setCreated(result);
      return invalidate();
    },
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    setCreated(null);
    create.mutate(label.trim());
  }

  const passwords = list.data?.appPasswords ?? [];
  return (
    <Card withBorder>
      <Stack>
        <Title order={3} size="h4">
          App passwords
        </Title>
        <Text size="sm" c="dimmed">
          A separate password per device: it logs in like the account password and can be revoked alone.
        </Text>
        <ErrorNotice error={list.error} title="The app passwords could not be loaded" />
        {list.data && passwords.length === 0 && (
          <Text size="sm" c="dimmed" data-testid="app-passwords-empty">
            No app passwords yet.
          </Text>
        )}
        {passwords.length > 0 && (
          <Table data-testid="app-passwords-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Label</Table.Th>
                <Table.Th>Created</Table.Th>
                <Table.Th>Last used</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {passwords.map((entry) => (
                <Table.Tr key={entry.id} data-testid="app-password-row" data-label={entry.label}>
                  <Table.Td>{entry.label || <Text c="dimmed">(no label)</Text>}</Table.Td>
                  <Table.Td>
                    <Text size="sm">{formatDate(entry.createdAt)}</Text>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{entry.lastUsedAt ? formatDate(entry.lastUsedAt) : 'Never'}</Text>
                  </Table.Td>
                  <Table.Td ta="right">
                    <Button
                      variant="subtle"
                      color="red"
                      size="xs"
                      onClick={() => setRevoking(entry)}
                      aria-label={`Revoke ${entry.label || 'app password'}`}
                      data-testid="revoke-app-password"
                    >
                      Revoke
                    </Button>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
        <form onSubmit={submit} noValidate>
          <Group align="flex-start" wrap="nowrap">
            <TextInput
              label="Label"
              placeholder="Phone, Laptop…"
              value={label}
              maxLength={100}
              onChange={(event) => setLabel(event.currentTarget.value)}
              style={{ flex: 1 }}
              data-testid="app-password-label"
            />
            <Button type="submit" mt={25} loading={create.isPending} data-testid="create-app-password">
              Create
            </Button>
          </Group>
        </form>
        <ErrorNotice error={create.error} title="The app password was not created" />
        {created && (
          <SecretOnce
            secret={created.secret}
            label={`App password${created.appPassword.label ? ` for ${created.appPassword.label}` : ''}`}
            withQr
            testId="app-password-secret"
          />
        )}
      </Stack>
      <RevokeModal
        userId={userId}
        entry={revoking}
        onClose={() => setRevoking(null)}
        onRevoked={invalidate}
      />
    </Card>
  );
}

function RevokeModal({
  userId,
  entry,
  onClose,
  onRevoked,
}: {
  userId: string;
  entry: AppPasswordJson | null;
  onClose: () => void;
  onRevoked: () => Promise<unknown>;
}) {
  const revoke = useMutation({
    mutationFn: (id: string) => usersApi.revokeAppPassword(userId, id),
    onSuccess: async () => {
      await onRevoked();
      onClose();
    },
  });
  const name = entry?.label ? `"${entry.label}"` : 'this app password';
  return (
    <Modal
      opened={entry !== null}
      onClose={() => {
        revoke.reset();
        onClose();
      }}
      title={`Revoke ${name}?`}
      data-testid="revoke-modal"
    >
      <Stack>
        <Text>
          The device using {name} can no longer log in and must be given a new app password. Its open sessions
          stay until they end.
        </Text>
        <ErrorNotice error={revoke.error} title="The app password was not revoked" />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose} data-autofocus>
            Cancel
          </Button>
          <Button
            color="red"
            loading={revoke.isPending}
            onClick={() => entry && revoke.mutate(entry.id)}
            data-testid="revoke-confirm"
          >
            Revoke
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
