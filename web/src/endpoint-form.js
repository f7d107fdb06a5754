// The add/edit endpoint form, in a modal <dialog>. Validation is the server's: its message is
// shown as returned, next to the field it names.
import { h, field, message, replace, toast } from './dom.js';
import { api, errorText, ApiError, enc } from './api.js';
import { parseModelMap, formatModelMap } from './model-map.js';

const TIMEOUTS = [
  ['connect_timeout_ms', 'Connect timeout (ms)'],
  ['first_byte_timeout_ms', 'First-byte timeout (ms)'],
  ['idle_timeout_ms', 'Idle timeout (ms)'],
];

/** "12" -> 12; "" -> empty; anything else is sent as typed (the server names the problem). */
function intOrRaw(v, empty) {
  const t = v.trim();
  if (t === '') return empty;
  return /^-?\d+$/.test(t) ? Number(t) : t;
}

/**
 * Opens the form. `ep` = an EndpointJSON to edit, or null to add. Resolves with the saved
 * endpoint, or null when cancelled.
 */
export function openEndpointForm(ep) {
  return new Promise((resolve) => {
    const editing = !!ep;
    const e = ep || { kind: 'anthropic', auth: 'x-api-key', tier: 1, weight: 100, enabled: true, tls_verify: true, model_map: {}, tags: [] };
    const text = (name, value, attrs = {}) => h('input', { type: 'text', name, value: value ?? '', autocomplete: 'off', spellcheck: 'false', ...attrs });
    const select = (name, options, value) => h('select', { name }, options.map((o) => h('option', { value: o, selected: o === value }, o)));
    const check = (name, value) => h('input', { type: 'checkbox', name, checked: !!value });
    const f = {
      name: field('Name', text('name', e.name, { readOnly: editing, required: !editing, 'aria-readonly': editing ? 'true' : null }),
        { hint: editing ? 'Endpoints cannot be renamed.' : "Letters, digits, '.', '_' and '-'." }),
      base_url: field('Base URL', text('base_url', e.base_url, { inputmode: 'url', placeholder: 'https://api.anthropic.com', required: true })),
      api_key: field('API key', h('input', { type: 'password', name: 'api_key', value: e.api_key || '', autocomplete: 'off', spellcheck: 'false', required: !editing }),
        { hint: editing ? 'Shown masked. Leave it as is to keep the stored key.' : 'Stored encrypted; never shown again in full.' }),
      kind: field('Kind', select('kind', ['anthropic', 'openai'], e.kind)),
      auth: field('Auth header', select('auth', ['x-api-key', 'bearer', 'both'], e.auth)),
      tier: field('Tier', text('tier', e.tier, { inputmode: 'numeric' }), { hint: '1 (first choice) to 9' }),
      weight: field('Weight', text('weight', e.weight, { inputmode: 'numeric' }), { hint: '1 to 1000' }),
      enabled: field('Enabled', check('enabled', e.enabled)),
      tls_verify: field('Verify TLS certificates', check('tls_verify', e.tls_verify)),
      model_map: field('Model map', h('textarea', { name: 'model_map', rows: '3', spellcheck: 'false', placeholder: 'claude-3-5-haiku=claude-haiku-4-5' }, formatModelMap(e.model_map)),
        { hint: 'One requested=sent pair per line, or a JSON object.', wide: true }),
      tags: field('Tags', text('tags', (e.tags || []).join(', ')), { hint: 'Comma-separated.', wide: true }),
    };
    for (const [k, label] of TIMEOUTS) {
      f[k] = field(label, text(k, e[k] ?? '', { inputmode: 'numeric', placeholder: 'default' }));
    }
    const formMsg = h('div', { class: 'form-msg' });
    const save = h('button', { type: 'submit', class: 'btn primary' }, editing ? 'Save changes' : 'Add endpoint');
    const cancel = h('button', { type: 'button', class: 'btn' }, 'Cancel');
    const titleId = `epf-title`;
    const form = h('form', { class: 'form-grid', novalidate: true },
      formMsg,
      f.name, f.base_url, f.api_key, f.kind, f.auth, f.tier, f.weight,
      h('div', { class: 'field-row' }, f.enabled, f.tls_verify),
      f.model_map, f.tags,
      h('fieldset', { class: 'field-wide timeouts' }, h('legend', null, 'Timeouts (blank = global default)'),
        TIMEOUTS.map(([k]) => f[k])),
      h('div', { class: 'actions field-wide' }, cancel, save));
    const dlg = h('dialog', { class: 'dialog dialog-wide', 'aria-labelledby': titleId },
      h('h2', { id: titleId }, editing ? `Edit ${e.name}` : 'Add an endpoint'), form);
    let saved = null;
    cancel.addEventListener('click', () => dlg.close());
    dlg.addEventListener('close', () => {
      dlg.remove();
      resolve(saved);
    });

    const value = (k) => f[k].control.value;
    function collect() {
      const body = {
        name: value('name').trim(),
        base_url: value('base_url').trim(),
        api_key: value('api_key'),
        kind: value('kind'),
        auth: value('auth'),
        tier: intOrRaw(value('tier'), undefined),
        weight: intOrRaw(value('weight'), undefined),
        enabled: f.enabled.control.checked,
        tls_verify: f.tls_verify.control.checked,
        model_map: parseModelMap(value('model_map')),
        tags: value('tags').split(',').map((s) => s.trim()).filter(Boolean),
      };
      for (const [k] of TIMEOUTS) body[k] = intOrRaw(value(k), null);
      if (!editing) {
        for (const k of Object.keys(body)) if (body[k] === undefined || body[k] === null) delete body[k];
        return body;
      }
      // PATCH only what changed (the masked api_key unchanged = keep the stored one).
      const patch = {};
      for (const [k, v] of Object.entries(body)) {
        if (k === 'name' || v === undefined) continue;
        const before = ep[k] === undefined ? null : ep[k];
        if (JSON.stringify(v) !== JSON.stringify(before)) patch[k] = v;
      }
      return patch;
    }

    function showError(msgText) {
      replace(formMsg, message('error', msgText));
      const m = /^([a-z_]+):/.exec(msgText);
      const target = m && f[m[1]];
      if (target) {
        target.setError(msgText);
        target.control.focus();
      } else {
        formMsg.querySelector('p').tabIndex = -1;
        formMsg.querySelector('p').focus();
      }
    }

    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      Object.values(f).forEach((x) => x.setError(''));
      replace(formMsg);
      let body;
      try {
        body = collect();
      } catch (err) {
        showError(err.message);
        return;
      }
      if (editing && !Object.keys(body).length) {
        replace(formMsg, message('info', 'Nothing changed.'));
        return;
      }
      save.disabled = true;
      save.textContent = 'Saving…';
      try {
        saved = editing
          ? await api(`/api/endpoints/${enc(ep.name)}`, { method: 'PATCH', body })
          : await api('/api/endpoints', { method: 'POST', body });
        toast(editing ? `Saved ${saved.name}` : `Added ${saved.name}`);
        dlg.close();
      } catch (err) {
        showError(err instanceof ApiError ? err.message : errorText(err));
      } finally {
        save.disabled = false;
        save.textContent = editing ? 'Save changes' : 'Add endpoint';
      }
    });

    document.body.append(dlg);
    dlg.showModal();
    (editing ? f.base_url : f.name).control.focus();
  });
}
