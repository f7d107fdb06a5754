// A tiny DOM builder: h('button', {class: 'x', onclick: fn}, 'text', child...). Text is always
// set as text (never parsed as HTML), so data from the server cannot inject markup.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') {
        el.addEventListener(k.slice(2), v);
      } else if (k === 'class') {
        el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
      } else if (k === 'dataset') {
        Object.assign(el.dataset, v);
      } else if (k === 'value' || k === 'checked' || k === 'selected' || k === 'disabled' || k === 'readOnly') {
        el[k] = v;
      } else if (v === true) {
        el.setAttribute(k, '');
      } else {
        el.setAttribute(k, String(v));
      }
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export function replace(el, ...children) {
  clear(el);
  return append(el, children);
}

let uid = 0;
export function id(prefix = 'f') {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** A labelled form field: label, control, hint and an error slot wired with aria-describedby. */
export function field(labelText, control, { hint, wide } = {}) {
  if (!control.id) control.id = id('field');
  const err = h('p', { class: 'field-error', id: `${control.id}-err`, hidden: true });
  const describedBy = [err.id];
  let hintEl = null;
  if (hint) {
    hintEl = h('p', { class: 'hint', id: `${control.id}-hint` }, hint);
    describedBy.push(hintEl.id);
  }
  control.setAttribute('aria-describedby', describedBy.join(' '));
  const isCheck = control.type === 'checkbox';
  const wrap = h('div', { class: ['field', isCheck && 'field-check', wide && 'field-wide'] },
    isCheck ? [control, h('label', { for: control.id }, labelText)] : [h('label', { for: control.id }, labelText), control],
    hintEl, err);
  wrap.control = control;
  wrap.setError = (msg) => {
    err.textContent = msg || '';
    err.hidden = !msg;
    if (msg) control.setAttribute('aria-invalid', 'true');
    else control.removeAttribute('aria-invalid');
  };
  return wrap;
}

/** An inline status message (role=alert for errors, role=status otherwise). */
export function message(kind, text) {
  return h('p', { class: ['msg', `msg-${kind}`], role: kind === 'error' ? 'alert' : 'status' }, text);
}

/** Table helper: columns [{label, cell(row) -> node|string, class}] */
export function table(columns, rows, { caption, rowAttrs, empty = 'Nothing here yet.' } = {}) {
  const thead = h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col', class: c.class }, c.label))));
  const tbody = h('tbody');
  const t = h('table', { class: 'data' }, caption ? h('caption', { class: 'sr-only' }, caption) : null, thead, tbody);
  const add = (row, where = 'end') => {
    const tr = h('tr', rowAttrs ? rowAttrs(row) : null, columns.map((c) => h('td', { class: c.class, 'data-label': c.label }, c.cell(row))));
    if (where === 'start') tbody.prepend(tr);
    else tbody.append(tr);
    return tr;
  };
  for (const r of rows) add(r);
  const wrap = h('div', { class: 'table-wrap' }, t);
  const emptyEl = h('p', { class: 'empty' }, empty);
  const syncEmpty = () => { emptyEl.hidden = tbody.children.length > 0; t.hidden = tbody.children.length === 0; };
  syncEmpty();
  const outer = h('div', { class: 'table-outer' }, wrap, emptyEl);
  outer.tbody = tbody;
  outer.add = (row, where) => { const tr = add(row, where); syncEmpty(); return tr; };
  outer.syncEmpty = syncEmpty;
  return outer;
}

/** A confirmation dialog (native <dialog>): resolves true when confirmed. */
export function confirmDialog(text, { confirmLabel = 'Confirm', danger = true, title = 'Are you sure?' } = {}) {
  return new Promise((resolve) => {
    const titleId = id('dlg');
    const ok = h('button', { type: 'button', class: danger ? 'btn danger' : 'btn primary', value: 'ok' }, confirmLabel);
    const cancel = h('button', { type: 'button', class: 'btn', value: 'cancel' }, 'Cancel');
    const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': titleId },
      h('h2', { id: titleId }, title), h('p', null, text), h('div', { class: 'actions' }, cancel, ok));
    let result = false;
    ok.addEventListener('click', () => { result = true; dlg.close(); });
    cancel.addEventListener('click', () => dlg.close());
    dlg.addEventListener('close', () => { dlg.remove(); resolve(result); });
    document.body.append(dlg);
    dlg.showModal();
    cancel.focus();
  });
}

/** Announce a short message in the page's live region (and show it as a toast). */
export function toast(text, kind = 'ok') {
  const region = document.getElementById('toasts');
  if (!region) return;
  const t = h('div', { class: ['toast', `toast-${kind}`] }, text);
  region.append(t);
  setTimeout(() => t.remove(), kind === 'error' ? 8000 : 4000);
}

/** A badge/pill. */
export function badge(text, kind = '') {
  return h('span', { class: ['badge', kind && `badge-${kind}`] }, text);
}

/** Definition list from [[term, value], …]; values may be nodes. */
export function dl(pairs, cls) {
  return h('dl', { class: ['kv', cls] }, pairs.filter(Boolean).map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
}
