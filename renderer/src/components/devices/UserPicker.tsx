/** Picks a user by username, searching the server as you type (there may be many). */
import { Select } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { userKeys, usersApi } from '../../api/users.ts';
import { errorMessage } from '../ErrorNotice.tsx';

export function UserPicker({
  value,
  onChange,
}: {
  value: string | null;
  onChange: (username: string | null) => void;
}) {
  const [search, setSearch] = useState('');
  // The box shows the chosen username as its text: that is not a search.
  const [debounced] = useDebouncedValue(search === value ? '' : search.trim(), 250);
  const query = { search: debounced || undefined, offset: 0, limit: 50 };
  const users = useQuery({
    queryKey: userKeys.list(query),
    queryFn: () => usersApi.list(query),
    placeholderData: keepPreviousData,
  });
  const names = users.data?.users.map((user) => user.username) ?? [];
  if (value && !names.includes(value)) names.unshift(value);

  return (
    <Select
      label="User"
      description="Whose mail the device will read"
      placeholder={
        users.data?.total === 0 && !debounced ? 'No users yet: add one first' : 'Search by username'
      }
      searchable
      clearable
      data={names}
      value={value}
      onChange={onChange}
      searchValue={search}
      onSearchChange={setSearch}
      nothingFoundMessage={users.isFetching ? 'Searching…' : 'No user matches'}
      error={users.error ? errorMessage(users.error) : undefined}
      maw={420}
      data-testid="device-user"
    />
  );
}
