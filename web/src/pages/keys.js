// Client keys: create (the key is shown once) with optional limits and budgets, list with each
// key's limits and spend, edit a key's limits, revoke.
import { h, replace, message, table, field, badge, confirmDialog, toast } from '../dom.js';
import * as fmt from '../format.js';
import { api, errorText, enc } from '../api.js';
import { pageHead } from '../components.js';
import * as kl from '../key-limits.js';

export const title = () => 'Keys';

/**
 * The four limit fields (prefilled from `limits`), in a fieldset: {node, fields, values(),
 * clearErrors()}. A blank field means no limit.
 */
function limitFields(limits, legend) {
  const fields = {};
  for (const f of kl.LIMIT_FIELDS) {
    const input = h('input', {
      type: 'text', name: f.key, value: kl.inputValue(limits?.[f.key]), autocomplete: 'off', spellcheck: 'false',
      inputmode: f.kind === 'usd' ? 'decimal' : 'numeric', placeholder: 'no limit',
    });
    fields[f.key] = field(f.label, input);
  }
  const node = h('fieldset', { class: 'limit-fields' }, h('legend', null, legend),
    h('div', { class: 'limit-grid' }, kl.LIMIT_FIELDS.map((f) => fields[f.key])),
    h('p', { class: 'hint' }, 'Blank: no limit. Tokens count input, cache writes and output; days and months are UTC. '
      + 'Over a rate limit a client is told to wait; once a budget is spent the key is refused until the next day or month.'));
  return {
    node,
    fields,
    values: () => Object.fromEntries(kl.LIMIT_FIELDS.map((f) => [f.key, fields[f.key].control.value])),
    clearErrors: () => Object.values(fields).forEach((x) => x.setError('')),
  };
}

/** The key's limits for the table, with this minute's usage in the tooltip. */
function limitsCell(k) {
  const text = kl.limitsText(k.limits);
  if (k.revoked || text === fmt.DASH) return h('span', { class: 'key-limits muted' }, text);
  const u = k.usage;
  const n = u ? u.requests_this_minute : 0;
  const minute = u ? `; this minute: ${fmt.count(n)} request${n === 1 ? '' : 's'}, ${fmt.count(u.tokens_this_minute)} tokens` : '';
  return h('span', { class: 'key-limits', title: `${kl.limitsTitle(k.limits)}${minute}` }, text);
}

/** "$1.23 today · $12.40 this month", or one line per period with its budget's share and bar. */
function spendCell(k) {
  const lines = kl.spendLines(k.usage, k.limits);
  if (!lines) return fmt.DASH;
  if (!lines.some((x) => x.budget !== null)) {
    return h('div', { class: 'spend', 'data-level': '' }, kl.spendText(k.usage));
  }
  const label = { today: 'daily', month: 'monthly' };
  return h('div', { class: 'spend', 'data-level': kl.worstLevel(lines) }, lines.map((x) => {
    if (x.budget === null) return h('div', { class: 'spend-line', 'data-period': x.period }, x.text);
    const pct = kl.shareText(x.share);
    const bar = h('span', {
      class: 'budget-bar', role: 'meter', 'aria-label': `Share of the ${label[x.period]} budget`,
      'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.round(Math.min(x.share, 1) * 100)),
      'aria-valuetext': `${pct} of ${x.budgetText}`,
    }, h('span', { class: 'budget-fill' }));
    bar.firstChild.style.width = `${Math.min(100, x.share * 100)}%`;
    const level = x.level === 'danger' ? 'budget spent' : x.level === 'warn' ? 'at least 80% of the budget' : '';
    return h('div', {
      class: ['spend-line', `budget-${x.level}`], 'data-period': x.period, 'data-level': x.level,
      title: `${fmt.cost(x.spent)} of ${kl.usd(x.budget)} (${pct})${level ? `: ${level}` : ''}`,
    }, h('span', { class: 'spend-amount' }, x.text), ' ', bar, ' ',
    h('span', { class: 'budget-share' }, `${pct} of ${x.budgetText}`));
  }));
}

/** Shows a server message next to the field it names; else in `fallback` (a field or a message box). */
function showError(text, fields, fallback) {
  const target = fields[kl.fieldOfMessage(text)];
  if (target) {
    target.setError(text);
    target.control.focus();
    return;
  }
  if (fallback.setError) {
    fallback.setError(text);
    fallback.control.focus();
    return;
  }
  replace(fallback, message('error', text));
  const p = fallback.querySelector('p');
  p.tabIndex = -1;
  p.focus();
}

/** The "Edit limits" dialog: resolves with the key's row after the PATCH, or null when cancelled. */
function editLimits(k) {
  return new Promise((resolve) => {
    const titleId = 'klim-title';
    const lim = limitFields(k.limits, 'Limits and budgets');
    const formMsg = h('div', { class: 'form-msg' });
    const save = h('button', { type: 'submit', class: 'btn primary' }, 'Save limits');
    const cancel = h('button', { type: 'button', class: 'btn' }, 'Cancel');
    const form = h('form', { class: 'key-form', novalidate: true }, formMsg, lim.node, h('div', { class: 'actions' }, cancel, save));
    const dlg = h('dialog', { class: 'dialog dialog-limits', 'aria-labelledby': titleId },
      h('h2', { id: titleId }, `Limits of ${k.name}`), form);
    let saved = null;
    cancel.addEventListener('click', () => dlg.close());
    dlg.addEventListener('close', () => {
      dlg.remove();
      resolve(saved);
    });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      lim.clearErrors();
      replace(formMsg);
      const limits = kl.patchLimits(lim.values(), k.limits);
      if (!Object.keys(limits).length) {
        replace(formMsg, message('info', 'Nothing changed.'));
        return;
      }
      save.disabled = true;
      try {
        saved = await api(`/api/keys/${enc(k.name)}`, { method: 'PATCH', body: { limits } });
        toast(`Saved the limits of ${k.name}`);
        dlg.close();
      } catch (e) {
        showError(errorText(e), lim.fields, formMsg);
      } finally {
        save.disabled = false;
      }
    });
    document.body.append(dlg);
    dlg.showModal();
    lim.fields[kl.LIMIT_FIELDS[0].key].control.focus();
  });
}

function newKeyPanel(created, onDone) {
  const keyInput = h('input', { type: 'text', readOnly: true, value: created.key, class: 'secret', id: 'new-key', 'aria-label': `New key for ${created.name}`, spellcheck: 'false' });
  const copyMsg = h('span', { class: 'copy-msg', role: 'status' });
  const copy = h('button', { type: 'button', class: 'btn primary' }, 'Copy');
  copy.addEventListener('click', async () => {
    try {
      if (!navigator.clipboard || !window.isSecureContext) throw new Error('clipboard unavailable');
      await navigator.clipboard.writeText(created.key);
      copyMsg.textContent = 'Copied to the clipboard.';
    } catch {
      keyInput.focus();
      keyInput.select();
      copyMsg.textContent = 'Could not copy automatically: the key is selected, press Ctrl+C (⌘C on a Mac).';
    }
  });
  keyInput.addEventListener('focus', () => keyInput.select());
  const done = h('button', { type: 'button', class: 'btn' }, 'Done, hide it');
  done.addEventListener('click', onDone);
  return h('section', { class: 'card new-key', 'aria-labelledby': 'new-key-title' },
    h('h2', { id: 'new-key-title' }, `New key “${created.name}”`),
    h('p', { class: 'warn-text' }, 'Copy it now: it is shown only this once (QCC keeps only its hash).'),
    h('div', { class: 'key-row' }, keyInput, copy, done), copyMsg,
    h('p', { class: 'hint' }, 'Use it as ANTHROPIC_AUTH_TOKEN (or x-api-key) with ANTHROPIC_BASE_URL pointing at this QCC.'));
}

export async function render(root) {
  const msg = h('div');
  const createdBox = h('div');
  const listBox = h('div');
  const nameIn = h('input', { type: 'text', name: 'name', autocomplete: 'off', spellcheck: 'false', placeholder: 'laptop', required: true });
  const nameField = field('Name', nameIn, { hint: "Letters, digits, '.', '_' and '-'." });
  const lim = limitFields(null, 'Limits and budgets (optional)');
  const createBtn = h('button', { type: 'submit', class: 'btn primary' }, 'Create key');
  const form = h('form', { class: 'key-form', novalidate: true, 'aria-label': 'Create a client key' },
    nameField, lim.node, h('div', { class: 'actions-left' }, createBtn));
  replace(root, pageHead('Client keys'),
    h('section', { class: 'card', 'aria-labelledby': 'create-key' }, h('h2', { id: 'create-key' }, 'Create a key'), form),
    createdBox, msg, listBox);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    nameField.setError('');
    lim.clearErrors();
    const name = nameIn.value.trim();
    if (!name) {
      nameField.setError('name: required');
      nameIn.focus();
      return;
    }
    const body = { name };
    const limits = kl.createLimits(lim.values());
    if (limits) body.limits = limits;
    createBtn.disabled = true;
    try {
      const created = await api('/api/keys', { method: 'POST', body });
      nameIn.value = '';
      Object.values(lim.fields).forEach((x) => { x.control.value = ''; });
      replace(createdBox, newKeyPanel(created, () => {
        replace(createdBox);
        nameIn.focus();
      }));
      createdBox.querySelector('#new-key').focus();
      load();
    } catch (e) {
      showError(errorText(e), { name: nameField, ...lim.fields }, nameField);
    } finally {
      createBtn.disabled = false;
    }
  });

  async function revoke(k, button) {
    const ok = await confirmDialog(`Revoke the key ${k.name} (${k.prefix}…)? Clients using it are refused at once.`, { confirmLabel: 'Revoke key', title: `Revoke ${k.name}?` });
    if (!ok) {
      button.focus();
      return;
    }
    try {
      await api(`/api/keys/${enc(k.name)}`, { method: 'DELETE' });
      toast(`Revoked ${k.name}`);
      await load();
    } catch (e) {
      toast(`Could not revoke ${k.name}: ${errorText(e)}`, 'error');
    }
  }

  async function edit(k, button) {
    const saved = await editLimits(k);
    if (!saved) {
      button.focus();
      return;
    }
    await load();
    const again = listBox.querySelector(`tr[data-key="${CSS.escape(k.name)}"][data-revoked="false"] button.edit-limits`);
    (again || button).focus();
  }

  function actions(k) {
    if (k.revoked) return fmt.DASH;
    const e = h('button', { type: 'button', class: 'btn btn-small edit-limits', 'aria-label': `Edit limits of ${k.name}` }, 'Edit limits');
    e.addEventListener('click', () => edit(k, e));
    const b = h('button', { type: 'button', class: 'btn btn-small danger', 'aria-label': `Revoke ${k.name}` }, 'Revoke');
    b.addEventListener('click', () => revoke(k, b));
    return h('div', { class: 'row-actions' }, e, b);
  }

  async function load() {
    try {
      const res = await api('/api/keys');
      const keys = (res.keys || []).slice().sort((a, b) => (a.revoked - b.revoked) || (b.created_at - a.created_at));
      replace(listBox, table([
        { label: 'Name', cell: (k) => h('a', { href: `#/requests?key=${enc(k.name)}`, title: 'Requests made with this key' }, k.name) },
        { label: 'Prefix', class: 'col-nowrap', cell: (k) => h('code', null, `${k.prefix}…`) },
        { label: 'Created', class: 'col-nowrap', cell: (k) => h('span', { title: fmt.dateTime(k.created_at) }, fmt.when(k.created_at)) },
        { label: 'Status', cell: (k) => (k.revoked ? badge('revoked', 'bad') : badge('active', 'ok')) },
        { label: 'Limits', class: 'col-limits', cell: limitsCell },
        { label: 'Spent', class: 'col-spend', cell: spendCell },
        { label: 'Actions', cell: actions },
      ], keys, { caption: 'Client keys', empty: 'No client keys.', rowAttrs: (k) => ({ 'data-key': k.name, 'data-revoked': String(!!k.revoked) }) }));
      replace(msg);
    } catch (e) {
      replace(msg, message('error', `Could not load keys: ${errorText(e)}`));
    }
  }
  await load();
  return null;
}
