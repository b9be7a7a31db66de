/**
 * "Add user": username (the name before the @, the domain picked from the configured ones; a full
 * address typed keeps its own domain), display name, quota with a unit, and a typed or
 * generated password. With no domain yet, the modal points to the Domains page instead of a form
 * the server would refuse. A generated password comes back from the API once and is shown here, with a
 * copy button, before the modal can be closed.
 */
import {
  Alert,
  Anchor,
  Button,
  Group,
  Loader,
  Modal,
  NativeSelect,
  PasswordInput,
  SegmentedControl,
  Stack,
  Text,
  TextInput,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { ApiError } from '../../api/client.ts';
import { DOMAINS_KEY, domainsApi } from '../../api/domains.ts';
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
      {opened && <DomainGate onClose={onClose} />}
    </Modal>
  );
}

/** The address a user gets: a typed full address as it is, else the name at the picked domain. */
export function composeAddress(typed: string, domain: string): string {
  const name = typed.trim();
  if (name === '' || name.includes('@') || domain === '') return name;
  return `${name}@${domain}`;
}

/** Users live in local domains: without one, say where to add it rather than show a dead form. */
function DomainGate({ onClose }: { onClose: () => void }) {
  const domains = useQuery({ queryKey: DOMAINS_KEY, queryFn: domainsApi.list, refetchOnMount: 'always' });
  if (domains.isPending) return <Loader size="sm" aria-label="Loading domains" />;
  if (domains.error) return <ErrorNotice error={domains.error} title="The domains could not be loaded" />;
  const names = domains.data.map((domain) => domain.name);
  if (names.length === 0) {
    return (
      <Alert color="yellow" title="No mail domain yet" data-testid="add-user-no-domain">
        A user&apos;s address ends in one of the server&apos;s domains, and there is none yet. Add one on the{' '}
        <Anchor component={Link} to="/domains" onClick={onClose}>
          Domains page
        </Anchor>{' '}
        or in the{' '}
        <Anchor component={Link} to="/setup" onClick={onClose}>
          setup wizard
        </Anchor>
        .
      </Alert>
    );
  }
  return <AddUserForm domains={names} onClose={onClose} />;
}

function AddUserForm({ domains, onClose }: { domains: string[]; onClose: () => void }) {
  const queryClient = useQueryClient();
  const [typed, setTyped] = useState('');
  const [domain, setDomain] = useState(domains[0]!);
  const username = composeAddress(typed, domain);
  const typedDomain = typed.includes('@');
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
        <Group align="flex-start" gap="xs" wrap="nowrap">
          <TextInput
            label="Username"
            description={
              <AddressWarning address={username}>
                {username.includes('@')
                  ? `The address ${username}: both the login name and the primary address`
                  : 'The name before the @: the address is both the login name and the primary address'}
              </AddressWarning>
            }
            placeholder="name"
            required
            data-autofocus
            value={typed}
            onChange={(event) => setTyped(event.currentTarget.value)}
            error={usernameError ?? serverIssues.username}
            data-testid="new-username"
            autoComplete="off"
            style={{ flex: 1 }}
          />
          <NativeSelect
            label="Domain"
            description={typedDomain ? 'From the address typed' : 'One of the server’s domains'}
            data={domains.map((name) => ({ value: name, label: `@${name}` }))}
            value={domain}
            onChange={(event) => setDomain(event.currentTarget.value)}
            disabled={typedDomain}
            data-testid="new-domain"
            w={220}
          />
        </Group>
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
