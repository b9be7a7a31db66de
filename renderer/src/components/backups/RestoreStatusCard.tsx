/** The last restore started from the panel: its progress, then per mailbox what came back and how. */
import { Alert, Card, List, Stack, Text } from '@mantine/core';
import type { BackupStatus } from '../../api/backups.ts';
import { formatBytes } from '../format.ts';

type Restore = NonNullable<BackupStatus['restore']>;

export function RestoreStatusCard({ restore }: { restore: Restore }) {
  const what = `${restore.user}${restore.mailbox ? ` ${restore.mailbox}` : ''} from ${restore.backup}`;
  return (
    <Card withBorder data-testid="restore-status" data-phase={restore.phase}>
      <Stack gap="xs">
        <Text fw={500}>Restore of {what}</Text>
        {restore.phase === 'verifying' ? <Text size="sm">Checking the backup first…</Text> : null}
        {restore.phase === 'restoring' ? (
          <Text size="sm" data-testid="restore-progress">
            Restoring: {restore.messages} messages ({formatBytes(restore.bytes)}) so far…
          </Text>
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
