/** The server at a glance: supervisor state, uptime (ticking), version, process and store health. */
import { Badge, Card, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useEffect, useState, type ReactNode } from 'react';
import type { SupervisorStatus } from '../../api/panel.ts';
import type { StatusJson } from '../../api/status.ts';
import { formatDate, formatDuration } from '../format.ts';
import type { LiveSnapshot } from './liveMetrics.ts';

const STATE_TEXT: Record<SupervisorStatus['state'], { label: string; color: string }> = {
  running: { label: 'Running', color: 'teal' },
  starting: { label: 'Starting', color: 'yellow' },
  stopping: { label: 'Stopping', color: 'yellow' },
  backoff: { label: 'Restarting after a crash', color: 'orange' },
  stopped: { label: 'Stopped', color: 'gray' },
};

const ENGINE_NAMES: Record<string, string> = { sqlite: 'Embedded (SQLite)', mongodb: 'MongoDB' };

/** Re-renders every second so the uptime counts up between the server's reports. */
function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

function Field({ label, children, testId }: { label: string; children: ReactNode; testId?: string }) {
  return (
    <Stack gap={0}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      {/* A div, not a p: the store's value holds a Badge, which is a div. */}
      <Text component="div" size="sm" data-testid={testId}>
        {children}
      </Text>
    </Stack>
  );
}

export function ServerCard({
  supervisor,
  status,
  live,
}: {
  supervisor: SupervisorStatus | undefined;
  status: StatusJson | undefined;
  live: LiveSnapshot;
}) {
  const now = useNow();
  const state = supervisor ? STATE_TEXT[supervisor.state] : null;
  const running = supervisor?.state === 'running';
  const uptime =
    running && live.uptimeSeconds !== null ? live.uptimeSeconds + (now - live.uptimeAt) / 1000 : null;

  return (
    <Card withBorder padding="lg" data-testid="server-card">
      <Group justify="space-between" mb="sm">
        <Title order={3} size="h4">
          Mail server
        </Title>
        {state && (
          <Badge color={state.color} size="lg" variant="light" data-testid="dashboard-server-state">
            {state.label}
          </Badge>
        )}
      </Group>
      <SimpleGrid cols={{ base: 2, md: 3 }} spacing="md">
        <Field label="Uptime" testId="uptime">
          {uptime !== null ? formatDuration(uptime) : '—'}
        </Field>
        <Field label="Started">{formatDate(status?.startedAt ?? supervisor?.startedAt ?? null)}</Field>
        <Field label="Version">{status?.version ?? '—'}</Field>
        <Field label="Process">{supervisor?.pid ? `pid ${supervisor.pid}` : '—'}</Field>
        <Field label="Crash restarts">{supervisor ? supervisor.restarts : '—'}</Field>
        <Field label="Store" testId="store-engine">
          {status ? (
            <>
              {ENGINE_NAMES[status.store.engine] ?? status.store.engine}{' '}
              <Badge size="xs" color={status.store.ok ? 'teal' : 'red'} variant="light">
                {status.store.ok ? 'healthy' : 'failing'}
              </Badge>
            </>
          ) : (
            '—'
          )}
        </Field>
      </SimpleGrid>
      {status && !status.store.ok && (
        <Text size="sm" c="red" mt="sm">
          Store problem: {status.store.detail}
        </Text>
      )}
      {supervisor?.state === 'backoff' && supervisor.lastExit && (
        <Text size="sm" c="orange" mt="sm">
          The server stopped with{' '}
          {supervisor.lastExit.code !== null
            ? `exit code ${supervisor.lastExit.code}`
            : `signal ${supervisor.lastExit.signal}`}{' '}
          at {formatDate(supervisor.lastExit.at)}; the next try is at {formatDate(supervisor.nextRestartAt)}.
        </Text>
      )}
    </Card>
  );
}
