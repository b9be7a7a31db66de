/**
 * The delivery history of the last 30 days (GET /api/deliveries), drawn by uPlot like the
 * dashboard's live chart (charts/useUplot.ts): per day, messages stored here, sent on, deferred and bounced. The
 * history lives in the store, so it survives restarts and counts every process and the CLI.
 */
import {
  Box,
  Card,
  Group,
  Loader,
  Text,
  Title,
  useComputedColorScheme,
  useMantineTheme,
  VisuallyHidden,
} from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import type uPlot from 'uplot';
import { deliveriesApi, type DeliveryDay } from '../../api/deliveries.ts';
import { useUplot, wholeNumbers } from '../charts/useUplot.ts';
import { ErrorNotice } from '../ErrorNotice.tsx';

const DAYS = 30;
const HEIGHT = 200;
const SERIES = [
  { key: 'local', label: 'Stored here', color: 'teal' },
  { key: 'sent', label: 'Sent', color: 'blue' },
  { key: 'deferred', label: 'Deferred', color: 'orange' },
  { key: 'bounced', label: 'Bounced', color: 'red' },
] as const;

/** Unix seconds of the day's local midnight (uPlot's time unit). */
function secondsOf(day: string): number {
  const [year, month, date] = day.split('-').map(Number);
  return new Date(year!, month! - 1, date!).getTime() / 1000;
}

function toData(days: readonly DeliveryDay[]): uPlot.AlignedData {
  return [
    days.map((day) => secondsOf(day.day)),
    ...SERIES.map((series) => days.map((day) => day[series.key])),
  ];
}

function HistoryChart({ days }: { days: readonly DeliveryDay[] }) {
  const theme = useMantineTheme();
  const dark = useComputedColorScheme('light') === 'dark';
  const axis = dark ? theme.colors.dark[1] : theme.colors.gray[7];
  const grid = dark ? theme.colors.dark[4] : theme.colors.gray[3];
  const colors = SERIES.map((series) => theme.colors[series.color]![dark ? 4 : 7]!);
  const options = (width: number): uPlot.Options => ({
    width,
    height: HEIGHT,
    cursor: { drag: { x: false, y: false } },
    scales: { y: { range: (_self, _min, max) => [0, Math.max(4, Math.ceil(max * 1.2))] } },
    series: [
      {},
      ...SERIES.map((series, index) => ({
        label: series.label,
        stroke: colors[index],
        width: 2,
        points: { show: true, size: 4 },
      })),
    ],
    axes: [
      { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
      { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, values: wholeNumbers },
    ],
  });
  const data = useMemo(() => toData(days), [days]);
  const { sizeRef, target } = useUplot(options, data, [axis, grid, ...colors].join(), HEIGHT);

  const sum = (key: (typeof SERIES)[number]['key']) => days.reduce((total, day) => total + day[key], 0);
  const summary = SERIES.map((series) => `${series.label.toLowerCase()} ${sum(series.key)}`).join(' · ');
  return (
    <Box ref={sizeRef}>
      <div ref={target} role="img" aria-label={`Deliveries per day over the last ${DAYS} days`} />
      <VisuallyHidden>{summary}</VisuallyHidden>
      <Text size="xs" c="dimmed" mt={4} data-testid="delivery-history-totals">
        {DAYS} days: {summary}
      </Text>
    </Box>
  );
}

/** `refreshMs`: how often to read it again (the queue page keeps step with its own refresh). */
export function DeliveryHistoryCard({ refreshMs = 60_000 }: { refreshMs?: number }) {
  const history = useQuery({
    queryKey: ['deliveries', DAYS],
    queryFn: () => deliveriesApi.history(DAYS),
    refetchInterval: refreshMs,
  });
  return (
    <Card withBorder padding="lg" data-testid="delivery-history" data-days={history.data?.length ?? 0}>
      <Group justify="space-between" mb="xs">
        <Title order={3} size="h4">
          Deliveries
        </Title>
        <Text size="xs" c="dimmed">
          per day, last {DAYS} days · kept across restarts
        </Text>
      </Group>
      {history.error ? (
        <ErrorNotice error={history.error} title="The delivery history could not be read" />
      ) : history.data ? (
        <HistoryChart days={history.data} />
      ) : (
        <Loader size="sm" aria-label="Loading the delivery history" />
      )}
    </Card>
  );
}
