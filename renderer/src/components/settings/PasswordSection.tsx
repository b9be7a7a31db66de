/** Changing the panel's admin password (the one used instead of the admin token to log in). */
import { Alert, Button, Card, Group, PasswordInput, Text, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { panelApi } from '../../api/panel.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';

const MIN_LENGTH = 10;

export function PasswordSection({ passwordSet }: { passwordSet: boolean }) {
  const queryClient = useQueryClient();
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const save = useMutation({
    mutationFn: () => panelApi.setPassword(password),
    onSuccess: async () => {
      setPassword('');
      setRepeat('');
      await queryClient.invalidateQueries({ queryKey: ['panel-session'] });
    },
  });
  const tooShort = password !== '' && password.length < MIN_LENGTH;
  const mismatch = repeat !== '' && repeat !== password;
  const ready = password.length >= MIN_LENGTH && repeat === password;

  return (
    <Card withBorder padding="lg" component="section" aria-labelledby="admin-password-title">
      <Title order={3} size="h4" mb="xs" id="admin-password-title">
        Panel admin password
      </Title>
      <Text size="sm" c="dimmed" mb="md">
        {passwordSet
          ? 'A password is set. Choose a new one to replace it; the admin token keeps working.'
          : 'No password is set yet: the panel is opened with the admin token only.'}
      </Text>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (ready) save.mutate();
        }}
      >
        <Group align="flex-start">
          <PasswordInput
            label="New password"
            description={`At least ${MIN_LENGTH} characters`}
            value={password}
            onChange={(event) => {
              save.reset();
              setPassword(event.currentTarget.value);
            }}
            error={tooShort ? `At least ${MIN_LENGTH} characters` : undefined}
            autoComplete="new-password"
            w={260}
            data-testid="admin-password"
          />
          <PasswordInput
            label="Repeat it"
            description=" "
            value={repeat}
            onChange={(event) => {
              save.reset();
              setRepeat(event.currentTarget.value);
            }}
            error={mismatch ? 'The passwords differ' : undefined}
            autoComplete="new-password"
            w={260}
            data-testid="admin-password-repeat"
          />
          <Button
            type="submit"
            mt={47}
            loading={save.isPending}
            disabled={!ready}
            data-testid="admin-password-save"
          >
            {passwordSet ? 'Change password' : 'Set password'}
          </Button>
        </Group>
      </form>
      {save.isSuccess && (
        <Alert color="teal" variant="light" mt="md" role="status" data-testid="admin-password-saved">
          The admin password is saved. Use it the next time you log in.
        </Alert>
      )}
      {save.error && (
        <div style={{ marginTop: 'var(--mantine-spacing-md)' }}>
          <ErrorNotice error={save.error} title="The password was not saved" />
        </div>
      )}
    </Card>
  );
}
