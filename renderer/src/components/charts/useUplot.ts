/**
 * A uPlot chart inside a React component, shared by the dashboard's live chart and the delivery
 * history. uPlot draws on a canvas, which cannot read CSS variables, so the charts pick their
 * colours from the theme; uPlot has no restyle, so a chart is built again when its colours change
 * (`styleKey`), is resized in place when its box is, and takes new data without being rebuilt.
 */
import 'uplot/dist/uPlot.min.css';
import { useElementSize } from '@mantine/hooks';
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';

/**
 * `options(width)` builds the chart's options; `data` should keep its identity between renders
 * until it changes (useMemo), since every new value is drawn. Returns the refs to put on the
 * sized box and on the element uPlot draws into.
 */
export function useUplot(
  options: (width: number) => uPlot.Options,
  data: uPlot.AlignedData,
  styleKey: string,
  height: number,
) {
  const { ref: sizeRef, width } = useElementSize();
  const target = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef({ options, data });
  latest.current = { options, data };
  const chartWidth = Math.floor(width);

  useEffect(() => {
    if (!target.current || chartWidth <= 0) return;
    const chart = new uPlot(latest.current.options(chartWidth), latest.current.data, target.current);
    plot.current = chart;
    return () => {
      chart.destroy();
      plot.current = null;
    };
  }, [styleKey, chartWidth > 0]);

  useEffect(() => {
    if (chartWidth > 0) plot.current?.setSize({ width: chartWidth, height });
  }, [chartWidth, height]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return { sizeRef, target };
}

/** Integer ticks for counts: half a message or a fraction of a connection means nothing. */
export function wholeNumbers(_self: uPlot, splits: number[]): string[] {
  return splits.map((value) => (Number.isInteger(value) ? String(value) : ''));
}
