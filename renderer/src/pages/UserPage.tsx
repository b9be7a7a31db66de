/** One user: account (name, quota, disable), password, addresses, app passwords, spam lists, mailboxes, delete. */
import {
  Anchor,
  Breadcrumbs,
  Button,
  Card,
  Group,
  Loader,
  SimpleGrid,
  Stack,
  Text,
  Title,
} from '@mantine/core';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { ApiError } from '../api/client.ts';
import { useEvents, type AdminEvent } from '../api/events.ts';
import { userKeys, usersApi } from '../api/users.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { formatDate } from '../components/format.ts';
import { AliasesCard } from '../components/users/AliasesCard.tsx';
import { AppPasswordsCard } from '../components/users/AppPasswordsCard.tsx';
import { ChangePasswordCard } from '../components/users/ChangePasswordCard.tsx';
import { DeleteUserModal } from '../components/users/DeleteUserModal.tsx';
import { ExportCard } from '../components/users/ExportCard.tsx';
import { ImportCard } from '../components/users/ImportCard.tsx';
import { ImportUpload } from '../components/users/ImportUpload.tsx';
import { MailboxesCard } from '../components/users/MailboxesCard.tsx';
import { SpamListsCard } from '../components/users/SpamListsCard.tsx';
import { UserSettingsCard } from '../components/users/UserSettingsCard.tsx';

export function UserPage() {
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const [deleting, setDeleting] = useState(false);
  const user = useQuery({ queryKey: userKeys.detail(id), queryFn: () => usersApi.get(id) });
  const queryClient = useQueryClient();
  const username = user.data?.username;

  // Mail arriving and sessions opening or closing change the usage and counts shown here.
  useEvents(
    (event: AdminEvent) => {
      const mine =
        (event.type === 'delivery' && event.data.userId === id) ||
        (event.type === 'session.authenticated' && event.data.userId === id) ||
        (event.type === 'session.closed' && username !== undefined && event.data.user === username);
      if (mine) void queryClient.invalidateQueries({ queryKey: userKeys.detail(id) });
    },
    ['delivery', 'session.authenticated', 'session.closed'],
  );

  const crumbs = (
    <Breadcrumbs>
      <Anchor component={Link} to="/users">
        Users
      </Anchor>
      <Text>{user.data?.username ?? id}</Text>
    </Breadcrumbs>
  );

  if (user.isPending) {
    return (
      <Stack>
        {crumbs}
        <Loader aria-label="Loading the user" />
      </Stack>
    );
  }
  if (!user.data) {
    const gone = user.error instanceof ApiError && user.error.code === 'not_found';
    return (
      <Stack>
        {crumbs}
        <ErrorNotice error={user.error} title={gone ? 'This user does not exist (any more)' : undefined} />
        <Group>
          <Button component={Link} to="/users" variant="default">
            Back to the users
          </Button>
        </Group>
      </Stack>
    );
  }

  const data = user.data;
  return (
    <Stack>
      {crumbs}
      <Group justify="space-between" align="flex-start">
        <Stack gap={2}>
          <Title order={2} data-testid="user-title">
            {data.username}
          </Title>
          <Text c="dimmed" size="sm" data-testid="user-summary">
            {data.name ? `${data.name} · ` : ''}created {formatDate(data.createdAt)} · {data.sessions} open{' '}
            {data.sessions === 1 ? 'session' : 'sessions'}
          </Text>
        </Stack>
        <Group>
          <Button
            component={Link}
            to={`/users/${encodeURIComponent(data.id)}/filters`}
            variant="light"
            data-testid="filters-link"
          >
            Filters and vacation
          </Button>
          <Button
            component={Link}
            to={`/devices?user=${encodeURIComponent(data.username)}`}
            variant="light"
            data-testid="connect-device-link"
          >
            Connect a device
          </Button>
        </Group>
      </Group>
      <ErrorNotice error={user.error} />
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <UserSettingsCard user={data} />
        <ChangePasswordCard userId={data.id} />
        <AliasesCard userId={data.id} addresses={data.addresses} />
        <AppPasswordsCard userId={data.id} />
        <SpamListsCard userId={data.id} />
      </SimpleGrid>
      <MailboxesCard mailboxes={data.mailboxes} />
      <ExportCard userId={data.id} mailboxes={data.mailboxes} />
      <ImportCard userId={data.id} />
      <ImportUpload userId={data.id} />
      <Card withBorder>
        <Group justify="space-between">
          <Stack gap={2}>
            <Text fw={600}>Delete this user</Text>
            <Text size="sm" c="dimmed">
              Removes the account with all its mail, addresses and app passwords.
            </Text>
          </Stack>
          <Button color="red" variant="light" onClick={() => setDeleting(true)} data-testid="delete-user">
            Delete user…
          </Button>
        </Group>
      </Card>
      <DeleteUserModal
        user={data}
        opened={deleting}
        onClose={() => setDeleting(false)}
        onDeleted={() => void navigate('/users', { replace: true })}
      />
    </Stack>
  );
}
