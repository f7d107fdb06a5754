// Sessions: Claude Code sessions bound to an endpoint (affinity), most recent first.
import { h, replace, message, table } from '../dom.js';
import * as fmt from '../format.js';
import { api, errorText, enc } from '../api.js';
import * as live from '../live.js';
import { pageHead, throttle, dash } from '../components.js';

export const title = () => 'Sessions';

export async function render(root) {
  const disposers = [];
  const msg = h('div');
  const summary = h('p', { class: 'muted summary' });
  const listBox = h('div');
  const refreshBtn = h('button', { type: 'button', class: 'btn' }, 'Refresh');
  replace(root, pageHead('Sessions', refreshBtn),
    h('p', { class: 'hint' }, 'Each Claude Code session stays on one endpoint while it is healthy, so its prompt cache keeps working. A re-pin moves it elsewhere.'),
    msg, summary, listBox);

  async function load() {
    refreshBtn.disabled = true;
    try {
      const [res, eps] = await Promise.all([
        api('/api/sessions', { query: { limit: 500 } }),
        api('/api/endpoints').catch(() => ({ endpoints: [] })),
      ]);
      // A binding names its endpoint (by name, or by id for bindings restored at start-up).
      const names = new Set();
      const byId = new Map();
      for (const e of eps.endpoints || []) {
        names.add(e.name);
        if (e.id) byId.set(e.id, e.name);
      }
      const endpointCell = (v) => {
        if (!v) return fmt.DASH;
        const name = names.has(v) ? v : byId.get(v);
        return name ? h('a', { href: `#/endpoints/${enc(name)}` }, name) : h('span', { title: 'not a current endpoint' }, v);
      };
      const now = Date.now();
      const rows = res.sessions || [];
      summary.textContent = `${fmt.count(res.count ?? rows.length)} session${(res.count ?? rows.length) === 1 ? '' : 's'} bound · ${fmt.count(res.repins ?? 0)} re-pin${res.repins === 1 ? '' : 's'} since start${rows.length < (res.count ?? 0) ? ` · showing the ${fmt.count(rows.length)} most recent` : ''}`;
      const tokensOf = (s) => (fmt.missing(s.input_tokens) && fmt.missing(s.output_tokens) ? null : (s.input_tokens || 0) + (s.output_tokens || 0));
      replace(listBox, table([
        { label: 'Session', cell: (s) => h('a', { href: `#/requests?session=${enc(s.session)}`, title: 'Requests of this session' }, h('code', null, s.session)) },
        { label: 'Endpoint', cell: (s) => endpointCell(s.endpoint) },
        { label: 'Last used', cell: (s) => h('span', { title: fmt.dateTime(s.last_used) }, fmt.ago(s.last_used, now)) },
        { label: 'Age', class: 'num', cell: (s) => (fmt.missing(s.first_seen) ? fmt.DASH : h('span', { title: `since ${fmt.dateTime(s.first_seen)}` }, fmt.duration(now - s.first_seen))) },
        { label: 'Requests', class: 'num', cell: (s) => dash(s.requests, fmt.count) },
        { label: 'Tokens', class: 'num', cell: (s) => (tokensOf(s) === null ? fmt.DASH : h('span', { title: `${fmt.count(s.input_tokens)} in, ${fmt.count(s.output_tokens)} out` }, fmt.tokens(tokensOf(s)))) },
        { label: 'Cost', class: 'num', cell: (s) => dash(s.cost_usd, fmt.cost) },
        { label: 'Re-pins', class: 'num', cell: (s) => dash(s.repins, fmt.count) },
      ], rows, { caption: 'Sessions', empty: 'No sessions yet: Claude Code sends a session id with each request; requests without one are not pinned.' }));
      replace(msg);
    } catch (e) {
      replace(msg, message('error', `Could not load sessions: ${errorText(e)}`));
    } finally {
      refreshBtn.disabled = false;
    }
  }
  refreshBtn.addEventListener('click', load);
  // New sessions show up with the requests that open them (re-fetched at most every 5 s).
  const refresh = throttle(load, { delayMs: 2000, minGapMs: 5000 });
  disposers.push(refresh.cancel, live.on('request', (r) => { if (r.session_key) refresh(); }), live.on('reconnect', refresh));
  await load();
  return () => disposers.forEach((d) => d());
}
