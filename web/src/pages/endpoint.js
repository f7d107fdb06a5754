// One endpoint: live state, configuration, 24 h traffic, actions and a timeline of state
// changes and health checks.
import { h, replace, message, dl, badge, field } from '../dom.js';
import * as fmt from '../format.js';
import { api, errorText, enc } from '../api.js';
import * as live from '../live.js';
import { endpointCard, runHealthCheck, throttle, tickCountdowns } from '../components.js';
import { openEndpointForm } from '../endpoint-form.js';
import { setEnabled, deleteEndpoint, release } from './endpoints.js';

export const title = (r) => r.param;

const EVENT_TEXT = {
  breaker_open: ['Breaker opened', 'bad'],
  breaker_half_open: ['Breaker half-open', 'warn'],
  breaker_closed: ['Breaker closed', 'ok'],
  cooldown_start: ['Cooldown started', 'warn'],
  cooldown_end: ['Cooldown ended', 'ok'],
  quarantine: ['Quarantined', 'bad'],
  release: ['Released', 'ok'],
  repin: ['Session re-pinned', ''],
};

function timeline(events, checks) {
  const items = [
    ...events.map((e) => ({ ts: e.ts, kind: 'event', e })),
    ...checks.map((c) => ({ ts: c.ts, kind: 'check', c })),
  ].sort((a, b) => b.ts - a.ts);
  if (!items.length) return h('p', { class: 'empty' }, 'No state changes or health checks recorded yet.');
  return h('ol', { class: 'timeline' }, items.map((it) => {
    let body;
    if (it.kind === 'event') {
      const [label, kind] = EVENT_TEXT[it.e.kind] || [it.e.kind, ''];
      body = [badge(label, kind), it.e.detail ? h('span', null, ` ${it.e.detail}`) : null];
    } else {
      const c = it.c;
      const pass = c.result === 'pass';
      body = [badge(`Check ${pass ? 'passed' : c.result || 'failed'}`, pass ? 'ok' : 'bad'),
        h('span', null, ` score ${fmt.missing(c.score) ? fmt.DASH : fmt.num(c.score, 0)} · ${fmt.ms(c.latency_ms)}${c.method ? ` · ${c.method}` : ''}`),
        c.error ? h('span', { class: 'check-error' }, ` ${c.error}`) : null];
    }
    return h('li', { class: 'tl-item' }, h('time', { datetime: new Date(it.ts).toISOString(), title: fmt.dateTime(it.ts) }, fmt.when(it.ts)), h('div', null, body));
  }));
}

function timeoutText(v) {
  return v === null || v === undefined ? 'default' : fmt.ms(v);
}

export async function render(root, route) {
  const name = route.param;
  const disposers = [];
  const back = h('a', { href: '#/endpoints', class: 'back' }, '← Endpoints');
  const msg = h('div');
  const head = h('div', { class: 'page-head' }, h('h1', null, name));
  const actionsBox = h('div', { class: 'page-actions' });
  head.append(actionsBox);
  const stateBox = h('div');
  const checkOut = h('div', { class: 'check-out', 'aria-live': 'polite' });
  const configBox = h('section', { class: 'card', 'aria-labelledby': 'ep-config' });
  const trafficBox = h('section', { class: 'card', 'aria-labelledby': 'ep-traffic' });
  const quarantineBox = h('section', { class: 'card', 'aria-labelledby': 'ep-quarantine' });
  const timelineBox = h('div');
  replace(root, back, head, msg, checkOut,
    h('div', { class: 'detail-grid' }, h('div', { class: 'stack' }, stateBox, quarantineBox), configBox, trafficBox),
    h('section', { class: 'section card', 'aria-labelledby': 'ep-timeline' },
      h('h2', { id: 'ep-timeline' }, 'Timeline'), h('p', { class: 'hint' }, 'State changes and health checks, newest first.'), timelineBox));

  let ep = null;
  let seq = 0;
  let deleting = false; // no re-fetch once a delete is under way: the endpoint may be gone (404)
  async function load() {
    if (deleting) return;
    const s = ++seq;
    try {
      const [e, ev, ch] = await Promise.all([
        api(`/api/endpoints/${enc(name)}`),
        api('/api/events/history', { query: { endpoint: name, limit: 100 } }).catch(() => null),
        api('/api/health/checks', { query: { endpoint: name, limit: 100 } }).catch(() => null),
      ]);
      if (s !== seq) return;
      ep = e;
      replace(msg);
      draw(ev ? ev.events || [] : e.events || [], ch ? ch.checks || [] : e.checks || []);
    } catch (e) {
      if (s !== seq) return;
      replace(msg, message('error', e.status === 404 ? `There is no endpoint named ${name}.` : `Could not load ${name}: ${errorText(e)}`));
    }
  }

  async function loadTraffic() {
    try {
      const st = await api('/api/stats', { query: { window: '24h', by: 'endpoint' } });
      const row = (st.rows || []).find((r) => r.group === name);
      replace(trafficBox, h('h2', { id: 'ep-traffic' }, 'Last 24 hours'),
        row ? dl([
          ['Requests', fmt.count(row.count)],
          ['Success', fmt.pct(row.success_ratio)],
          ['Latency p50 / p95', `${fmt.ms(row.latency_p50_ms)} / ${fmt.ms(row.latency_p95_ms)}`],
          ['TTFB p50 / p95', `${fmt.ms(row.ttfb_p50_ms)} / ${fmt.ms(row.ttfb_p95_ms)}`],
          ['Tokens in / out', `${fmt.tokens(row.input_tokens)} / ${fmt.tokens(row.output_tokens)}`],
          ['Cost', fmt.cost(row.cost_usd)],
        ]) : h('p', { class: 'empty' }, 'No requests in the last 24 hours.'),
        h('p', { class: 'card-foot' }, h('a', { href: `#/requests?endpoint=${enc(name)}` }, 'See its requests →')));
    } catch (e) {
      replace(trafficBox, h('h2', { id: 'ep-traffic' }, 'Last 24 hours'), message('error', errorText(e)));
    }
  }

  function draw(events, checks) {
    let st = ep.state;
    // Older servers have no health_score in the status row: the last stored check says it.
    if (st && fmt.missing(st.health_score) && checks.length) {
      st = { ...st, health_score: checks[0].score, health_checked_at: checks[0].ts };
    }
    if (st && !st.kind) st = { ...st, kind: ep.kind };
    const fetchedAt = performance.now();
    replace(stateBox, st ? endpointCard(st, fetchedAt, { link: false, headingLevel: 'h2', title: 'Live state' })
      : h('section', { class: 'card' }, h('h2', null, 'Live state'), h('p', { class: 'empty' }, ep.enabled ? 'The running server has not loaded this endpoint.' : 'Disabled: not loaded by the running server.')));

    const edit = h('button', { type: 'button', class: 'btn' }, 'Edit');
    edit.addEventListener('click', async () => {
      if (await openEndpointForm(ep)) load();
      else edit.focus();
    });
    const toggle = h('button', { type: 'button', class: 'btn' }, ep.enabled ? 'Disable' : 'Enable');
    toggle.addEventListener('click', async () => {
      toggle.disabled = true;
      await setEnabled(ep, !ep.enabled);
      load();
    });
    const check = h('button', { type: 'button', class: 'btn' }, 'Run health check');
    check.addEventListener('click', async () => {
      await runHealthCheck(name, checkOut, check);
      load();
    });
    const del = h('button', { type: 'button', class: 'btn danger' }, 'Delete');
    del.addEventListener('click', async () => {
      deleting = true;
      if (await deleteEndpoint(ep)) {
        location.hash = '#/endpoints';
        return;
      }
      deleting = false;
      del.focus();
    });
    replace(actionsBox, edit, toggle, check, del);

    replace(configBox, h('h2', { id: 'ep-config' }, 'Configuration'), dl([
      ['Base URL', h('code', { class: 'url' }, ep.base_url)],
      ['Kind', ep.kind || fmt.DASH],
      ['Auth header', ep.auth || fmt.DASH],
      ['Tier', fmt.count(ep.tier)],
      ['Weight', fmt.count(ep.weight)],
      ['Enabled', ep.enabled ? 'yes' : 'no'],
      ['TLS verification', ep.tls_verify ? 'on' : h('span', { class: 'warn-text' }, 'off')],
      ['API key', h('code', null, ep.api_key || fmt.DASH)],
      ['Model map', Object.keys(ep.model_map || {}).length
        ? h('ul', { class: 'plain' }, Object.entries(ep.model_map).map(([k, v]) => h('li', null, h('code', null, k), ' → ', h('code', null, v))))
        : 'none'],
      ['Tags', (ep.tags || []).length ? ep.tags.map((t) => badge(t)) : fmt.DASH],
      ['Timeouts', [ep.connect_timeout_ms, ep.first_byte_timeout_ms, ep.idle_timeout_ms].every((v) => v === null || v === undefined)
        ? 'global defaults'
        : `connect ${timeoutText(ep.connect_timeout_ms)} · first byte ${timeoutText(ep.first_byte_timeout_ms)} · idle ${timeoutText(ep.idle_timeout_ms)}`],
      ['Created', fmt.dateTime(ep.created_at)],
      ['Updated', fmt.dateTime(ep.updated_at)],
    ]));

    const quarantined = !!(st && st.quarantined);
    const reason = h('input', { type: 'text', name: 'reason', placeholder: 'operator', autocomplete: 'off', maxlength: '200' });
    const qMsg = h('div');
    const qForm = h('form', { class: 'inline-form' },
      field('Reason (optional)', reason),
      h('button', { type: 'submit', class: 'btn danger' }, 'Quarantine'));
    qForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        const body = reason.value.trim() ? { reason: reason.value.trim() } : {};
        await api(`/api/endpoints/${enc(name)}/quarantine`, { method: 'POST', body });
        load();
      } catch (e) {
        replace(qMsg, message('error', errorText(e)));
      }
    });
    const rel = h('button', { type: 'button', class: 'btn' }, quarantined ? 'Release' : 'Reset breaker and cooldown');
    rel.addEventListener('click', async () => {
      rel.disabled = true;
      await release(name);
      load();
    });
    replace(quarantineBox, h('h2', { id: 'ep-quarantine' }, 'Quarantine'),
      quarantined
        ? h('p', null, 'Quarantined', st.quarantine_reason ? ` (${st.quarantine_reason})` : '', '. No request goes to it until it is released or a health check passes.')
        : h('p', { class: 'hint' }, 'Take the endpoint out of rotation until you release it (a passing health check also releases it).'),
      quarantined ? null : qForm,
      h('div', { class: 'actions-left' }, rel), qMsg);

    replace(timelineBox, timeline(events, checks));
  }

  const refresh = throttle(load, { delayMs: 300, minGapMs: 1500 });
  const onEvent = (e) => {
    if (!e || e.endpoint === name) refresh();
  };
  disposers.push(refresh.cancel, live.on('state', onEvent), live.on('check', onEvent), live.on('reconnect', () => { load(); loadTraffic(); }));
  const tick = setInterval(() => {
    if (tickCountdowns(stateBox)) refresh();
  }, 1000);
  disposers.push(() => clearInterval(tick));

  await Promise.all([load(), loadTraffic()]);
  return () => disposers.forEach((d) => d());
}
