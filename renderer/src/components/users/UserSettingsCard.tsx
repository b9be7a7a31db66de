/**
 * Name and quota of a user, saved together; disable/enable, "save a copy to Sent" and whether IMAP
 * UIDONLY is offered, which take effect at once (UIDONLY at the user's next login).
 */
import {
  Badge,
  Button,
  Card,
  Group,
  Input,
  SegmentedControl,
  Stack,
  Switch,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { userKeys, usersApi, type UserDetailJson } from '../../api/users.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { fieldIssues } from './AddUserModal.tsx';
import { fromBytes } from './quota.ts';
import { QuotaBar } from './QuotaBar.tsx';
import { QuotaInput, quotaFromInput, type QuotaValue } from './QuotaInput.tsx';

function uidOnlyChoice(value: boolean | null): 'default' | 'on' | 'off' {
  if (value === null) return 'default';
  return value ? 'on' : 'off';
}

export function UserSettingsCard({ user }: { user: UserDetailJson }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(user.name);
  const [quota, setQuota] = useState<QuotaValue>(() => fromBytes(user.quotaBytes));
  // When the saved values change (this form or elsewhere), the fields follow them: React's
  // "adjust state while rendering" pattern, so no effect runs a second render pass.
  const [synced, setSynced] = useState({ name: user.name, quotaBytes: user.quotaBytes });
  if (synced.name !== user.name || synced.quotaBytes !== user.quotaBytes) {
    setSynced({ name: user.name, quotaBytes: user.quotaBytes });
    setName(user.name);
    setQuota(fromBytes(user.quotaBytes));
  }
  const quotaResult = quotaFromInput(quota);
  const invalidate = () => queryClient.invalidateQueries({ queryKey: userKeys.all });

  const save = useMutation({
    mutationFn: () =>
      usersApi.update(user.id, { name: name.trim(), quotaBytes: quotaResult.bytes ?? user.quotaBytes }),
    onSuccess: invalidate,
  });
  const toggle = useMutation({
    mutationFn: () => usersApi.update(user.id, { disabled: !user.disabled }),
    onSuccess: invalidate,
  });

  const sentCopy = useMutation({
    mutationFn: (on: boolean) => usersApi.update(user.id, { saveSentCopy: on }),
    onSuccess: invalidate,
  });

  const uidOnly = useMutation({
    mutationFn: (value: boolean | null) => usersApi.update(user.id, { uidOnly: value }),
    onSuccess: invalidate,
  });

  const dirty = name.trim() !== user.name || quotaResult.bytes !== user.quotaBytes;
  const issues = fieldIssues(save.error);

  function submit(event: FormEvent) {
    event.preventDefault();
    if (quotaResult.error || !dirty) return;
    save.mutate();
  }

  return (
    <Card withBorder>
      <Stack>
        <Group justify="space-between">
          <Title order={3} size="h4">
            Account
          </Title>
          {user.disabled ? (
            <Badge color="gray" variant="outline" data-testid="user-disabled-badge">
              Disabled
            </Badge>
          ) : (
            <Badge color="teal" variant="light">
              Active
            </Badge>
          )}
        </Group>
        <QuotaBar used={user.quota.usedBytes} limit={user.quota.limitBytes} size="md" />
        <form onSubmit={submit} noValidate>
          <Stack>
            <TextInput
              label="Display name"
              value={name}
              onChange={(event) => setName(event.currentTarget.value)}
              error={issues.name}
              data-testid="edit-name"
            />
            <QuotaInput
              value={quota}
              onChange={setQuota}
              error={quotaResult.error ?? issues.quotaBytes}
              testId="edit-quota"
            />
            <ErrorNotice error={save.error} title="The changes were not saved" />
            <Group justify="flex-end">
              {save.isSuccess && !dirty && (
                <Text size="sm" c="teal" role="status">
                  Saved
                </Text>
              )}
              <Button type="submit" disabled={!dirty} loading={save.isPending} data-testid="save-user">
                Save
              </Button>
            </Group>
          </Stack>
        </form>
        <Group justify="space-between" wrap="nowrap">
          <Text size="sm" c="dimmed" style={{ flex: 1 }}>
            {user.disabled
              ? 'This user cannot log in; mail to its addresses is still delivered.'
              : 'Disabling stops logins and ends the open sessions; mail is still delivered.'}
          </Text>
          <Button
            variant="light"
            color={user.disabled ? 'teal' : 'orange'}
            loading={toggle.isPending}
            onClick={() => toggle.mutate()}
            style={{ flexShrink: 0 }}
            data-testid="toggle-disabled"
          >
            {user.disabled ? 'Enable' : 'Disable'}
          </Button>
        </Group>
        <ErrorNotice error={toggle.error} />
        <Switch
          label="Save a copy of sent mail to Sent"
          description="For mail clients that do not keep their own copy (most do: leave it off for them, or each message is there twice)."
          checked={user.saveSentCopy}
          disabled={sentCopy.isPending}
          onChange={(event) => sentCopy.mutate(event.currentTarget.checked)}
          data-testid="toggle-save-sent"
        />
        <ErrorNotice error={sentCopy.error} title="The setting was not saved" />
        <Input.Wrapper
          label="IMAP UIDONLY"
          description="A faster way for mail clients to sync. Some Outlook builds mishandle it: turn it off for a user whose Outlook shows empty or duplicated folders."
        >
          <SegmentedControl
            mt="xs"
            aria-label="IMAP UIDONLY"
            value={uidOnlyChoice(user.uidOnly)}
            disabled={uidOnly.isPending}
            onChange={(value) => uidOnly.mutate(value === 'default' ? null : value === 'on')}
            data={[
              { value: 'default', label: 'Server default' },
              { value: 'on', label: 'On' },
              { value: 'off', label: 'Off' },
            ]}
            data-testid="uidonly-choice"
          />
        </Input.Wrapper>
        <ErrorNotice error={uidOnly.error} title="The setting was not saved" />
      </Stack>
    </Card>
  );
}
