/**
 * The last restore started from the panel: its progress (with Cancel while it runs), then per
 * mailbox what came back and how.
 */
import { Alert, Button, Card, Group, List, Stack, Text } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { BACKUPS_KEY, backupsApi, type BackupStatus } from '../../api/backups.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';
import { formatBytes } from '../format.ts';

type Restore = NonNullable<BackupStatus['restore']>;

export function RestoreStatusCard({ restore }: { restore: Restore }) {
  const queryClient = useQueryClient();
  const cancel = useMutation({
    mutationFn: backupsApi.cancelRestore,
    onSuccess: (status) => queryClient.setQueryData(BACKUPS_KEY, status),
  });
  const what = `${restore.user}${restore.mailbox ? ` ${restore.mailbox}` : ''} from ${restore.backup}`;
  const running = restore.phase === 'verifying' || restore.phase === 'restoring';
  return (
    <Card withBorder data-testid="restore-status" data-phase={restore.phase}>
      <Stack gap="xs">
        <Group justify="space-between">
          <Text fw={500}>Restore of {what}</Text>
          {running || restore.phase === 'cancelling' ? (
            <Button
              size="xs"
              variant="default"
              color="red"
              data-testid="restore-cancel"
              loading={cancel.isPending || restore.phase === 'cancelling'}
              onClick={() => cancel.mutate()}
            >
              Cancel restore
            </Button>
          ) : null}
        </Group>
        {cancel.error ? <ErrorNotice error={cancel.error} /> : null}
        {restore.phase === 'cancelling' ? (
          <Text size="sm">Stopping after the messages being written…</Text>
        ) : null}
        {restore.phase === 'verifying' ? <Text size="sm">Checking the backup first…</Text> : null}
        {restore.phase === 'restoring' ? (
          <Text size="sm" data-testid="restore-progress">
            Restoring: {restore.messages} messages ({formatBytes(restore.bytes)}) so far…
          </Text>
        ) : null}
        {restore.phase === 'cancelled' && restore.report ? (
          <Alert color="yellow" variant="light" title="Restore cancelled" data-testid="restore-cancelled">
            {restore.report.messages} messages ({formatBytes(restore.report.bytes)}) were restored before it
            stopped; they stay. Restore the same user again to add the rest.
          </Alert>
        ) : null}
        {restore.phase === 'failed' ? (
          <Alert color="red" variant="light" title="The restore failed" data-testid="restore-error">
            {restore.error}
          </Alert>
        ) : null}
        {restore.phase === 'done' && restore.report ? (
          <>
            <Text size="sm" data-testid="restore-summary">
              Done: {restore.report.messages} messages ({formatBytes(restore.report.bytes)}) restored into{' '}
              {restore.report.mailboxes.length}{' '}
              {restore.report.mailboxes.length === 1 ? 'mailbox' : 'mailboxes'}.
            </Text>
            <List size="sm">
              {restore.report.mailboxes.map((m) => (
                <List.Item key={m.path} data-testid="restore-mailbox-result">
                  {m.path}: {m.restored} restored{m.skipped ? `, ${m.skipped} already there` : ''} —{' '}
                  {m.uids === 'kept' ? 'UIDs kept' : 'new UIDs (mail apps download these again)'}
                </List.Item>
              ))}
            </List>
            {restore.report.notes.map((note) => (
              <Text size="sm" c="dimmed" key={note} data-testid="restore-note">
                {note}
              </Text>
            ))}
          </>
        ) : null}
      </Stack>
    </Card>
  );
}
