/**
 * The live chart: open connections and commands per minute over the last minutes, drawn by uPlot
 * (charts/useUplot.ts) from the ring of samples, in the theme's colours for the scheme in force.
 */
import { Box, Text, useComputedColorScheme, useMantineTheme, VisuallyHidden } from '@mantine/core';
import { useMemo } from 'react';
import type uPlot from 'uplot';
import { useUplot, wholeNumbers } from '../charts/useUplot.ts';
import { countOf } from '../format.ts';
import type { Sample } from './liveMetrics.ts';

/** The x axis shows the data's span, at least a minute (a fresh chart is not a thin strip) and at most ten. */
const MIN_WINDOW_SECONDS = 60;
const WINDOW_SECONDS = 10 * 60;
const HEIGHT = 220;

interface Palette {
  axis: string;
  grid: string;
  connections: string;
  connectionsFill: string;
  commands: string;
}

function toData(samples: readonly Sample[]): uPlot.AlignedData {
  return [
    samples.map((sample) => sample.t),
    samples.map((sample) => sample.connections),
    samples.map((sample) => sample.commandsPerMinute),
  ];
}

/** The newest sample at the right edge, spanning the data (within the minimum and maximum window). */
function timeWindow(times: ArrayLike<number> | undefined): uPlot.Range.MinMax {
  const count = times?.length ?? 0;
  const last = count > 0 ? times![count - 1]! : Date.now() / 1000;
  const first = count > 0 ? times![0]! : last;
  const span = Math.min(WINDOW_SECONDS, Math.max(MIN_WINDOW_SECONDS, last - first));
  return [last - span, last];
}

function options(width: number, palette: Palette): uPlot.Options {
  const axis = (scale: string, side: uPlot.Axis.Side, label: string, grid: boolean): uPlot.Axis => ({
    scale,
    side,
    label,
    stroke: palette.axis,
    grid: { show: grid, stroke: palette.grid, width: 1 },
    ticks: { stroke: palette.grid, width: 1 },
    values: wholeNumbers,
  });
  return {
    width,
    height: HEIGHT,
    cursor: { drag: { x: false, y: false } },
    scales: {
      // A window ending at the newest sample, so the line moves left as time passes like a live monitor.
      // Read from the data, not the given min/max: uPlot widens a single point's range by years.
      x: { time: true, range: (self) => timeWindow(self.data[0]) },
      connections: { range: (_self, _min, max) => [0, Math.max(4, Math.ceil(max * 1.25))] },
      commands: { range: (_self, _min, max) => [0, Math.max(10, Math.ceil(max * 1.25))] },
    },
    series: [
      {},
      {
        label: 'Connections',
        scale: 'connections',
        stroke: palette.connections,
        fill: palette.connectionsFill,
        width: 2,
        points: { show: false },
      },
      {
        label: 'Commands / min',
        scale: 'commands',
        stroke: palette.commands,
        width: 2,
        dash: [6, 4],
        points: { show: false },
      },
    ],
    axes: [
      { stroke: palette.axis, grid: { stroke: palette.grid, width: 1 }, ticks: { stroke: palette.grid } },
      axis('connections', 3, 'Connections', true),
      axis('commands', 1, 'Commands / min', false),
    ],
  };
}

export function LiveChart({ samples }: { samples: readonly Sample[] }) {
  const theme = useMantineTheme();
  const scheme = useComputedColorScheme('light');
  const dark = scheme === 'dark';
  const palette: Palette = {
    axis: dark ? theme.colors.dark[1] : theme.colors.gray[7],
    grid: dark ? theme.colors.dark[4] : theme.colors.gray[3],
    connections: dark ? theme.colors.teal[4] : theme.colors.teal[7],
    // Theme colours are #rrggbb: a two-digit alpha makes the area under the line a light wash.
    connectionsFill: `${dark ? theme.colors.teal[4] : theme.colors.teal[7]}26`,
    commands: dark ? theme.colors.orange[4] : theme.colors.orange[7],
  };
  const data = useMemo(() => toData(samples), [samples]);
  const { sizeRef, target } = useUplot(
    (width) => options(width, palette),
    data,
    Object.values(palette).join(),
    HEIGHT,
  );

  const last = samples.findLast((sample) => sample.connections !== null);
  const peak = samples.reduce((most, sample) => Math.max(most, sample.connections ?? 0), 0);
  return (
    <Box ref={sizeRef} data-testid="live-chart" data-samples={samples.length} data-peak={peak}>
      <div ref={target} role="img" aria-label="Connections and commands over the last ten minutes" />
      <VisuallyHidden>
        {last
          ? `Latest: ${countOf(last.connections ?? 0, 'connection')}, ${countOf(last.commandsPerMinute ?? 0, 'command')} per minute.`
          : 'No data yet.'}
      </VisuallyHidden>
      {samples.length < 2 && (
        <Text size="xs" c="dimmed" mt={4}>
          The chart fills in as the server reports every few seconds.
        </Text>
      )}
    </Box>
  );
}
