// Endpoints: the list, add/edit/enable/disable/delete, health checks.
import { h, replace, message, table, badge, confirmDialog, toast } from '../dom.js';
import * as fmt from '../format.js';
import { api, errorText, enc } from '../api.js';
import * as live from '../live.js';
import { pageHead, stateLines, runHealthCheck, throttle, tickCountdowns, weightText } from '../components.js';
import { openEndpointForm } from '../endpoint-form.js';

export const title = () => 'Endpoints';

/** Enable/disable/delete/release helpers shared with the detail page. */
export async function setEnabled(ep, enabled) {
  try {
    await api(`/api/endpoints/${enc(ep.name)}/${enabled ? 'enable' : 'disable'}`, { method: 'POST' });
    toast(`${enabled ? 'Enabled' : 'Disabled'} ${ep.name}`);
    return true;
  } catch (e) {
    toast(`Could not ${enabled ? 'enable' : 'disable'} ${ep.name}: ${errorText(e)}`, 'error');
    return false;
  }
}

export async function deleteEndpoint(ep) {
  const ok = await confirmDialog(`Delete the endpoint ${ep.name}? Requests stop going to it at once. Its request history stays in the log.`, { confirmLabel: 'Delete endpoint', title: `Delete ${ep.name}?` });
  if (!ok) return false;
  try {
    await api(`/api/endpoints/${enc(ep.name)}`, { method: 'DELETE' });
    toast(`Deleted ${ep.name}`);
    return true;
  } catch (e) {
    toast(`Could not delete ${ep.name}: ${errorText(e)}`, 'error');
    return false;
  }
}

export async function release(name) {
  try {
    const r = await api(`/api/endpoints/${enc(name)}/release`, { method: 'POST' });
    toast(r.released ? `Released ${name}` : `${name} was not quarantined; breaker and cooldown reset`);
    return true;
  } catch (e) {
    toast(`Could not release ${name}: ${errorText(e)}`, 'error');
    return false;
  }
}

export async function render(root) {
  const disposers = [];
  const msg = h('div');
  const checks = h('div', { class: 'check-results', 'aria-live': 'polite' });
  const add = h('button', { type: 'button', class: 'btn primary', id: 'add-endpoint' }, 'Add endpoint');
  const listBox = h('div');
  replace(root, pageHead('Endpoints', add), msg, checks, listBox);

  let fetchedAt = 0;
  let seq = 0;
  async function load() {
    const s = ++seq;
    try {
      const res = await api('/api/endpoints');
      if (s !== seq) return;
      fetchedAt = performance.now();
      replace(msg);
      draw(res.endpoints || []);
    } catch (e) {
      if (s !== seq) return;
      replace(msg, message('error', `Could not load endpoints: ${errorText(e)}`));
    }
  }

  function checkSlot(name) {
    let slot = checks.querySelector(`[data-check="${CSS.escape(name)}"]`);
    if (!slot) {
      slot = h('div', { class: 'check-slot card', 'data-check': name },
        h('div', { class: 'check-slot-head' }, h('strong', null, `Health check: ${name}`),
          h('button', { type: 'button', class: 'btn btn-small btn-quiet', 'aria-label': `Dismiss the health check of ${name}`, onclick: () => slot.remove() }, 'Dismiss')),
        h('div', { class: 'check-out' }));
      checks.append(slot);
    }
    return slot.querySelector('.check-out');
  }

  function actions(ep) {
    const st = ep.state || {};
    const edit = h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Edit ${ep.name}` }, 'Edit');
    edit.addEventListener('click', async () => {
      if (await openEndpointForm(ep)) load();
      else edit.focus();
    });
    const toggle = h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `${ep.enabled ? 'Disable' : 'Enable'} ${ep.name}`, 'data-action': ep.enabled ? 'disable' : 'enable' }, ep.enabled ? 'Disable' : 'Enable');
    toggle.addEventListener('click', async () => {
      toggle.disabled = true;
      await setEnabled(ep, !ep.enabled);
      await load();
    });
    const check = h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Run a health check of ${ep.name}`, 'data-action': 'check' }, 'Check');
    check.addEventListener('click', () => runHealthCheck(ep.name, checkSlot(ep.name), check));
    const rel = st.quarantined
      ? h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Release ${ep.name} from quarantine`, onclick: async () => { await release(ep.name); load(); } }, 'Release')
      : null;
    const del = h('button', { type: 'button', class: 'btn btn-small danger', 'aria-label': `Delete ${ep.name}`, 'data-action': 'delete' }, 'Delete');
    del.addEventListener('click', async () => {
      if (await deleteEndpoint(ep)) load();
      else del.focus();
    });
    return h('div', { class: 'row-actions' }, edit, toggle, check, rel, del);
  }

  function draw(eps) {
    const tbl = table([
      { label: 'Name', cell: (ep) => h('span', null, h('a', { href: `#/endpoints/${enc(ep.name)}`, class: 'strong' }, ep.name), ' ', badge(ep.kind || '—'), ep.state?.cuts_streams ? [' ', badge('cuts streams', 'warn')] : null) },
      { label: 'State', cell: (ep) => (ep.state ? h('div', { class: 'states' }, stateLines(ep.state, fetchedAt)) : (ep.enabled ? badge('not loaded', 'warn') : badge('disabled'))) },
      { label: 'Tier', class: 'num', cell: (ep) => fmt.count(ep.tier) },
      { label: 'Weight', class: 'num', cell: (ep) => (ep.state ? weightText({ ...ep.state, weight: ep.weight }) : fmt.count(ep.weight)) },
      { label: 'Success', class: 'num', cell: (ep) => (ep.state ? fmt.pct(ep.state.success_ratio) : fmt.DASH) },
      { label: 'Base URL', cell: (ep) => h('code', { class: 'url' }, ep.base_url) },
      { label: 'Tags', cell: (ep) => ((ep.tags || []).length ? (ep.tags || []).map((t) => badge(t)) : fmt.DASH) },
      { label: 'Actions', cell: actions },
    ], eps, {
      caption: 'Endpoints',
      empty: 'No endpoints yet. Add the upstreams QCC should forward to.',
      rowAttrs: (ep) => ({ 'data-endpoint': ep.name, 'data-enabled': String(!!ep.enabled) }),
    });
    replace(listBox, tbl);
  }

  add.addEventListener('click', async () => {
    const saved = await openEndpointForm(null);
    if (saved) await load();
    add.focus();
  });

  const refresh = throttle(load, { delayMs: 300, minGapMs: 1500 });
  disposers.push(refresh.cancel,
    live.on('state', refresh), live.on('check', refresh), live.on('reconnect', refresh));
  const tick = setInterval(() => {
    if (tickCountdowns(listBox)) refresh();
  }, 1000);
  disposers.push(() => clearInterval(tick));
  await load();
  return () => disposers.forEach((d) => d());
}
