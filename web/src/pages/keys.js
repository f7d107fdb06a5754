// Client keys: create (the key is shown once), list, revoke.
import { h, replace, message, table, field, badge, confirmDialog, toast } from '../dom.js';
import * as fmt from '../format.js';
import { api, errorText, enc } from '../api.js';
import { pageHead } from '../components.js';

export const title = () => 'Keys';

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
  const createBtn = h('button', { type: 'submit', class: 'btn primary' }, 'Create key');
  const form = h('form', { class: 'inline-form', novalidate: true, 'aria-label': 'Create a client key' }, nameField, createBtn);
  replace(root, pageHead('Client keys'),
    h('section', { class: 'card', 'aria-labelledby': 'create-key' }, h('h2', { id: 'create-key' }, 'Create a key'), form),
    createdBox, msg, listBox);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    nameField.setError('');
    const name = nameIn.value.trim();
    if (!name) {
      nameField.setError('name: required');
      nameIn.focus();
      return;
    }
    createBtn.disabled = true;
    try {
      const created = await api('/api/keys', { method: 'POST', body: { name } });
      nameIn.value = '';
      replace(createdBox, newKeyPanel(created, () => {
        replace(createdBox);
        nameIn.focus();
      }));
      createdBox.querySelector('#new-key').focus();
      load();
    } catch (e) {
      nameField.setError(errorText(e));
      nameIn.focus();
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

  async function load() {
    try {
      const res = await api('/api/keys');
      const keys = (res.keys || []).slice().sort((a, b) => (a.revoked - b.revoked) || (b.created_at - a.created_at));
      replace(listBox, table([
        { label: 'Name', cell: (k) => h('a', { href: `#/requests?key=${enc(k.name)}`, title: 'Requests made with this key' }, k.name) },
        { label: 'Prefix', cell: (k) => h('code', null, `${k.prefix}…`) },
        { label: 'Created', cell: (k) => h('span', { title: fmt.dateTime(k.created_at) }, fmt.when(k.created_at)) },
        { label: 'Status', cell: (k) => (k.revoked ? badge('revoked', 'bad') : badge('active', 'ok')) },
        {
          label: 'Actions',
          cell: (k) => {
            if (k.revoked) return fmt.DASH;
            const b = h('button', { type: 'button', class: 'btn btn-small danger', 'aria-label': `Revoke ${k.name}` }, 'Revoke');
            b.addEventListener('click', () => revoke(k, b));
            return b;
          },
        },
      ], keys, { caption: 'Client keys', empty: 'No client keys.', rowAttrs: (k) => ({ 'data-key': k.name, 'data-revoked': String(!!k.revoked) }) }));
      replace(msg);
    } catch (e) {
      replace(msg, message('error', `Could not load keys: ${errorText(e)}`));
    }
  }
  await load();
  return null;
}
