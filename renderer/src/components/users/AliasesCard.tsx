/** A user's addresses: the primary one, aliases and catch-alls; add (checked as you type) and remove. */
import { Badge, Button, Card, Group, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { emailProblem, userKeys, usersApi, type AddressJson } from '../../api/users.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { AddressWarning } from './AddressWarning.tsx';

const KIND_LABEL: Record<AddressJson['kind'], string> = {
  primary: 'Primary',
  alias: 'Alias',
  catchall: 'Catch-all',
};

export function AliasesCard({ userId, addresses }: { userId: string; addresses: AddressJson[] }) {
  const queryClient = useQueryClient();
  const [address, setAddress] = useState('');
  const invalidate = () => queryClient.invalidateQueries({ queryKey: userKeys.detail(userId) });

  const add = useMutation({
    mutationFn: (value: string) => usersApi.addAlias(userId, value),
    onSuccess: () => {
      setAddress('');
      return invalidate();
    },
  });
  const remove = useMutation({
    mutationFn: (value: string) => usersApi.removeAlias(userId, value),
    onSuccess: invalidate,
  });

  const problem = emailProblem(address);

  function submit(event: FormEvent) {
    event.preventDefault();
    if (address.trim() === '' || problem) return;
    add.mutate(address.trim());
  }

  return (
    <Card withBorder>
      <Stack>
        <Title order={3} size="h4">
          Addresses
        </Title>
        <Table data-testid="aliases-table">
          <Table.Tbody>
            {addresses.map((entry) => (
              <Table.Tr key={entry.address} data-testid="alias-row" data-address={entry.address}>
                <Table.Td>
                  <Text ff="monospace" size="sm">
                    {entry.address}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Badge variant="light" color={entry.kind === 'primary' ? 'teal' : 'blue'} size="sm">
                    {KIND_LABEL[entry.kind]}
                  </Badge>
                </Table.Td>
                <Table.Td ta="right">
                  {entry.kind !== 'primary' && (
                    <Button
                      variant="subtle"
                      color="red"
                      size="xs"
                      loading={remove.isPending && remove.variables === entry.address}
                      onClick={() => remove.mutate(entry.address)}
                      aria-label={`Remove ${entry.address}`}
                    >
                      Remove
                    </Button>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        {addresses.length <= 1 && (
          <Text size="sm" c="dimmed">
            No aliases yet. Mail to an alias lands in this user's inbox; <code>*@domain</code> catches all
            mail to a domain that no other address takes.
          </Text>
        )}
        <ErrorNotice error={remove.error} title="The address was not removed" />
        <form onSubmit={submit} noValidate>
          <Group align="flex-start" wrap="nowrap">
            <TextInput
              label="New alias"
              placeholder="sales@example.com or *@example.com"
              value={address}
              onChange={(event) => {
                setAddress(event.currentTarget.value);
                if (add.error) add.reset();
              }}
              error={problem}
              description={<AddressWarning address={address} />}
              style={{ flex: 1 }}
              autoComplete="off"
              data-testid="alias-input"
            />
            <Button
              type="submit"
              mt={25}
              loading={add.isPending}
              disabled={Boolean(problem)}
              data-testid="add-alias"
            >
              Add
            </Button>
          </Group>
        </form>
        <ErrorNotice error={add.error} title="The alias was not added" />
      </Stack>
    </Card>
  );
}
