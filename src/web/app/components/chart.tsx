/**
 * @module web/app/components/chart
 * A time-series chart (stacked bars per time bucket) drawn by uPlot on a canvas, sized to its container (and redrawn when that
 * changes, e.g. a phone turned sideways). uPlot's own legend is off: the legend is a list with
 * colour swatches here, and the same numbers are one click away as a data table (the canvas is
 * an image to a screen reader; the table is not). Colours follow the .sw-N classes in styles.css.
 * Touches: the DOM (a canvas inside the figure).
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef } from 'preact/hooks';
import { formatCount, formatTime } from '../format.ts';

/** Series colours, the same as .sw-0 … .sw-7. */
export const PALETTE = ['#0b5cad', '#1a7f37', '#8250df', '#b42318', '#8a5a00', '#0e7490', '#6e7781', '#bf3989'];

export interface ChartSeries {
  label: string;
  values: readonly number[];
}

export interface ChartProps {
  title: string;
  /** Start of each bucket, epoch ms. */
  x: readonly number[];
  series: readonly ChartSeries[];
  height?: number;
}

export function TimeChart({ title, x, series, height = 220 }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el || series.length === 0) return;
    const width = (): number => Math.max(280, Math.floor(el.clientWidth));
    // Stacked bars: series k is drawn at the sum of series 0..k, largest first, so each shows its own band.
    const stacked: number[][] = [];
    let acc = x.map(() => 0);
    for (const s of series) stacked.push((acc = acc.map((v, i) => v + (s.values[i] ?? 0))));
    const order = series.map((_, i) => i).reverse();
    const data = [x.map((t) => t / 1000), ...order.map((i) => stacked[i] ?? [])] as uPlot.AlignedData;
    const bars = uPlot.paths.bars?.({ size: [0.85, 64], align: 1 });
    const step = x.length > 1 ? (x[1] ?? 0) - (x[0] ?? 0) : 60_000;
    const xFrom = (x[0] ?? 0) / 1000;
    const xTo = ((x[x.length - 1] ?? 0) + step) / 1000;
    const plot = new uPlot(
      {
        width: width(),
        height,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        // The x axis spans whole buckets: the last (current) bucket's bar is drawn inside the plot.
        scales: { x: { time: true, range: () => [xFrom, xTo] }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        axes: [{}, { values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? formatCount(t) : '')) }],
        series: [
          {},
          ...order.map((i) => {
            const colour = PALETTE[i % PALETTE.length];
            return { label: series[i]?.label ?? '', stroke: colour, fill: colour, width: 0, points: { show: false }, ...(bars ? { paths: bars } : {}) };
          }),
        ],
      },
      data,
      el,
    );
    const ro = new ResizeObserver(() => plot.setSize({ width: width(), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [x, series, height]);

  const total = series.reduce((n, s) => n + s.values.reduce((a, b) => a + b, 0), 0);
  return (
    <figure class="chart-figure">
      <figcaption>{title}</figcaption>
      {series.length === 0 || total === 0 ? (
        <p class="muted">Nothing in this window.</p>
      ) : (
        <>
          <div class="chart" ref={box} role="img" aria-label={`${title}: ${series.map((s) => `${s.label} ${formatCount(s.values.reduce((a, b) => a + b, 0))}`).join(', ')}`} />
          <ul class="legend-list">
            {series.map((s, i) => (
              <li key={s.label}>
                <span class={`swatch sw-${i % PALETTE.length}`} aria-hidden="true" />
                {s.label}: {formatCount(s.values.reduce((a, b) => a + b, 0))}
              </li>
            ))}
          </ul>
          <details>
            <summary>Show as a table</summary>
            <div class="table-wrap" tabIndex={0} role="region" aria-label={`${title} as a table`}>
              <table>
                <caption class="visually-hidden">{title}</caption>
                <thead>
                  <tr>
                    <th scope="col">From</th>
                    {series.map((s) => (
                      <th scope="col" class="num" key={s.label}>
                        {s.label}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {x.map((t, i) =>
                    series.some((s) => (s.values[i] ?? 0) > 0) ? (
                      <tr key={t}>
                        <td>{formatTime(t)}</td>
                        {series.map((s) => (
                          <td class="num" key={s.label}>
                            {formatCount(s.values[i] ?? 0)}
                          </td>
                        ))}
                      </tr>
                    ) : null,
                  )}
                </tbody>
              </table>
            </div>
          </details>
        </>
      )}
    </figure>
  );
}
