/**
 * A new account password: typed, or generated here (the API takes a password, it generates one
 * only at creation) and shown once after it is saved.
 */
import { Button, Card, Group, PasswordInput, SegmentedControl, Stack, Text, Title } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { usersApi } from '../../api/users.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { fieldIssues } from './AddUserModal.tsx';
import { generatePassword } from './password.ts';
import { SecretOnce } from './SecretOnce.tsx';

type Mode = 'generate' | 'type';

export function ChangePasswordCard({ userId }: { userId: string }) {
  const [mode, setMode] = useState<Mode>('generate');
  const [password, setPassword] = useState('');
  const [touched, setTouched] = useState(false);
  const [shown, setShown] = useState<string | null>(null);

  const change = useMutation({
    mutationFn: (secret: string) => usersApi.update(userId, { password: secret }),
    onSuccess: (_user, secret) => {
      setPassword('');
      setTouched(false);
      setShown(mode === 'generate' ? secret : null);
    },
  });

  const localError = mode === 'type' && touched && password.length < 8 ? 'At least 8 characters' : null;

  function submit(event: FormEvent) {
    event.preventDefault();
    setTouched(true);
    setShown(null);
    if (mode === 'type' && password.length < 8) return;
    change.mutate(mode === 'generate' ? generatePassword() : password);
  }

  return (
    <Card withBorder>
      <form onSubmit={submit} noValidate>
        <Stack>
          <Title order={3} size="h4">
            Password
          </Title>
          <SegmentedControl
            aria-label="How to set the new password"
            value={mode}
            onChange={(value) => setMode(value as Mode)}
            data={[
              { value: 'generate', label: 'Generate a strong password' },
              { value: 'type', label: 'Type a password' },
            ]}
          />
          {mode === 'type' && (
            <PasswordInput
              label="New password"
              description="At least 8 characters"
              value={password}
              onChange={(event) => setPassword(event.currentTarget.value)}
              error={localError ?? fieldIssues(change.error).password}
              autoComplete="new-password"
              data-testid="change-password-input"
            />
          )}
          <Text size="sm" c="dimmed">
            Mail clients will need the new password at their next login.
          </Text>
          <ErrorNotice error={change.error} title="The password was not changed" />
          {change.isSuccess && !shown && (
            <Text size="sm" c="teal" role="status">
              Password changed.
            </Text>
          )}
          {shown && <SecretOnce secret={shown} label="New password" testId="changed-password" />}
          <Group justify="flex-end">
            <Button type="submit" variant="light" loading={change.isPending} data-testid="change-password">
              {mode === 'generate' ? 'Generate and set' : 'Set password'}
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}
