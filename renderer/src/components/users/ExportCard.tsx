/**
 * Download a user's mail: every mailbox or one, as mbox files (Thunderbird, Apple Mail, mutt) or
 * as a Maildir (Dovecot and most servers). A plain link: the browser streams the tar to disk
 * while the server reads it, however large the account.
 */
import { Button, Card, Group, SegmentedControl, Select, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import type { UserDetailJson } from '../../api/users.ts';

type Mailbox = UserDetailJson['mailboxes'][number];
const ALL = '';

export function exportUrl(userId: string, format: string, mailbox: string): string {
  const query = new URLSearchParams({ format });
  if (mailbox !== ALL) query.set('mailbox', mailbox);
  return `/api/users/${encodeURIComponent(userId)}/export?${query.toString()}`;
}

export function ExportCard({ userId, mailboxes }: { userId: string; mailboxes: Mailbox[] }) {
  const [format, setFormat] = useState('mbox');
  const [mailbox, setMailbox] = useState(ALL);
  const choices = [
    { value: ALL, label: 'All mailboxes' },
    ...mailboxes.filter((m) => m.selectable).map((m) => ({ value: m.path, label: m.path })),
  ];
  return (
    <Card withBorder data-testid="export-card">
      <Stack>
        <Title order={3} size="h4">
          Export mail
        </Title>
        <Text size="sm" c="dimmed">
          A .tar file with flags and dates kept. mbox opens in Thunderbird (ImportExportTools NG) and Apple
          Mail; Maildir suits Dovecot and other servers. Both import back with <code>mallard import</code>.
        </Text>
        <Group align="flex-end">
          <SegmentedControl
            value={format}
            onChange={setFormat}
            data={[
              { value: 'mbox', label: 'mbox' },
              { value: 'maildir', label: 'Maildir' },
            ]}
            data-testid="export-format"
          />
          <Select
            label="Mailbox"
            data={choices}
            value={mailbox}
            onChange={(value) => setMailbox(value ?? ALL)}
            allowDeselect={false}
            data-testid="export-mailbox"
          />
          <Button
            component="a"
            href={exportUrl(userId, format, mailbox)}
            download
            data-testid="export-download"
          >
            Download
          </Button>
        </Group>
      </Stack>
    </Card>
  );
}
