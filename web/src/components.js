// Pieces shared by several pages: endpoint state cards, the health-check runner, segmented
// selectors, and a throttle for "re-fetch when events arrive".
import { h, replace, badge, dl, message, id as uid } from './dom.js';
import * as fmt from './format.js';
import { api, errorText, enc } from './api.js';

const BREAKER = {
  closed: ['Breaker closed', 'ok'],
  half_open: ['Breaker half-open', 'warn'],
  open: ['Breaker open', 'bad'],
};

/** A span that counts down from msLeft (measured at fetchedAt, performance.now()) once a second. */
function countdownSpan(msLeft, fetchedAt) {
  const span = h('span', { class: 'countdown' }, fmt.countdown(msLeft));
  span.countdown = { msLeft, fetchedAt };
  return span;
}

/**
 * Updates every countdown under root; returns true when one of them reached zero since the
 * last call (the state it announces is over: time to re-fetch).
 */
export function tickCountdowns(root, now = performance.now()) {
  let expired = false;
  for (const el of root.querySelectorAll('.countdown')) {
    const c = el.countdown;
    if (!c) continue;
    const left = c.msLeft - (now - c.fetchedAt);
    el.textContent = fmt.countdown(Math.max(0, left));
    if (left <= 0 && !c.expired) {
      c.expired = true;
      expired = true;
    }
  }
  return expired;
}

export function dash(v, f = (x) => x) {
  return fmt.missing(v) || v === '' ? fmt.DASH : f(v);
}

/** Badges and state lines of one live endpoint row (GET /api/status). */
export function stateLines(s, fetchedAt) {
  const line = (kind, attrs, ...text) => h('span', { class: ['state', `state-${kind}`], ...attrs },
    h('span', { class: 'dot', 'aria-hidden': 'true' }), h('span', { class: 'state-text' }, text));
  const lines = [];
  const [label, kind] = BREAKER[s.breaker] || [`Breaker ${s.breaker || 'unknown'}`, 'warn'];
  lines.push(line(kind, { 'data-breaker': s.breaker || '' }, label,
    s.breaker === 'open' && !fmt.missing(s.breaker_open_ms_left) ? [' · closes in ', countdownSpan(s.breaker_open_ms_left, fetchedAt)] : null));
  if (s.cooldown_ms > 0) {
    lines.push(line('warn', null, 'Cooling down · ', countdownSpan(s.cooldown_ms, fetchedAt), ' left', s.cooldown_reason ? ` (${s.cooldown_reason})` : ''));
  }
  if (s.quarantined) {
    lines.push(line('bad', null, 'Quarantined', s.quarantine_reason ? ` (${s.quarantine_reason})` : ''));
  }
  if (s.enabled === false) lines.push(line('off', null, 'Disabled'));
  return lines;
}

function scoreBadge(score) {
  if (fmt.missing(score)) return fmt.DASH;
  const kind = score >= 80 ? 'ok' : score >= 50 ? 'warn' : 'bad';
  return badge(`${fmt.num(score, 0)} / 100`, kind);
}

export function weightText(s) {
  const parts = [dash(s.weight, fmt.count)];
  const extra = [];
  if (!fmt.missing(s.effective_weight) && s.effective_weight !== s.weight) extra.push(`effective ${fmt.num(s.effective_weight, 1)}`);
  if (!fmt.missing(s.adaptive_weight)) extra.push(`adaptive ${fmt.num(s.adaptive_weight, 1)}`);
  if (extra.length) parts.push(` (${extra.join(', ')})`);
  return parts.join('');
}

/** One card per endpoint of GET /api/status. */
export function endpointCard(s, fetchedAt, { link = true, headingLevel = 'h3', title } = {}) {
  const name = title || (link ? h('a', { href: `#/endpoints/${enc(s.name)}` }, s.name) : s.name);
  const badges = h('div', { class: 'badges' },
    badge(`tier ${dash(s.tier)}`),
    s.cuts_streams ? badge('cuts streams', 'warn') : null,
    s.enabled !== false && s.usable === false ? badge('unavailable', 'bad') : null);
  const total = (s.successes || 0) + (s.failures || 0);
  const successTitle = total ? `${fmt.count(s.successes)} succeeded, ${fmt.count(s.failures)} failed` : 'no attempts yet';
  const lastError = s.last_error
    ? h('span', { class: 'last-error' }, s.last_error, s.last_error_at ? h('span', { class: 'muted' }, ` · ${fmt.ago(s.last_error_at)}`) : null)
    : fmt.DASH;
  const health = fmt.missing(s.health_score) ? fmt.DASH : h('span', null, scoreBadge(s.health_score),
    s.health_checked_at ? h('span', { class: 'muted' }, ` · checked ${fmt.ago(s.health_checked_at)}`) : null);
  return h('article', { class: 'card endpoint-card', 'data-endpoint': s.name },
    h('header', { class: 'card-head' }, h(headingLevel, { class: 'card-title' }, name), badges),
    h('div', { class: 'states' }, stateLines(s, fetchedAt)),
    dl([
      ['Kind', dash(s.kind)],
      ['Weight', weightText(s)],
      ['In flight', dash(s.in_flight, fmt.count)],
      ['Success', h('span', { title: successTitle }, dash(s.success_ratio, fmt.pct), total ? h('span', { class: 'muted' }, ` of ${fmt.count(total)}`) : null)],
      ['EWMA TTFB', s.ewma_ttfb_ms > 0 ? fmt.ms(s.ewma_ttfb_ms) : fmt.DASH],
      ['Health', health],
      ['Last error', lastError],
    ], 'kv-compact'));
}

/** A segmented control made of radio buttons (keyboard: arrows move between options). */
export function segmented(legend, options, value, onChange, name = uid('seg')) {
  const fs = h('fieldset', { class: 'segmented' }, h('legend', { class: 'sr-only' }, legend));
  for (const [v, label] of options) {
    const input = h('input', { type: 'radio', name, value: v, id: `${name}-${v}`, checked: v === value });
    input.addEventListener('change', () => {
      if (input.checked) onChange(v);
    });
    fs.append(input, h('label', { for: input.id }, label));
  }
  return fs;
}

/**
 * Runs the health check of one endpoint (POST /api/health/check, up to ~30 s) and shows the
 * progress and result in `out`. Resolves with the check (or null on error).
 */
export async function runHealthCheck(name, out, button) {
  const started = performance.now();
  const progress = h('p', { class: 'check-progress', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', null, `Checking ${name}… 0 s`));
  replace(out, progress);
  const timer = setInterval(() => {
    progress.lastChild.textContent = `Checking ${name}… ${Math.floor((performance.now() - started) / 1000)} s`;
  }, 1000);
  if (button) button.disabled = true;
  try {
    const res = await api('/api/health/check', { method: 'POST', query: { endpoint: name } });
    const c = (res.checks || []).find((x) => x.endpoint === name) || (res.checks || [])[0];
    if (!c) {
      replace(out, message('error', 'The server ran no check.'));
      return null;
    }
    replace(out, checkResult(c));
    return c;
  } catch (e) {
    replace(out, message('error', `Health check failed to run: ${errorText(e)}`));
    return null;
  } finally {
    clearInterval(timer);
    if (button) button.disabled = false;
  }
}

export function checkResult(c) {
  const pass = c.result === 'pass';
  return h('div', { class: ['check-result', pass ? 'check-pass' : 'check-fail'], role: 'status' },
    h('strong', null, pass ? 'Passed' : `Result: ${c.result || 'fail'}`),
    ' · score ', h('span', { class: 'check-score' }, dash(c.score, (x) => fmt.num(x, 0))),
    ' · ', dash(c.latency_ms, fmt.ms),
    c.method ? ` · ${c.method}` : '',
    c.model ? ` · ${c.model}` : '',
    c.error ? h('div', { class: 'check-error' }, c.error) : null);
}

/**
 * Calls fn at most once per `minGapMs`, `delayMs` after the first trigger of a burst. No timer runs
 * when nothing triggers it.
 */
export function throttle(fn, { delayMs = 1000, minGapMs = 4000 } = {}) {
  let timer = null;
  let last = 0;
  let stopped = false;
  const t = () => {
    if (timer || stopped) return;
    const wait = Math.max(delayMs, minGapMs - (performance.now() - last));
    timer = setTimeout(async () => {
      timer = null;
      last = performance.now();
      if (!stopped) await fn();
    }, wait);
  };
  t.cancel = () => {
    stopped = true;
    clearTimeout(timer);
  };
  return t;
}

/** Page header: h1 + optional actions on the right. */
export function pageHead(title, ...actions) {
  return h('div', { class: 'page-head' }, h('h1', null, title), actions.length ? h('div', { class: 'page-actions' }, actions) : null);
}
