// Overview: totals over a window, time-series charts, one card per endpoint; updated live.
import { h, replace, message } from '../dom.js';
import * as fmt from '../format.js';
import { api, errorText } from '../api.js';
import * as live from '../live.js';
import { chart } from '../charts.js';
import { endpointCard, tickCountdowns, segmented, throttle, pageHead } from '../components.js';
import { parseHash, setQuery } from '../router.js';

export const title = () => 'Overview';

const WINDOWS = {
  '15m': { label: '15 min', ms: 15 * 60e3, bucket: '1m', bucketMs: 60e3 },
  '1h': { label: '1 h', ms: 60 * 60e3, bucket: '1m', bucketMs: 60e3 },
  '24h': { label: '24 h', ms: 24 * 3600e3, bucket: '1h', bucketMs: 3600e3 },
  '7d': { label: '7 d', ms: 7 * 24 * 3600e3, bucket: '1h', bucketMs: 3600e3 },
};

function stat(idName, label, big, sub = '') {
  return h('div', { class: 'stat', id: `stat-${idName}` },
    h('h2', { class: 'stat-label' }, label),
    h('p', { class: 'stat-value' }, big),
    h('p', { class: 'stat-sub' }, sub));
}

export async function render(root, route) {
  let win = WINDOWS[route.query.get('window')] ? route.query.get('window') : '1h';
  const disposers = [];
  const statsBox = h('section', { class: 'stats', 'aria-label': 'Totals for the window' });
  const statsMsg = h('div');
  const liveLine = h('p', { class: 'live-line', id: 'live-counter', 'aria-live': 'off' });
  const chartsBox = h('section', { class: 'charts', 'aria-label': 'Charts' });
  const trafficBox = h('figure', { class: 'card chart-card' }, h('figcaption', null, 'Requests'));
  const latencyBox = h('figure', { class: 'card chart-card' }, h('figcaption', null, 'Latency'));
  chartsBox.append(trafficBox, latencyBox);
  const endpointsMsg = h('div');
  const cards = h('div', { class: 'cards' });
  const selector = segmented('Time window', Object.entries(WINDOWS).map(([k, w]) => [k, w.label]), win, (v) => {
    win = v;
    const q = parseHash().query;
    q.set('window', v);
    setQuery(q);
    totals = null;
    loadStats();
  }, 'window');

  replace(root,
    pageHead('Overview', selector),
    statsMsg, statsBox, liveLine, chartsBox,
    h('section', { class: 'section', 'aria-labelledby': 'ov-endpoints' },
      h('div', { class: 'section-head' }, h('h2', { id: 'ov-endpoints' }, 'Endpoints'), h('a', { href: '#/endpoints', class: 'btn btn-quiet' }, 'Manage endpoints')),
      endpointsMsg, cards));

  const traffic = chart(trafficBox, {
    series: [
      { label: 'Requests', color: 'c3', bars: true, value: fmt.count },
      { label: 'Failed', color: 'c2', bars: true, value: fmt.count },
    ],
    yFormat: (v) => (Number.isInteger(v) ? fmt.count(v) : ''),
  });
  const latency = chart(latencyBox, {
    series: [
      { label: 'Latency p50', color: 'c3', value: fmt.ms, spanGaps: true },
      { label: 'Latency p95', color: 'c1', value: fmt.ms, spanGaps: true },
      { label: 'TTFB p50', color: 'c4', value: fmt.ms, spanGaps: true },
    ],
    yFormat: fmt.ms,
  });
  disposers.push(() => traffic.destroy(), () => latency.destroy());

  // ---- totals and charts -------------------------------------------------------------
  let totals = null; // the window's totals, bumped by live events between fetches
  let windowFrom = 0;
  let series = null; // {xs, counts, failed, ...}
  let seenSinceOpen = 0;
  const arrivals = []; // performance.now() of request events of the last minute
  let statsSeq = 0;

  function renderStats() {
    const w = WINDOWS[win];
    const t = totals || {};
    const n = t.count || 0;
    const failed = n - (t.successes || 0);
    const windowS = w.ms / 1000;
    replace(statsBox,
      stat('requests', 'Requests', fmt.count(n), `in the last ${w.label}`),
      stat('rate', 'Request rate', fmt.rate(n / windowS), `average over ${w.label}`),
      stat('success', 'Success', n ? fmt.pct(t.success_ratio ?? (t.successes || 0) / n) : fmt.DASH, n ? `${fmt.count(failed)} failed` : 'no requests'),
      stat('latency', 'Latency p50', fmt.ms(t.latency_p50_ms), `p95 ${fmt.ms(t.latency_p95_ms)}`),
      stat('ttfb', 'TTFB p50', fmt.ms(t.ttfb_p50_ms), `p95 ${fmt.ms(t.ttfb_p95_ms)}`),
      stat('tokens', 'Tokens in / out', `${fmt.tokens(t.input_tokens || 0)} / ${fmt.tokens(t.output_tokens || 0)}`,
        `cache write ${fmt.tokens(t.cache_creation_tokens || 0)} · read ${fmt.tokens(t.cache_read_tokens || 0)}`),
      stat('cost', 'Cost', fmt.cost(t.cost_usd || 0), `in the last ${w.label}`),
      stat('failovers', 'Failovers', fmt.count(t.failovers || 0), 'requests served after a retry elsewhere'));
    renderLiveLine();
  }

  function renderLiveLine() {
    const now = performance.now();
    while (arrivals.length && now - arrivals[0] > 60e3) arrivals.shift();
    liveLine.textContent = live.currentStatus() === 'live'
      ? `Live: ${fmt.count(seenSinceOpen)} request${seenSinceOpen === 1 ? '' : 's'} since this page opened · ${fmt.count(arrivals.length)} in the last minute`
      : `Live updates paused (${live.currentStatus() === 'retry' ? 'reconnecting' : 'not connected'}); figures are as of the last load.`;
  }

  function buildSeries(rows, from, to, bucketMs) {
    const start = Math.floor(from / bucketMs) * bucketMs;
    const xs = [];
    for (let t = start; t < to; t += bucketMs) xs.push(t);
    const idx = new Map(xs.map((t, i) => [t, i]));
    const s = {
      bucketMs, xs, counts: xs.map(() => 0), failed: xs.map(() => 0),
      p50: xs.map(() => null), p95: xs.map(() => null), ttfb: xs.map(() => null),
    };
    for (const r of rows) {
      const i = idx.get(r.bucket_unix_ms);
      if (i === undefined) continue;
      s.counts[i] += r.count || 0;
      s.failed[i] += (r.count || 0) - (r.successes || 0);
      if (r.count) {
        s.p50[i] = r.latency_p50_ms;
        s.p95[i] = r.latency_p95_ms;
        s.ttfb[i] = r.ttfb_p50_ms >= 0 ? r.ttfb_p50_ms : null;
      }
    }
    return s;
  }

  function pushCharts() {
    if (!series) return;
    const xs = series.xs.map((t) => t / 1000);
    traffic.setData([xs, series.counts, series.failed]);
    latency.setData([xs, series.p50, series.p95, series.ttfb]);
  }

  async function loadStats() {
    const seq = ++statsSeq;
    const w = WINDOWS[win];
    try {
      const [t, b] = await Promise.all([
        api('/api/stats', { query: { window: win } }),
        api('/api/stats', { query: { window: win, bucket: w.bucket } }),
      ]);
      if (seq !== statsSeq) return;
      totals = t.totals || {};
      windowFrom = t.from;
      series = buildSeries(b.rows || [], b.from, b.to, b.bucket_ms || w.bucketMs);
      replace(statsMsg);
      renderStats();
      pushCharts();
    } catch (e) {
      if (seq !== statsSeq) return;
      replace(statsMsg, message('error', `Could not load statistics: ${errorText(e)}`));
      if (!totals) renderStats();
    }
  }

  // ---- endpoint cards ----------------------------------------------------------------
  let statusSeq = 0;
  async function loadStatus() {
    const seq = ++statusSeq;
    try {
      const st = await api('/api/status');
      if (seq !== statusSeq) return;
      // Servers without health_score in the status rows: take it from the latest stored checks.
      if ((st.endpoints || []).some((e) => fmt.missing(e.health_score))) {
        const latest = new Map();
        try {
          const res = await api('/api/health/checks', { query: { limit: 200 } });
          for (const c of res.checks || []) if (!latest.has(c.endpoint)) latest.set(c.endpoint, c);
        } catch {
          // health is shown as — then
        }
        if (seq !== statusSeq) return;
        st.endpoints = st.endpoints.map((e) => {
          const c = latest.get(e.name);
          return fmt.missing(e.health_score) && c ? { ...e, health_score: c.score, health_checked_at: c.ts } : e;
        });
      }
      const fetchedAt = performance.now();
      replace(endpointsMsg);
      const eps = st.endpoints || [];
      replace(cards, eps.length ? eps.map((e) => endpointCard(e, fetchedAt)) : h('p', { class: 'empty' }, 'No endpoints yet. ', h('a', { href: '#/endpoints' }, 'Add one.')));
    } catch (e) {
      if (seq !== statusSeq) return;
      replace(endpointsMsg, message('error', `Could not load endpoint states: ${errorText(e)}`));
    }
  }

  const refreshStats = throttle(loadStats, { delayMs: 1500, minGapMs: 5000 });
  const refreshStatus = throttle(loadStatus, { delayMs: 300, minGapMs: 1000 });
  const refreshStatusSlow = throttle(loadStatus, { delayMs: 2000, minGapMs: 5000 });
  disposers.push(refreshStats.cancel, refreshStatus.cancel, refreshStatusSlow.cancel);

  function onRequest(r) {
    seenSinceOpen += 1;
    arrivals.push(performance.now());
    const w = WINDOWS[win];
    if (totals && (r.ts ?? Date.now()) >= (windowFrom || Date.now() - w.ms)) {
      // Count it now (the next fetch brings the exact percentiles).
      totals.count = (totals.count || 0) + 1;
      if (!r.error_class) totals.successes = (totals.successes || 0) + 1;
      totals.success_ratio = totals.successes / totals.count;
      if (r.attempts > 1) totals.failovers = (totals.failovers || 0) + 1;
      for (const k of ['input_tokens', 'output_tokens', 'cache_creation_tokens', 'cache_read_tokens', 'cost_usd']) {
        totals[k] = (totals[k] || 0) + (r[k] || 0);
      }
      if (series && series.xs.length) {
        const b = Math.floor((r.ts ?? Date.now()) / series.bucketMs) * series.bucketMs;
        let i = series.xs.indexOf(b);
        if (i < 0 && b > series.xs[series.xs.length - 1]) {
          for (const k of ['xs', 'counts', 'failed', 'p50', 'p95', 'ttfb']) series[k].shift();
          series.xs.push(b);
          series.counts.push(0);
          series.failed.push(0);
          series.p50.push(null);
          series.p95.push(null);
          series.ttfb.push(null);
          i = series.xs.length - 1;
        }
        if (i >= 0) {
          series.counts[i] += 1;
          if (r.error_class) series.failed[i] += 1;
          pushCharts();
        }
      }
      renderStats();
    } else {
      renderLiveLine();
    }
    refreshStats();
    refreshStatusSlow();
  }

  disposers.push(
    live.on('request', onRequest),
    live.on('state', () => refreshStatus()),
    live.on('check', () => refreshStatus()),
    live.on('status', () => renderLiveLine()),
    live.on('reconnect', () => {
      loadStats();
      loadStatus();
    }),
  );

  // Countdowns tick locally; when one runs out, the state it describes changed: re-fetch.
  const tick = setInterval(() => {
    if (tickCountdowns(cards)) refreshStatus();
    renderLiveLine();
  }, 1000);
  disposers.push(() => clearInterval(tick));

  renderStats();
  await Promise.all([loadStats(), loadStatus()]);
  return () => disposers.forEach((d) => d());
}
