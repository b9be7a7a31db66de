/**
 * Backups: where they go, the last success and the last run (with its error), the next scheduled
 * run, the backups on disk, and "Back up now"; "Restore…" per backup puts one user or mailbox back
 * into the running server and follows it. The whole server is restored by a command into a new
 * data directory: the dialog says how.
 */
import { Alert, Badge, Button, Card, Code, Group, Stack, Table, Text, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { BACKUPS_KEY, backupsApi } from '../api/backups.ts';
import { useState } from 'react';
import { RestoreModal } from '../components/backups/RestoreModal.tsx';
import { RestoreStatusCard } from '../components/backups/RestoreStatusCard.tsx';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { formatBytes, formatDate } from '../components/format.ts';

export function BackupsPage() {
  const queryClient = useQueryClient();
  const query = useQuery({
    queryKey: BACKUPS_KEY,
    queryFn: backupsApi.status,
    // While a backup or a restore runs the page follows it closely; otherwise now and then.
    refetchInterval: (q) =>
      q.state.data?.running || (q.state.data?.restore && !q.state.data.restore.finishedAt) ? 1000 : 30_000,
  });
  const run = useMutation({
    mutationFn: backupsApi.run,
    onSuccess: (status) => queryClient.setQueryData(BACKUPS_KEY, status),
  });
  const [restoring, setRestoring] = useState<string | null>(null);
  const status = query.data;
  const newest = status?.backups[0];

  return (
    <Stack gap="lg">
      <div>
        <Title order={2}>Backups</Title>
        <Text c="dimmed" size="sm">
          A backup of every account, its mail and the server’s settings, made every day into a folder (an
          external disk, a NAS share). Each backup is checked by reading it back with{' '}
          <Code>mallard backup verify</Code>.
        </Text>
      </div>
      {query.error ? <ErrorNotice error={query.error} /> : null}
      {run.error ? <ErrorNotice error={run.error} /> : null}
      {status && !status.configured ? (
        <Alert color="yellow" variant="light" title="No backup destination" data-testid="backup-unconfigured">
          Set <Code>backup.destination</Code> to a folder (in the configuration file or as
          MALLARD_BACKUP_DESTINATION) and restart the server: backups then run every day.
        </Alert>
      ) : null}
      {status?.configured ? (
        <Card withBorder data-testid="backup-card">
          <Stack gap="xs">
            <Group justify="space-between">
              <Text fw={500}>{status.destination}</Text>
              <Badge color={status.encrypted ? 'teal' : 'gray'}>
                {status.encrypted ? 'encrypted' : 'not encrypted'}
              </Badge>
            </Group>
            <Text size="sm" data-testid="backup-last-success">
              Last success: {status.lastSuccessAt ? formatDate(status.lastSuccessAt) : 'never'}
              {newest ? ` · ${formatBytes(newest.bytes)}` : ''}
            </Text>
            <Text size="sm" data-testid="backup-next-run">
              Next run:{' '}
              {status.running
                ? 'running now'
                : status.nextRunAt
                  ? formatDate(status.nextRunAt)
                  : 'not scheduled'}
            </Text>
            {status.last && !status.last.ok ? (
              <Alert color="red" variant="light" title="The last backup failed" data-testid="backup-error">
                {status.last.error}
              </Alert>
            ) : null}
            <Group>
              <Button
                data-testid="backup-now"
                loading={run.isPending || status.running}
                onClick={() => run.mutate()}
              >
                Back up now
              </Button>
            </Group>
          </Stack>
        </Card>
      ) : null}
      {status && status.backups.length > 0 ? (
        <Table data-testid="backup-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Backup</Table.Th>
              <Table.Th>Made</Table.Th>
              <Table.Th>Size</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {status.backups.map((backup) => (
              <Table.Tr key={backup.name} data-testid="backup-row">
                <Table.Td>{backup.name}</Table.Td>
                <Table.Td>{backup.createdAt ? formatDate(backup.createdAt) : 'unreadable'}</Table.Td>
                <Table.Td>{formatBytes(backup.bytes)}</Table.Td>
                <Table.Td>
                  {backup.createdAt ? (
                    <Button
                      size="xs"
                      variant="light"
                      onClick={() => setRestoring(backup.name)}
                      data-testid="restore-open"
                    >
                      Restore…
                    </Button>
                  ) : null}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      ) : null}
      {status?.restore ? <RestoreStatusCard restore={status.restore} /> : null}
      <RestoreModal
        backup={restoring}
        destination={status?.destination ?? ''}
        onClose={() => setRestoring(null)}
      />
      <Text size="sm" c="dimmed">
        “Restore…” puts one account or one mailbox back into the running server, as{' '}
        <Code>mallard backup restore FILE --user EMAIL [--mailbox NAME]</Code> does; the whole server goes
        into a new data directory with <Code>mallard backup restore FILE</Code>.
      </Text>
    </Stack>
  );
}
