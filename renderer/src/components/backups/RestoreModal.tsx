/**
 * "Restore…" for one backup: one user, or one of their mailboxes, into the running server (the
 * admin API's POST /api/backups/restore), after saying what happens to UIDs. The whole server goes
 * only into a new data directory, which the running server cannot do for itself: the modal gives
 * the command.
 */
import { Button, Code, Group, Modal, SegmentedControl, Stack, Text, TextInput } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { BACKUPS_KEY, backupsApi } from '../../api/backups.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';

type Scope = 'mailbox' | 'user' | 'server';

export function RestoreModal({
  backup,
  destination,
  onClose,
}: {
  /** The backup's name; null: the modal is closed. */
  backup: string | null;
  destination: string;
  onClose: () => void;
}) {
  return (
    <Modal opened={backup !== null} onClose={onClose} title={`Restore from ${backup ?? ''}`} size="lg">
      {backup !== null && <RestoreForm backup={backup} destination={destination} onClose={onClose} />}
    </Modal>
  );
}

function RestoreForm({
  backup,
  destination,
  onClose,
}: {
  backup: string;
  destination: string;
  onClose: () => void;
}) {
  const queryClient = useQueryClient();
  const [scope, setScope] = useState<Scope>('mailbox');
  const [user, setUser] = useState('');
  const [mailbox, setMailbox] = useState('');
  const restore = useMutation({
    mutationFn: () =>
      backupsApi.restore({
        backup,
        user: user.trim(),
        ...(scope === 'mailbox' ? { mailbox: mailbox.trim() } : {}),
      }),
    onSuccess: (status) => {
      queryClient.setQueryData(BACKUPS_KEY, status);
      onClose();
    },
  });
  const ready = user.trim() !== '' && (scope !== 'mailbox' || mailbox.trim() !== '');

  function submit(event: FormEvent) {
    event.preventDefault();
    if (scope !== 'server' && ready) restore.mutate();
  }

  return (
    <form onSubmit={submit}>
      <Stack>
        <SegmentedControl
          value={scope}
          onChange={(value) => setScope(value as Scope)}
          data={[
            { value: 'mailbox', label: 'One mailbox' },
            { value: 'user', label: 'One user' },
            { value: 'server', label: 'Whole server' },
          ]}
          data-testid="restore-scope"
        />
        {scope === 'server' ? (
          <Text size="sm" data-testid="restore-server-help">
            The whole server is restored into a new, empty data directory, not into this running server. Stop
            nothing; on this machine run{' '}
            <Code>MALLARD_DATA_DIR=/path/to/new-dir mallard backup restore {`${destination}/${backup}`}</Code>
            , then start the server on the new directory.
          </Text>
        ) : (
          <>
            <TextInput
              label="User"
              placeholder="alice@example.com"
              value={user}
              onChange={(event) => setUser(event.currentTarget.value)}
              autoComplete="off"
              data-autofocus
              data-testid="restore-user"
            />
            {scope === 'mailbox' ? (
              <TextInput
                label="Mailbox"
                placeholder="INBOX, or a folder such as Projects/2024"
                value={mailbox}
                onChange={(event) => setMailbox(event.currentTarget.value)}
                autoComplete="off"
                data-testid="restore-mailbox"
              />
            ) : null}
            <Text size="sm" c="dimmed">
              The mail goes back into the running server; connected mail apps see it arrive. A mailbox that is
              missing or empty gets its messages back under their old UIDs, so apps need not download them
              again; one that holds mail (or was used since the backup) gets them under new UIDs, skipping the
              messages it already has. Nothing is removed.
            </Text>
          </>
        )}
        <ErrorNotice error={restore.error} title="The restore did not start" />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose} data-testid="restore-close">
            {scope === 'server' ? 'Close' : 'Cancel'}
          </Button>
          {scope !== 'server' ? (
            <Button type="submit" disabled={!ready} loading={restore.isPending} data-testid="restore-confirm">
              Restore {scope === 'mailbox' ? 'the mailbox' : 'the user'}
            </Button>
          ) : null}
        </Group>
      </Stack>
    </form>
  );
}
