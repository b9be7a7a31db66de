/**
 * Warns when the last backup failed (the earlier backups are untouched), with the error and a way
 * to the Backups page.
 */
import { Alert, Anchor } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { BACKUPS_KEY, backupsApi } from '../../api/backups.ts';
import { formatDate } from '../format.ts';

export function BackupWarning() {
  const backups = useQuery({ queryKey: BACKUPS_KEY, queryFn: backupsApi.status, refetchInterval: 60_000 });
  const last = backups.data?.last;
  if (!last || last.ok) return null;
  return (
    <Alert color="red" variant="light" title="The last backup failed" data-testid="backup-warning">
      {formatDate(last.finishedAt)}: {last.error}. The earlier backups are untouched.{' '}
      <Anchor component={Link} to="/backups">
        Backups page
      </Anchor>
    </Alert>
  );
}
