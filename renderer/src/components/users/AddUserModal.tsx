/**
 * "Add user": username (the email address), display name, quota with a unit, and a typed or
 * generated password. A generated password comes back from the API once and is shown here, with a
 * copy button, before the modal can be closed.
 */
import { Button, Group, Modal, PasswordInput, SegmentedControl, Stack, Text, TextInput } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { ApiError } from '../../api/client.ts';
import { emailProblem, userKeys, usersApi, type CreatedUser } from '../../api/users.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { AddressWarning } from './AddressWarning.tsx';
import { QuotaInput, quotaFromInput, type QuotaValue } from './QuotaInput.tsx';
import { SecretOnce } from './SecretOnce.tsx';

type PasswordMode = 'generate' | 'type';

/** Field errors from a validation_failed answer, by the first segment of their path. */
export function fieldIssues(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError)) return {};
  const result: Record<string, string> = {};
  for (const issue of error.issues) {
    const field = issue.path.replace(/^body\.?/, '').split('.')[0] ?? '';
    if (field && !result[field]) result[field] = issue.message;
  }
  return result;
}

export function AddUserModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  // Mounted only while open, so each opening starts from an empty form.
  return (
    <Modal
      opened={opened}
      onClose={onClose}
      title="Add user"
      size="lg"
      closeOnClickOutside={false}
      data-testid="add-user-modal"
    >
      {opened && <AddUserForm onClose={onClose} />}
    </Modal>
  );
}

function AddUserForm({ onClose }: { onClose: () => void }) {
  const queryClient = useQueryClient();
  const [username, setUsername] = useState('');
  const [name, setName] = useState('');
  const [quota, setQuota] = useState<QuotaValue>({ amount: 0, unit: 'GB' });
  const [mode, setMode] = useState<PasswordMode>('generate');
  const [password, setPassword] = useState('');
  const [touched, setTouched] = useState(false);
  const [created, setCreated] = useState<CreatedUser | null>(null);

  const create = useMutation({
    mutationFn: usersApi.create,
    onSuccess: (result) => {
      void queryClient.invalidateQueries({ queryKey: userKeys.all });
      if (result.password) setCreated(result);
      else onClose();
    },
  });

  const usernameError = emailProblem(username) ?? (touched && username.trim() === '' ? 'Required' : null);
  const passwordError = mode === 'type' && touched && password.length < 8 ? 'At least 8 characters' : null;
  const quotaResult = quotaFromInput(quota);
  const serverIssues = fieldIssues(create.error);

  function submit(event: FormEvent) {
    event.preventDefault();
    setTouched(true);
    if (username.trim() === '' || emailProblem(username) || quotaResult.error) return;
    if (mode === 'type' && password.length < 8) return;
    create.mutate({
      username: username.trim(),
      name: name.trim() || undefined,
      quotaBytes: quotaResult.bytes ?? 0,
      ...(mode === 'generate' ? { generate: true } : { password }),
    });
  }

  if (created) {
    return (
      <Stack data-testid="user-created">
        <Text>
          <Text span fw={600} data-testid="created-username">
            {created.user.username}
          </Text>{' '}
          was created. Give this password to its owner:
        </Text>
        <SecretOnce secret={created.password!} label="Generated password" testId="generated-password" />
        <Group justify="flex-end">
          <Button variant="default" component={Link} to={`/users/${encodeURIComponent(created.user.id)}`}>
            Open the user
          </Button>
          <Button onClick={onClose} data-testid="close-created" data-autofocus>
            Done
          </Button>
        </Group>
      </Stack>
    );
  }

  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <TextInput
          label="Username"
          description={
            <AddressWarning address={username}>
              The email address: it is both the login name and the primary address
            </AddressWarning>
          }
          placeholder="name@example.com"
          required
          data-autofocus
          value={username}
          onChange={(event) => setUsername(event.currentTarget.value)}
          error={usernameError ?? serverIssues.username}
          data-testid="new-username"
          autoComplete="off"
        />
        <TextInput
          label="Display name"
          placeholder="Ada Lovelace"
          value={name}
          onChange={(event) => setName(event.currentTarget.value)}
          error={serverIssues.name}
          data-testid="new-name"
        />
        <QuotaInput
          value={quota}
          onChange={setQuota}
          error={quotaResult.error ?? serverIssues.quotaBytes}
          testId="new-quota"
        />
        <Stack gap={6}>
          <Text size="sm" fw={500} id="password-mode-label">
            Password
          </Text>
          <SegmentedControl
            aria-labelledby="password-mode-label"
            value={mode}
            onChange={(value) => setMode(value as PasswordMode)}
            data={[
              { value: 'generate', label: 'Generate a strong password' },
              { value: 'type', label: 'Type a password' },
            ]}
            data-testid="password-mode"
          />
          {mode === 'type' ? (
            <PasswordInput
              label="Password"
              description="At least 8 characters"
              value={password}
              onChange={(event) => setPassword(event.currentTarget.value)}
              error={passwordError ?? serverIssues.password}
              data-testid="new-password"
              autoComplete="new-password"
            />
          ) : (
            <Text size="sm" c="dimmed">
              The server makes a random 20-character password and shows it once, after the user is created.
            </Text>
          )}
        </Stack>
        <ErrorNotice error={create.error} title="The user was not created" />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" loading={create.isPending} data-testid="create-user">
            Create user
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
