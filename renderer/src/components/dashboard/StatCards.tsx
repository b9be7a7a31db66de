/** Storage used by the mailboxes, today's deliveries and the commands seen. */
import { Card, Group, Loader, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { statusApi, type StatusJson } from '../../api/status.ts';
import { errorMessage } from '../ErrorNotice.tsx';
import { formatBytes } from '../format.ts';

function Stat({
  label,
  value,
  note,
  testId,
}: {
  label: string;
  value: ReactNode;
  note: ReactNode;
  testId: string;
}) {
  return (
    <Card withBorder padding="lg">
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      {/* A div, not a p: the value may be a loader in a Group, which a p must not hold. */}
      <Text component="div" size="xl" fw={700} mt={4} data-testid={testId}>
        {value}
      </Text>
      <Text size="xs" c="dimmed" mt={2}>
        {note}
      </Text>
    </Card>
  );
}

export function StorageStat() {
  const storage = useQuery({
    queryKey: ['dashboard-storage'],
    queryFn: statusApi.storage,
    refetchInterval: 30_000,
  });
  if (storage.error) {
    return <Stat label="Storage used" value="—" note={errorMessage(storage.error)} testId="storage-used" />;
  }
  if (!storage.data) {
    return (
      <Stat
        label="Storage used"
        value={
          <Group>
            <Loader size="sm" aria-label="Loading storage" />
          </Group>
        }
        note=" "
        testId="storage-used"
      />
    );
  }
  const { usedBytes, users, partial } = storage.data;
  return (
    <Stat
      label="Storage used"
      value={formatBytes(usedBytes)}
      note={`by ${users} user${users === 1 ? '' : 's'}${partial ? ' (first users only)' : ''}`}
      testId="storage-used"
    />
  );
}

/**
 * Today's deliveries from the store's history: every server process and `mallard deliver` count,
 * and a restart keeps them. Delivered is what reached a mailbox here or the next hop.
 */
export function DeliveriesStat({ today }: { today: StatusJson['today'] }) {
  return (
    <Stat
      label="Deliveries today"
      value={today ? today.local + today.sent : '—'}
      note={
        today
          ? `stored here ${today.local} · sent ${today.sent} · deferred ${today.deferred} · bounced ${today.bounced}`
          : 'waiting for the server'
      }
      testId="deliveries"
    />
  );
}

export function CommandsStat({ commands }: { commands: number }) {
  return (
    <Stat
      label="Commands seen"
      value={commands}
      note="since this page started listening"
      testId="commands-total"
    />
  );
}
