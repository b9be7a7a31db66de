/** Live connection counts per protocol, from the event stream. */
import { Card, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import type { ConnectionCounts } from '../../api/status.ts';

const PROTOCOLS: ReadonlyArray<{ key: keyof ConnectionCounts; label: string }> = [
  { key: 'imap', label: 'IMAP' },
  { key: 'pop3', label: 'POP3' },
  { key: 'lmtp', label: 'LMTP' },
  { key: 'smtp', label: 'SMTP' },
  { key: 'submission', label: 'Submission' },
];

export function ConnectionsCard({ counts }: { counts: ConnectionCounts | null }) {
  const total = counts ? PROTOCOLS.reduce((sum, { key }) => sum + counts[key], 0) : null;
  return (
    <Card withBorder padding="lg">
      <Group justify="space-between" mb="sm">
        <Title order={3} size="h4">
          Connections now
        </Title>
        <Text fw={700} size="xl" data-testid="connections-total" aria-label="Total connections">
          {total ?? '—'}
        </Text>
      </Group>
      <SimpleGrid cols={{ base: 3, sm: 5 }} spacing="xs">
        {PROTOCOLS.map(({ key, label }) => (
          <Stack key={key} gap={0} align="center">
            <Text size="xl" fw={600} data-testid={`connections-${key}`} aria-label={`${label} connections`}>
              {counts ? counts[key] : '—'}
            </Text>
            <Text size="xs" c="dimmed">
              {label}
            </Text>
          </Stack>
        ))}
      </SimpleGrid>
    </Card>
  );
}
