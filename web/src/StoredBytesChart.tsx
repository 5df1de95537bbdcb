import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { bytes } from './format.js';

export interface ChartPoint {
  /** Unix seconds. */
  time: number;
  total: number;
  added: number;
}

/** Stored bytes over time with uPlot (canvas), sized to its container so it reads on a phone. */
export function StoredBytesChart({ points }: { points: ChartPoint[] }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const data: uPlot.AlignedData = [points.map((p) => p.time), points.map((p) => p.total), points.map((p) => p.added)];
    const size = () => ({ width: Math.max(260, el.clientWidth), height: 260 });
    const chart = new uPlot(
      {
        ...size(),
        series: [
          {},
          { label: 'Protected', stroke: '#1f5f8b', width: 2, points: { show: true, size: 6 }, value: (_u, v) => (v == null ? '—' : bytes(v)) },
          { label: 'Stored by the point', stroke: '#b35c00', width: 2, points: { show: true, size: 6 }, value: (_u, v) => (v == null ? '—' : bytes(v)) },
        ],
        axes: [{}, { values: (_u, ticks) => ticks.map((t) => bytes(t)), size: 80 }],
      },
      data,
      el,
    );
    const observer = new ResizeObserver(() => chart.setSize(size()));
    observer.observe(el);
    return () => {
      observer.disconnect();
      chart.destroy();
    };
  }, [points]);
  return <div ref={host} className="chart-host" role="img" aria-label={`Chart of ${points.length} recovery points: protected and stored bytes over time`} />;
}
