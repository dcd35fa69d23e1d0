/** Throughput (changes/s) and latency (avg and max ms) over the last two minutes, with uPlot. */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Bucket } from '../stores/monitor';

function css(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

export function LiveChart({ series, theme, tick }: { series: Bucket[]; theme: string; tick: number }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = host.current!;
    const axis = { stroke: css('--text-soft'), grid: { stroke: css('--border'), width: 1 }, ticks: { stroke: css('--border'), width: 1 } };
    const opts: uPlot.Options = {
      width: el.clientWidth || 600,
      height: 170,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, n: { auto: true, range: (_u, _min, max) => [0, Math.max(5, max)] }, ms: { auto: true, range: (_u, _min, max) => [0, Math.max(10, max)] } },
      axes: [
        { ...axis, values: (_u, splits) => splits.map((t) => new Date(t * 1000).toLocaleTimeString('en-GB', { hour12: false })) },
        { ...axis, scale: 'n', label: 'changes/s', size: 50 },
        { ...axis, scale: 'ms', side: 1, label: 'latency ms', size: 50, grid: { show: false } },
      ],
      series: [
        {},
        { label: 'changes/s', scale: 'n', stroke: css('--accent'), fill: css('--accent-soft'), width: 1.5, paths: uPlot.paths.stepped?.({ align: 1 }) },
        { label: 'avg latency', scale: 'ms', stroke: css('--ok'), width: 1.5 },
        { label: 'max latency', scale: 'ms', stroke: css('--warn'), width: 1, dash: [4, 3] },
      ],
    };
    plot.current = new uPlot(opts, [[], [], [], []], el);
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: el.clientWidth, height: 170 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [theme]);

  useEffect(() => {
    const p = plot.current;
    if (!p) return;
    // Fill the seconds with no events with zeros, so the chart reads as a timeline.
    const now = Math.floor(Date.now() / 1000);
    const start = now - 119;
    const byT = new Map(series.map((b) => [b.t, b]));
    const xs: number[] = [], n: number[] = [], avg: Array<number | null> = [], max: Array<number | null> = [];
    for (let t = start; t <= now; t++) {
      const b = byT.get(t);
      xs.push(t);
      n.push(b?.count ?? 0);
      avg.push(b && b.latencyN ? b.latencySum / b.latencyN : null);
      max.push(b && b.latencyN ? b.latencyMax : null);
    }
    p.setData([xs, n, avg, max]);
  }, [series, theme, tick]);

  return <div ref={host} className="chart-box" data-testid="live-chart" />;
}
