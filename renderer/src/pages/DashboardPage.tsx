/**
 * The dashboard: the server's state and uptime, live connections and a live chart, listeners,
 * storage, deliveries, a certificate warning and a password-guessing warning, with quick actions. Live figures come from the
 * event stream (see components/dashboard/liveMetrics.ts), seeded from `GET /api/status`.
 */
import { Button, Card, Grid, Group, Loader, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useEffect } from 'react';
import { Link } from 'react-router';
import { statusApi } from '../api/status.ts';
import { AcmeWarning } from '../components/dashboard/AcmeWarning.tsx';
import { BackupWarning } from '../components/dashboard/BackupWarning.tsx';
import { CertificateWarning } from '../components/dashboard/CertificateWarning.tsx';
import { DeliveryHistoryCard } from '../components/deliveries/DeliveryHistoryCard.tsx';
import { ConnectionsCard } from '../components/dashboard/ConnectionsCard.tsx';
import { GuessingWarning } from '../components/dashboard/GuessingWarning.tsx';
import { ListenersCard } from '../components/dashboard/ListenersCard.tsx';
import { LiveChart } from '../components/dashboard/LiveChart.tsx';
import { seedFromStatus, useLiveMetrics, useLiveMetricsFeed } from '../components/dashboard/liveMetrics.ts';
import { RestartServerButton, StartServerButton } from '../components/dashboard/RestartServerButton.tsx';
import { ServerCard } from '../components/dashboard/ServerCard.tsx';
import { SetupChecklist } from '../components/dashboard/SetupChecklist.tsx';
import { CommandsStat, DeliveriesStat, StorageStat } from '../components/dashboard/StatCards.tsx';
import { ErrorNotice } from '../components/ErrorNotice.tsx';
import { useServerStatus } from '../components/ServerStateBadge.tsx';

export function DashboardPage() {
  useLiveMetricsFeed();
  const live = useLiveMetrics();
  const supervisor = useServerStatus();
  const running = supervisor.data?.state === 'running';
  const status = useQuery({
    queryKey: ['status'],
    queryFn: statusApi.status,
    // Listeners and store health change rarely; the live figures come from events.
    refetchInterval: 30_000,
    enabled: supervisor.data === undefined || running,
  });

  useEffect(() => {
    if (status.data) seedFromStatus(status.data, status.dataUpdatedAt);
  }, [status.data, status.dataUpdatedAt]);

  // Counts of a server that is not running describe connections that are gone.
  const counts = running ? live.counts : null;
  const total = counts ? counts.imap + counts.pop3 + counts.lmtp + counts.smtp + counts.submission : null;

  return (
    <Stack gap="lg">
      <Group justify="space-between">
        <Title order={2}>Dashboard</Title>
        <Group gap="sm">
          <Button component={Link} to="/users?add=1" variant="light" data-testid="quick-add-user">
            Add a user
          </Button>
          {supervisor.data?.state === 'stopped' ? (
            <StartServerButton />
          ) : (
            <RestartServerButton connections={total} />
          )}
        </Group>
      </Group>

      <SetupChecklist />
      <CertificateWarning />
      <AcmeWarning />
      <BackupWarning />
      <GuessingWarning auth={running ? status.data?.auth : undefined} />
      {supervisor.error && <ErrorNotice error={supervisor.error} title="The server's state is unknown" />}
      {status.error && running && (
        <ErrorNotice error={status.error} title="The server status could not be read" />
      )}

      <Grid>
        <Grid.Col span={{ base: 12, lg: 7 }}>
          <ServerCard supervisor={supervisor.data} status={status.data} live={live} />
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 5 }}>
          <ConnectionsCard counts={counts} />
        </Grid.Col>
      </Grid>

      <Card withBorder padding="lg">
        <Group justify="space-between" mb="xs">
          <Title order={3} size="h4">
            Activity
          </Title>
          <Text size="xs" c="dimmed">
            up to the last 10 minutes · solid: connections · dashed: commands per minute
          </Text>
        </Group>
        <LiveChart samples={live.samples} />
      </Card>

      <SimpleGrid cols={{ base: 1, sm: 3 }}>
        <StorageStat />
        <DeliveriesStat today={running ? live.today : null} />
        <CommandsStat commands={live.commandsTotal} />
      </SimpleGrid>

      {running && <DeliveryHistoryCard />}

      {status.data ? (
        <ListenersCard listeners={status.data.listeners} />
      ) : (
        status.isPending &&
        running && (
          <Card withBorder padding="lg">
            <Loader size="sm" aria-label="Loading listeners" />
          </Card>
        )
      )}
    </Stack>
  );
}
