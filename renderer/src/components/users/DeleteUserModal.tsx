/** Deleting a user takes all its mail: the modal names the user and wants the username typed. */
import { Button, Group, Modal, Stack, Text, TextInput } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { userKeys, usersApi, type UserDetailJson } from '../../api/users.ts';
import { formatBytes } from '../format.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';

export function DeleteUserModal({
  user,
  opened,
  onClose,
  onDeleted,
}: {
  user: UserDetailJson;
  opened: boolean;
  onClose: () => void;
  onDeleted: () => void;
}) {
  return (
    <Modal
      opened={opened}
      onClose={onClose}
      title={`Delete ${user.username}?`}
      data-testid="delete-user-modal"
    >
      {opened && <DeleteForm user={user} onClose={onClose} onDeleted={onDeleted} />}
    </Modal>
  );
}

function DeleteForm({
  user,
  onClose,
  onDeleted,
}: {
  user: UserDetailJson;
  onClose: () => void;
  onDeleted: () => void;
}) {
  const queryClient = useQueryClient();
  const [typed, setTyped] = useState('');
  const remove = useMutation({
    mutationFn: () => usersApi.remove(user.id),
    onSuccess: () => {
      // Leave the page first: refetching the deleted user's parts would only fetch 404s.
      onDeleted();
      for (const key of [userKeys.detail(user.id), userKeys.aliases(user.id), userKeys.appPasswords(user.id)])
        queryClient.removeQueries({ queryKey: key });
      void queryClient.invalidateQueries({ queryKey: ['users', 'list'] });
    },
  });
  const matches = typed.trim().toLowerCase() === user.username.toLowerCase();
  const messages = user.mailboxes.reduce((sum, mailbox) => sum + mailbox.messages, 0);

  function submit(event: FormEvent) {
    event.preventDefault();
    if (matches) remove.mutate();
  }

  return (
    <form onSubmit={submit}>
      <Stack>
        <Text>
          This deletes <b>{user.username}</b> with its {messages} {messages === 1 ? 'message' : 'messages'} (
          {formatBytes(user.quota.usedBytes)}), {user.addresses.length}{' '}
          {user.addresses.length === 1 ? 'address' : 'addresses'} and its app passwords. Its open sessions are
          ended. This cannot be undone.
        </Text>
        <TextInput
          label={`Type ${user.username} to confirm`}
          value={typed}
          onChange={(event) => setTyped(event.currentTarget.value)}
          data-autofocus
          autoComplete="off"
          data-testid="delete-confirm-input"
        />
        <ErrorNotice error={remove.error} title="The user was not deleted" />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button
            type="submit"
            color="red"
            disabled={!matches}
            loading={remove.isPending}
            data-testid="delete-confirm"
          >
            Delete {user.username}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
