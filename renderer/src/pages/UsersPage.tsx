/** Users: a searchable, paged table with quota bars, and "Add user". */
import {
  Anchor,
  Badge,
  Button,
  EmptyState,
  Group,
  Loader,
  Pagination,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { userKeys, usersApi, type UserJson } from '../api/users.ts';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { formatDate } from '../components/format.ts';
import { AddUserModal } from '../components/users/AddUserModal.tsx';
import { QuotaBar } from '../components/users/QuotaBar.tsx';

const PAGE_SIZE = 25;

export function UsersPage() {
  const [search, setSearch] = useState('');
  const [debounced] = useDebouncedValue(search.trim(), 300);
  const [page, setPage] = useState(1);
  // The dashboard's "Add a user" links here with ?add=1: open the form straight away.
  const [searchParams] = useSearchParams();
  const [adding, setAdding] = useState(searchParams.get('add') === '1');

  const query = { search: debounced || undefined, offset: (page - 1) * PAGE_SIZE, limit: PAGE_SIZE };
  const users = useQuery({
    queryKey: userKeys.list(query),
    queryFn: () => usersApi.list(query),
    placeholderData: keepPreviousData,
    // Users made elsewhere (CLI, API, another admin) show up whenever the page is opened.
    refetchOnMount: 'always',
  });
  const total = users.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Users</Title>
        <Button onClick={() => setAdding(true)} data-testid="add-user">
          Add user
        </Button>
      </Group>
      <Group justify="space-between" align="flex-end">
        <TextInput
          label="Search"
          placeholder="Username or name"
          value={search}
          onChange={(event) => {
            setSearch(event.currentTarget.value);
            setPage(1);
          }}
          w={320}
          rightSection={users.isFetching ? <Loader size="xs" aria-label="Searching" /> : null}
          data-testid="user-search"
        />
        <Text size="sm" c="dimmed" data-testid="user-total">
          {users.data ? `${total} ${total === 1 ? 'user' : 'users'}${debounced ? ' found' : ''}` : ''}
        </Text>
      </Group>
      <ErrorNotice error={users.error} title="The users could not be loaded" />
      {users.isPending ? (
        <Loader aria-label="Loading users" />
      ) : (
        users.data && (
          <UserTable users={users.data.users} searching={Boolean(debounced)} onAdd={() => setAdding(true)} />
        )
      )}
      {pages > 1 && (
        <Group justify="center">
          <Pagination
            total={pages}
            value={page}
            onChange={setPage}
            getControlProps={(control) => ({ 'aria-label': `${control} page` })}
            data-testid="user-pages"
          />
        </Group>
      )}
      <AddUserModal opened={adding} onClose={() => setAdding(false)} />
    </Stack>
  );
}

function UserTable({
  users,
  searching,
  onAdd,
}: {
  users: UserJson[];
  searching: boolean;
  onAdd: () => void;
}) {
  if (users.length === 0) {
    return searching ? (
      <EmptyState
        title="No user matches"
        description="Try part of the address or of the name."
        data-testid="users-empty"
      />
    ) : (
      <EmptyState
        title="No users yet"
        description="Add the first mailbox owner to start receiving mail."
        data-testid="users-empty"
      >
        <EmptyState.Actions>
          <Button onClick={onAdd}>Add user</Button>
        </EmptyState.Actions>
      </EmptyState>
    );
  }
  return (
    <Table.ScrollContainer minWidth={720}>
      <Table striped highlightOnHover verticalSpacing="sm" data-testid="users-table">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Username</Table.Th>
            <Table.Th>Name</Table.Th>
            <Table.Th>Storage</Table.Th>
            <Table.Th>Created</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {users.map((user) => (
            <Table.Tr key={user.id} data-testid="user-row" data-username={user.username}>
              <Table.Td>
                <Group gap="xs" wrap="nowrap">
                  <Anchor component={Link} to={`/users/${encodeURIComponent(user.id)}`} fw={500}>
                    {user.username}
                  </Anchor>
                  {user.disabled && (
                    <Badge color="gray" variant="outline" size="sm" data-testid="disabled-badge">
                      Disabled
                    </Badge>
                  )}
                </Group>
              </Table.Td>
              <Table.Td>{user.name || <Text c="dimmed">—</Text>}</Table.Td>
              <Table.Td>
                <QuotaBar used={user.usedBytes} limit={user.quotaBytes} />
              </Table.Td>
              <Table.Td>
                <Text size="sm">{formatDate(user.createdAt)}</Text>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
