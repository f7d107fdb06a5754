// Requests: the paged, filterable request log, with live rows from /api/events.
import { h, replace, message, table, field, id as uid } from '../dom.js';
import * as fmt from '../format.js';
import { api, errorText, enc } from '../api.js';
import * as live from '../live.js';
import { pageHead } from '../components.js';
import { hashFor, setQuery } from '../router.js';

export const title = () => 'Requests';

const PAGE = 50;
const RANGES = [
  ['', 'Any time'],
  ['15m', 'Last 15 min'],
  ['1h', 'Last hour'],
  ['24h', 'Last 24 h'],
  ['7d', 'Last 7 days'],
  ['custom', 'Custom…'],
];
const RANGE_MS = { '15m': 15 * 60e3, '1h': 3600e3, '24h': 24 * 3600e3, '7d': 7 * 24 * 3600e3 };
const TEXT_FILTERS = ['endpoint', 'model', 'status', 'class', 'key', 'session'];
const CLASSES = ['overloaded', 'rate_limited', 'upstream_timeout', 'connection_reset', 'auth_failed', 'billing',
  'client_error', 'client_cancelled', 'mid_stream_failure', 'no_endpoint', 'all_endpoints_failed', 'api_error'];

/** The last list URL (filters included), for the detail page's way back. */
export let lastListHash = '#/requests';

function toLocalInput(ms) {
  if (!ms) return '';
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function fromLocalInput(v) {
  if (!v) return '';
  const t = new Date(v).getTime();
  return Number.isFinite(t) ? String(t) : '';
}

/** Filters from the route's query -> {api query, matcher for live rows}. */
function filtersFrom(query) {
  const f = {};
  for (const k of TEXT_FILTERS) {
    const v = (query.get(k) || '').trim();
    if (v) f[k] = v;
  }
  if (query.get('errors') === '1') f.errors = true;
  f.range = query.get('range') || '';
  if (f.range === 'custom') {
    f.since = query.get('since') || '';
    f.until = query.get('until') || '';
  }
  return f;
}

function timeBounds(f, now = Date.now()) {
  if (RANGE_MS[f.range]) return { since: now - RANGE_MS[f.range], until: null };
  if (f.range === 'custom') return { since: f.since ? Number(f.since) : null, until: f.until ? Number(f.until) : null };
  return { since: null, until: null };
}

function apiQuery(f, before) {
  const { since, until } = timeBounds(f);
  return {
    limit: PAGE, before,
    endpoint: f.endpoint, model: f.model, status: f.status, class: f.class, key: f.key, session: f.session,
    errors: f.errors ? 1 : undefined, since: since ?? undefined, until: until ?? undefined,
  };
}

/** Would the server have returned this row for these filters? (for live rows) */
export function matches(f, r) {
  if (f.endpoint && r.endpoint !== f.endpoint) return false;
  if (f.model && r.model_requested !== f.model && r.model_sent !== f.model) return false;
  if (f.status && String(r.status) !== String(f.status)) return false;
  if (f.class && r.error_class !== f.class) return false;
  if (f.key && r.client_key !== f.key) return false;
  if (f.session && r.session_key !== f.session) return false;
  if (f.errors && !r.error_class) return false;
  const { since, until } = timeBounds(f);
  if (since !== null && r.ts < since) return false;
  if (until !== null && r.ts >= until) return false;
  return true;
}

export function statusBadge(r) {
  const kind = r.error_class ? 'bad' : r.status >= 400 ? 'warn' : 'ok';
  return h('span', { class: ['badge', `badge-${kind}`, 'status'] }, r.status ? String(r.status) : '—');
}

function shortId(s, n = 8) {
  if (!s) return fmt.DASH;
  return s.length > n + 1 ? h('span', { title: s }, `${s.slice(0, n)}…`) : s;
}

function modelCell(r) {
  if (!r.model_requested && !r.model_sent) return fmt.DASH;
  if (r.model_sent && r.model_sent !== r.model_requested) {
    return h('span', { title: `requested ${r.model_requested}, sent ${r.model_sent}` }, r.model_requested || '?', h('span', { class: 'muted' }, ` → ${r.model_sent}`));
  }
  return r.model_requested || r.model_sent;
}

const COLUMNS = [
  { label: 'Time', cell: (r) => h('a', { href: `#/requests/${enc(r.id)}`, class: 'row-link', title: fmt.dateTime(r.ts) }, fmt.when(r.ts)) },
  { label: 'Status', cell: (r) => h('span', { class: 'nowrap' }, statusBadge(r), r.error_class ? h('span', { class: 'muted' }, ` ${r.error_class}`) : null) },
  { label: 'Endpoint', class: 'col-endpoint', cell: (r) => r.endpoint || fmt.DASH },
  { label: 'Model', cell: modelCell },
  { label: 'Tries', class: 'num', cell: (r) => (r.attempts > 1 ? h('span', { class: 'badge badge-warn', title: r.tried || '' }, String(r.attempts)) : fmt.count(r.attempts)) },
  { label: 'TTFB', class: 'num', cell: (r) => fmt.ms(r.ttfb_ms) },
  { label: 'Total', class: 'num', cell: (r) => fmt.ms(r.total_ms) },
  { label: 'Tokens in / out', class: 'num', cell: (r) => h('span', { title: `cache write ${fmt.count(r.cache_creation_tokens)}, cache read ${fmt.count(r.cache_read_tokens)}` }, `${fmt.tokens(r.input_tokens)} / ${fmt.tokens(r.output_tokens)}`) },
  { label: 'Cost', class: 'num', cell: (r) => fmt.cost(r.cost_usd) },
  { label: 'Key', cell: (r) => r.client_key || fmt.DASH },
  { label: 'Session', cell: (r) => shortId(r.session_key) },
];

export async function render(root, route) {
  const query = route.query;
  lastListHash = hashFor('requests', null, query);
  const f = filtersFrom(query);
  const liveOn = query.get('live') !== '0';
  const disposers = [];

  // ---- filter form -----------------------------------------------------------------
  const endpointsList = h('datalist', { id: uid('endpoints') });
  const classList = h('datalist', { id: uid('classes') }, CLASSES.map((c) => h('option', { value: c })));
  const input = (name, attrs = {}) => h('input', { type: 'text', name, value: f[name] || '', autocomplete: 'off', spellcheck: 'false', ...attrs });
  const range = h('select', { name: 'range' }, RANGES.map(([v, l]) => h('option', { value: v, selected: v === f.range }, l)));
  const sinceIn = h('input', { type: 'datetime-local', name: 'since', value: toLocalInput(Number(f.since) || 0) });
  const untilIn = h('input', { type: 'datetime-local', name: 'until', value: toLocalInput(Number(f.until) || 0) });
  const sinceField = field('From', sinceIn);
  const untilField = field('Until', untilIn);
  const syncCustom = () => {
    const custom = range.value === 'custom';
    sinceField.hidden = !custom;
    untilField.hidden = !custom;
  };
  range.addEventListener('change', syncCustom);
  syncCustom();
  const errorsBox = h('input', { type: 'checkbox', name: 'errors', checked: !!f.errors });
  const form = h('form', { class: 'filters', 'aria-label': 'Filters' },
    field('Time range', range), sinceField, untilField,
    field('Endpoint', input('endpoint', { list: endpointsList.id })),
    field('Model', input('model')),
    field('Status', input('status', { inputmode: 'numeric', placeholder: 'e.g. 529' })),
    field('Error class', input('class', { list: classList.id })),
    field('Client key', input('key')),
    field('Session', input('session')),
    field('Errors only', errorsBox),
    h('div', { class: 'filter-actions' },
      h('button', { type: 'submit', class: 'btn primary' }, 'Apply'),
      h('button', { type: 'button', class: 'btn', onclick: () => { location.hash = '#/requests'; } }, 'Reset')),
    endpointsList, classList);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    const data = new FormData(form);
    for (const k of TEXT_FILTERS) {
      const v = String(data.get(k) || '').trim();
      if (v) q.set(k, v);
    }
    if (errorsBox.checked) q.set('errors', '1');
    if (range.value) q.set('range', range.value);
    if (range.value === 'custom') {
      const s = fromLocalInput(sinceIn.value);
      const u = fromLocalInput(untilIn.value);
      if (s) q.set('since', s);
      if (u) q.set('until', u);
    }
    if (!liveToggle.checked) q.set('live', '0');
    const hash = hashFor('requests', null, q);
    if (hash === location.hash) load(true);
    else location.hash = hash;
  });

  // ---- table -----------------------------------------------------------------------
  const seen = new Set();
  const tbl = table(COLUMNS, [], {
    caption: 'Requests, newest first',
    empty: 'No requests match these filters.',
    rowAttrs: (r) => ({ 'data-id': r.id, 'data-endpoint': r.endpoint || '', 'data-attempts': r.attempts, class: 'clickable' }),
  });
  tbl.tbody.addEventListener('click', (ev) => {
    if (ev.target.closest('a, button')) return;
    const tr = ev.target.closest('tr[data-id]');
    if (tr && !window.getSelection()?.toString()) location.hash = `#/requests/${enc(tr.dataset.id)}`;
  });
  const msg = h('div');
  const summary = h('p', { class: 'muted summary', 'aria-live': 'polite' });
  const more = h('button', { type: 'button', class: 'btn', hidden: true }, 'Load more');
  let nextBefore = null;
  let loadSeq = 0;
  let liveAdded = 0;

  const updateSummary = () => {
    const n = tbl.tbody.children.length;
    summary.textContent = `${fmt.count(n)} request${n === 1 ? '' : 's'} shown${liveAdded ? ` (${fmt.count(liveAdded)} live)` : ''}${nextBefore !== null ? ' · more below' : ''}`;
  };

  async function load(reset) {
    const seq = ++loadSeq;
    more.disabled = true;
    try {
      const res = await api('/api/requests', { query: apiQuery(f, reset ? undefined : nextBefore) });
      if (seq !== loadSeq) return;
      if (reset) {
        tbl.tbody.replaceChildren();
        seen.clear();
        liveAdded = 0;
      }
      for (const r of res.requests || []) {
        if (seen.has(r.id)) continue;
        seen.add(r.id);
        tbl.add(r);
      }
      nextBefore = res.next_before ?? null;
      more.hidden = nextBefore === null;
      replace(msg);
    } catch (e) {
      if (seq !== loadSeq) return;
      replace(msg, message('error', `Could not load requests: ${errorText(e)}`));
    } finally {
      more.disabled = false;
      tbl.syncEmpty();
      updateSummary();
    }
  }
  more.addEventListener('click', () => load(false));

  // ---- live rows ---------------------------------------------------------------------
  const liveToggle = h('input', { type: 'checkbox', id: 'live-toggle', checked: liveOn, role: 'switch' });
  liveToggle.addEventListener('change', () => {
    const q = new URLSearchParams(query);
    if (liveToggle.checked) q.delete('live');
    else q.set('live', '0');
    setQuery(q);
    lastListHash = hashFor('requests', null, q);
  });
  const liveLabel = h('label', { class: 'switch', for: 'live-toggle' }, liveToggle, h('span', null, 'Live'));
  disposers.push(live.on('request', (r) => {
    if (!liveToggle.checked || seen.has(r.id) || !matches(f, r)) return;
    seen.add(r.id);
    liveAdded += 1;
    const tr = tbl.add(r, 'start');
    tr.classList.add('row-new');
    // Keep the page bounded when it runs live for hours.
    while (tbl.tbody.children.length > 1000) {
      const last = tbl.tbody.lastElementChild;
      seen.delete(Number(last.dataset.id));
      last.remove();
    }
    updateSummary();
  }));
  disposers.push(live.on('reconnect', () => {
    if (liveToggle.checked) load(true);
  }));

  const active = Object.keys(f).filter((k) => k !== 'range' && k !== 'since' && k !== 'until').length + (f.range ? 1 : 0);
  const filtersBox = h('details', { class: 'filters-box', open: active > 0 || !window.matchMedia('(max-width: 760px)').matches },
    h('summary', null, active ? `Filters (${active} active)` : 'Filters'), form);
  replace(root, pageHead('Requests', liveLabel), filtersBox, msg, summary, tbl, h('div', { class: 'more' }, more));

  api('/api/endpoints').then((res) => {
    replace(endpointsList, (res.endpoints || []).map((e) => h('option', { value: e.name })));
  }).catch(() => {});

  await load(true);
  return () => disposers.forEach((d) => d());
}
