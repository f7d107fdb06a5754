// One request: timings, tokens, cost, models, the attempts waterfall and captured payloads.
import { h, replace, message, dl, badge } from '../dom.js';
import * as fmt from '../format.js';
import { api, errorText, enc } from '../api.js';
import { lastListHash, statusBadge } from './requests.js';
import { attemptsOf } from '../attempts.js';

export const title = (r) => `Request ${r.param}`;

function waterfall(r) {
  const { exact, list } = attemptsOf(r);
  if (!list.length) return h('p', { class: 'empty' }, 'No attempt recorded (the request was refused before any endpoint was tried).');
  const known = list.every((a) => a.duration_ms >= 0);
  const sum = known ? list.reduce((s, a) => s + a.duration_ms, 0) : 0;
  const scale = Math.max(sum, r.total_ms > 0 ? r.total_ms : 0, 1);
  let offset = 0;
  const ol = h('ol', { class: 'waterfall', 'aria-label': 'Attempts' });
  list.forEach((a, i) => {
    const failed = !!a.error_class || (a.status >= 400);
    const bar = h('div', { class: ['wf-bar', failed ? 'wf-fail' : 'wf-ok'] });
    if (known) {
      bar.style.marginLeft = `${(offset / scale) * 100}%`;
      bar.style.width = `${Math.max(0.8, (a.duration_ms / scale) * 100)}%`;
      offset += a.duration_ms;
    } else {
      bar.style.marginLeft = `${(i / list.length) * 100}%`;
      bar.style.width = `${100 / list.length}%`;
      bar.classList.add('wf-unknown');
    }
    ol.append(h('li', { class: 'wf-row', 'data-endpoint': a.endpoint || '' },
      h('div', { class: 'wf-label' },
        h('span', { class: 'wf-n' }, `#${i + 1}`),
        a.endpoint ? h('a', { href: `#/endpoints/${enc(a.endpoint)}` }, a.endpoint) : fmt.DASH,
        a.status ? badge(String(a.status), failed ? 'bad' : 'ok') : null,
        a.error_class ? h('span', { class: 'wf-class' }, a.error_class) : (failed ? null : h('span', { class: 'muted' }, 'answered')),
        h('span', { class: 'wf-dur' }, known ? fmt.ms(a.duration_ms) : fmt.DASH)),
      h('div', { class: 'wf-track' }, bar)));
  });
  return h('div', null, ol, exact ? null : h('p', { class: 'hint' }, 'Per-attempt timings are not recorded by this server; the order and outcome come from the tried list.'));
}

function pretty(payload) {
  if (!payload) return null;
  const t = payload.trim();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return JSON.stringify(JSON.parse(t), null, 2);
    } catch {
      // not JSON (e.g. a cut capture): show as is
    }
  }
  return payload;
}

function payloadBlock(label, payload) {
  const text = pretty(payload);
  const headingId = `pl-${label.toLowerCase()}`;
  return h('section', { class: 'card payload', 'aria-labelledby': headingId },
    h('h3', { id: headingId }, label),
    text ? h('pre', { tabindex: '0' }, text) : h('p', { class: 'empty' }, 'not captured'),
    text ? null : h('p', { class: 'hint' }, 'Payload capture is off unless the setting log.payloads is on.'));
}

function timingBar(r) {
  if (!(r.total_ms > 0)) return null;
  const ttfb = r.ttfb_ms >= 0 ? Math.min(r.ttfb_ms, r.total_ms) : null;
  const wait = h('div', { class: 'tb-ttfb' });
  const body = h('div', { class: 'tb-body' });
  if (ttfb !== null) {
    wait.style.width = `${(ttfb / r.total_ms) * 100}%`;
    body.style.width = `${100 - (ttfb / r.total_ms) * 100}%`;
  } else {
    wait.style.width = '100%';
  }
  return h('div', { class: 'timing' },
    h('div', { class: 'timing-bar', 'aria-hidden': 'true' }, wait, body),
    h('p', { class: 'hint' }, ttfb !== null ? `First byte after ${fmt.ms(ttfb)}, complete after ${fmt.ms(r.total_ms)}.` : 'Nothing was sent to the client.'));
}

export async function render(root, route) {
  const back = h('a', { href: lastListHash, class: 'back' }, '← Requests');
  replace(root, back, h('h1', null, `Request ${route.param}`), h('p', { class: 'muted' }, 'Loading…'));
  let r;
  try {
    r = await api(`/api/requests/${enc(route.param)}`);
  } catch (e) {
    replace(root, back, h('h1', null, `Request ${route.param}`), message('error', errorText(e)));
    return null;
  }
  const sessionLink = r.session_key ? h('a', { href: `#/requests?session=${enc(r.session_key)}` }, r.session_key) : fmt.DASH;
  const keyLink = r.client_key ? h('a', { href: `#/requests?key=${enc(r.client_key)}` }, r.client_key) : fmt.DASH;
  const endpointLink = r.endpoint ? h('a', { href: `#/endpoints/${enc(r.endpoint)}` }, r.endpoint) : fmt.DASH;
  replace(root,
    back,
    h('div', { class: 'page-head' },
      h('h1', null, `Request ${r.id}`),
      h('div', { class: 'page-actions' }, statusBadge(r), r.error_class ? badge(r.error_class, 'bad') : badge('success', 'ok'))),
    h('p', { class: 'muted' }, `${r.method || ''} ${r.path || ''} · ${fmt.dateTime(r.ts)}${r.stream ? ' · streamed' : ''}`),
    h('div', { class: 'detail-grid' },
      h('section', { class: 'card', 'aria-labelledby': 'rq-timing' },
        h('h2', { id: 'rq-timing' }, 'Timing'),
        dl([['Time to first byte', fmt.ms(r.ttfb_ms)], ['Total', fmt.ms(r.total_ms)]]),
        timingBar(r)),
      h('section', { class: 'card', 'aria-labelledby': 'rq-tokens' },
        h('h2', { id: 'rq-tokens' }, 'Tokens and cost'),
        dl([
          ['Input', fmt.count(r.input_tokens)],
          ['Output', fmt.count(r.output_tokens)],
          ['Cache write', fmt.count(r.cache_creation_tokens)],
          ['Cache read', fmt.count(r.cache_read_tokens)],
          ['Cost', h('span', { title: r.cost_usd != null ? `$${r.cost_usd}` : '' }, fmt.cost(r.cost_usd))],
        ])),
      h('section', { class: 'card', 'aria-labelledby': 'rq-route' },
        h('h2', { id: 'rq-route' }, 'Routing'),
        dl([
          ['Endpoint', endpointLink],
          ['Model requested', r.model_requested || fmt.DASH],
          ['Model sent', r.model_sent || fmt.DASH],
          ['Client key', keyLink],
          ['Session', sessionLink],
          ['Request id', h('code', null, r.request_id || fmt.DASH)],
          ['Bytes in / out', `${fmt.bytes(r.bytes_in)} / ${fmt.bytes(r.bytes_out)}`],
        ]))),
    h('section', { class: 'section card', 'aria-labelledby': 'rq-attempts' },
      h('h2', { id: 'rq-attempts' }, `Attempts (${fmt.count(r.attempts)})`),
      waterfall(r)),
    h('div', { class: 'payloads' }, payloadBlock('Request', r.request_payload), payloadBlock('Response', r.response_payload)));
  return null;
}
