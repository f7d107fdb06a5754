// uPlot time-series charts that follow the page's theme and width.
import uPlot from 'uplot';
import { h } from './dom.js';

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function themeColors() {
  return {
    text: cssVar('--muted') || '#666',
    grid: cssVar('--chart-grid') || 'rgba(128,128,128,.2)',
    c1: cssVar('--chart-1') || '#d97757',
    c2: cssVar('--chart-2') || '#c0392b',
    c3: cssVar('--chart-3') || '#2e86de',
    c4: cssVar('--chart-4') || '#27ae60',
  };
}

function withAlpha(color, alpha) {
  // "#rrggbb" -> rgba()
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  if (!m) return color;
  return `rgba(${parseInt(m[1], 16)},${parseInt(m[2], 16)},${parseInt(m[3], 16)},${alpha})`;
}

/**
 * chart(container, {series: [{label, color: 'c1', bars, fill, value: fmtFn}], yFormat, height})
 * returns {setData(data), destroy()}. data = [xs (unix seconds), ys1, ys2, …].
 */
export function chart(container, spec) {
  const box = h('div', { class: 'chart-box' });
  container.append(box);
  let u = null;
  let data = null;
  let xPad = 0; // half a bucket on each side, so that the edge bars are whole
  const media = window.matchMedia('(prefers-color-scheme: dark)');

  const build = () => {
    const col = themeColors();
    const width = Math.max(240, Math.floor(box.clientWidth || container.clientWidth || 600));
    const bars = uPlot.paths.bars({ size: [0.7, 40], gap: 1 });
    const axis = {
      stroke: col.text,
      grid: { stroke: col.grid, width: 1 },
      ticks: { stroke: col.grid, width: 1 },
      font: '12px system-ui, sans-serif',
    };
    const opts = {
      width,
      height: spec.height || 200,
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      legend: { live: true },
      scales: { x: { time: true, range: (self, min, max) => (min == null || max == null ? [min, max] : [min - xPad, max + xPad]) }, y: { range: (self, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      series: [
        { label: 'Time', value: (self, v) => (v == null ? '—' : new Date(v * 1000).toLocaleString()) },
        ...spec.series.map((s) => ({
          label: s.label,
          stroke: col[s.color],
          width: s.bars ? 0 : 2,
          fill: s.bars ? col[s.color] : s.fill ? withAlpha(col[s.color], 0.12) : undefined,
          paths: s.bars ? bars : undefined,
          points: { show: !s.bars, size: 4 },
          spanGaps: !!s.spanGaps,
          value: (self, v) => (v == null ? '—' : s.value ? s.value(v) : String(v)),
        })),
      ],
      axes: [
        axis,
        { ...axis, size: 64, values: (self, ticks) => ticks.map((v) => (spec.yFormat ? spec.yFormat(v) : String(v))) },
      ],
    };
    if (u) u.destroy();
    u = new uPlot(opts, data || [[], ...spec.series.map(() => [])], box);
  };

  build();
  let lastWidth = box.clientWidth;
  const ro = new ResizeObserver(() => {
    const w = Math.floor(box.clientWidth);
    if (u && w > 0 && w !== lastWidth) {
      lastWidth = w;
      u.setSize({ width: Math.max(240, w), height: spec.height || 200 });
    }
  });
  ro.observe(box);
  const onTheme = () => build();
  media.addEventListener('change', onTheme);

  return {
    setData(d) {
      data = d;
      xPad = d[0] && d[0].length > 1 ? (d[0][1] - d[0][0]) / 2 : 30;
      if (u) u.setData(d);
    },
    destroy() {
      ro.disconnect();
      media.removeEventListener('change', onTheme);
      if (u) u.destroy();
      u = null;
    },
  };
}
