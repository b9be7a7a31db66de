/** First run: no admin password yet (the admin came in with the token or a one-time link); offer to set one. */
import { Alert, Button, Group, PasswordInput } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { panelApi } from '../api/panel.ts';
import { ErrorNotice } from './ErrorNotice.tsx';

export function PasswordReminder() {
  const queryClient = useQueryClient();
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [dismissed, setDismissed] = useState(false);
  const save = useMutation({
    mutationFn: () => panelApi.setPassword(password),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['panel-session'] }),
  });
  if (dismissed) return null;
  const mismatch = confirm !== '' && confirm !== password;
  return (
    <Alert title="Set an admin password" mb="lg" withCloseButton onClose={() => setDismissed(true)}>
      No admin password is set yet. Choose one, so that you can log in without the admin token or a one-time
      link printed by mallard panel.
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (!mismatch && password.length >= 10) save.mutate();
        }}
      >
        <Group align="flex-end" mt="sm">
          <PasswordInput
            label="New admin password"
            description="At least 10 characters"
            value={password}
            onChange={(event) => setPassword(event.currentTarget.value)}
            error={password !== '' && password.length < 10 ? 'At least 10 characters' : undefined}
            autoComplete="new-password"
          />
          <PasswordInput
            label="Repeat it"
            value={confirm}
            onChange={(event) => setConfirm(event.currentTarget.value)}
            error={mismatch ? 'The passwords differ' : undefined}
            autoComplete="new-password"
          />
          <Button
            type="submit"
            loading={save.isPending}
            disabled={password.length < 10 || mismatch || confirm === ''}
          >
            Save password
          </Button>
        </Group>
      </form>
      {save.error && <ErrorNotice error={save.error} />}
    </Alert>
  );
}
