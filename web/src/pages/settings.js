// Runtime settings: every key with its value, default and description, editable inline.
import { h, replace, message, toast, id as uid } from '../dom.js';
import { api, errorText, enc } from '../api.js';
import { pageHead } from '../components.js';

export const title = () => 'Settings';

function choicesOf(s) {
  if (s.kind === 'bool') return ['true', 'false'];
  // "weighted | round-robin | least-inflight", "…: off | errors | all": the description ends
  // with the choices.
  const m = /(?:^|:\s*)([\w-]+(?: \| [\w-]+)+)\s*$/.exec((s.description || '').trim());
  if (m) return m[1].split('|').map((x) => x.trim());
  return null;
}

function capitalize(t) {
  return t ? t[0].toUpperCase() + t.slice(1) : t;
}

function settingRow(s, onSaved) {
  const inputId = `set-${s.key.replace(/[^\w-]/g, '_')}`;
  const errId = `${inputId}-err`;
  const descId = `${inputId}-desc`;
  const choices = choicesOf(s);
  let control;
  if (choices) {
    control = h('select', { id: inputId, name: s.key }, choices.map((c) => h('option', { value: c, selected: c === s.value }, c)));
    if (!choices.includes(s.value)) control.prepend(h('option', { value: s.value, selected: true }, s.value));
  } else {
    control = h('input', { type: 'text', id: inputId, name: s.key, value: s.value, autocomplete: 'off', spellcheck: 'false' });
  }
  control.setAttribute('aria-describedby', `${descId} ${errId}`);
  const err = h('p', { class: 'field-error', id: errId, hidden: true, role: 'alert' });
  const save = h('button', { type: 'submit', class: 'btn btn-small primary', disabled: true }, 'Save');
  const reset = s.set && s.value !== s.default
    ? h('button', { type: 'button', class: 'btn btn-small', title: `Set back to the default, ${s.default}` }, 'Reset to default')
    : null;
  const form = h('form', { class: ['setting', s.set && 'setting-set'], 'data-key': s.key, novalidate: true },
    h('div', { class: 'setting-text' },
      h('label', { for: inputId }, h('code', null, s.key)),
      h('p', { class: 'hint', id: descId }, capitalize(s.description || ''),
        h('span', { class: 'setting-default' }, `Default: ${s.default} · ${s.kind}${s.set ? ' · set' : ''}`))),
    h('div', { class: 'setting-edit' }, control, save, reset, err));
  const dirty = () => {
    save.disabled = control.value === s.value;
  };
  control.addEventListener('input', dirty);
  control.addEventListener('change', dirty);
  const showError = (text) => {
    err.textContent = text || '';
    err.hidden = !text;
    if (text) control.setAttribute('aria-invalid', 'true');
    else control.removeAttribute('aria-invalid');
  };
  async function put(value) {
    showError('');
    save.disabled = true;
    try {
      const row = await api(`/api/settings/${enc(s.key)}`, { method: 'PUT', body: { value } });
      toast(`${s.key} = ${row.value}`);
      onSaved(row, form);
    } catch (e) {
      showError(errorText(e));
      save.disabled = false;
      control.focus();
    }
  }
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    put(control.value.trim());
  });
  if (reset) reset.addEventListener('click', () => put(s.default));
  return form;
}

export async function render(root) {
  const msg = h('div');
  const list = h('div', { class: 'settings' });
  const filter = h('input', { type: 'search', id: uid('filter'), placeholder: 'Filter settings', 'aria-label': 'Filter settings', autocomplete: 'off' });
  replace(root, pageHead('Settings', filter),
    h('p', { class: 'hint' }, 'Runtime settings apply at once to this QCC (and to others sharing its store within a second). Durations take units: 500ms, 10s, 5m, 1h.'),
    msg, list);

  let rows = [];
  function draw() {
    const q = filter.value.trim().toLowerCase();
    const groups = new Map();
    for (const s of rows) {
      if (q && !s.key.toLowerCase().includes(q) && !(s.description || '').toLowerCase().includes(q)) continue;
      const g = s.key.includes('.') ? s.key.slice(0, s.key.indexOf('.')) : 'general';
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g).push(s);
    }
    const onSaved = (row, form) => {
      const i = rows.findIndex((r) => r.key === row.key);
      if (i >= 0) rows[i] = row;
      const fresh = settingRow(row, onSaved);
      form.replaceWith(fresh);
      fresh.querySelector('input, select').focus();
    };
    replace(list, groups.size ? [...groups].map(([g, items]) => h('section', { class: 'card settings-group', 'aria-labelledby': `sg-${g}` },
      h('h2', { id: `sg-${g}` }, g), items.map((s) => settingRow(s, onSaved)))) : h('p', { class: 'empty' }, 'No setting matches.'));
  }
  filter.addEventListener('input', draw);
  try {
    const res = await api('/api/settings');
    rows = res.settings || [];
    draw();
  } catch (e) {
    replace(msg, message('error', `Could not load settings: ${errorText(e)}`));
  }
  return null;
}
