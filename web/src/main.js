// QCC dashboard: login, app shell, hash router.
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { api, onUnauthorized, errorText, ApiError } from './api.js';
import * as live from './live.js';
import { h, replace, clear, message } from './dom.js';
import { parseHash } from './router.js';
import * as overview from './pages/overview.js';
import * as requests from './pages/requests.js';
import * as requestDetail from './pages/request.js';
import * as endpoints from './pages/endpoints.js';
import * as endpointDetail from './pages/endpoint.js';
import * as sessions from './pages/sessions.js';
import * as keys from './pages/keys.js';
import * as settings from './pages/settings.js';

const NAV = [
  ['overview', 'Overview'],
  ['requests', 'Requests'],
  ['endpoints', 'Endpoints'],
  ['sessions', 'Sessions'],
  ['keys', 'Keys'],
  ['settings', 'Settings'],
];

const app = document.getElementById('app');
let shell = null; // {main, nav}
let cleanup = null;
let routeSeq = 0;
let lastRoute = '';

function resolve(route) {
  switch (route.page) {
    case 'overview': return overview;
    case 'requests': return route.param ? requestDetail : requests;
    case 'endpoints': return route.param ? endpointDetail : endpoints;
    case 'sessions': return sessions;
    case 'keys': return keys;
    case 'settings': return settings;
    default: return null;
  }
}

function runCleanup() {
  if (cleanup) {
    try {
      cleanup();
    } catch (e) {
      console.error(e);
    }
  }
  cleanup = null;
}

async function route({ focus: wantFocus = false } = {}) {
  let focus = wantFocus;
  if (!shell) return;
  const r = parseHash();
  const mod = resolve(r);
  if (!mod) {
    location.replace('#/overview');
    return;
  }
  runCleanup();
  const seq = ++routeSeq;
  // Focus moves to the new page's heading, not when only the query changed (e.g. filters).
  const routeKey = `${r.page}/${r.param || ''}`;
  if (routeKey === lastRoute) focus = false;
  lastRoute = routeKey;
  for (const a of shell.nav.querySelectorAll('a')) {
    if (a.dataset.page === r.page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const container = h('div', { class: 'page' });
  replace(shell.main, container);
  document.title = `${mod.title ? mod.title(r) : r.page} · QCC`;
  try {
    const c = await mod.render(container, r);
    if (seq !== routeSeq) {
      if (typeof c === 'function') c();
      return;
    }
    cleanup = typeof c === 'function' ? c : null;
  } catch (e) {
    if (seq !== routeSeq) return;
    if (e instanceof ApiError && e.status === 401) return;
    container.append(message('error', `Could not load this page: ${errorText(e)}`));
  }
  if (focus && seq === routeSeq) {
    const heading = container.querySelector('h1');
    if (heading) {
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
    }
  }
}

function showApp() {
  app.removeAttribute('aria-busy');
  const nav = h('nav', { class: 'nav', 'aria-label': 'Main' },
    h('ul', null, NAV.map(([page, label]) => h('li', null, h('a', { href: `#/${page}`, 'data-page': page }, label)))));
  const indicator = h('button', { type: 'button', class: 'live', 'data-state': 'off', 'aria-live': 'polite' },
    h('span', { class: 'live-dot', 'aria-hidden': 'true' }), h('span', { class: 'live-label' }, 'Offline'));
  const logout = h('button', { type: 'button', class: 'btn btn-quiet', id: 'logout' }, 'Log out');
  logout.addEventListener('click', async () => {
    logout.disabled = true;
    try {
      await api('/api/logout', { method: 'POST', expect401: true });
    } catch {
      // The session is gone either way: show the login form.
    }
    showLogin();
  });
  const header = h('header', { class: 'topbar' },
    h('a', { class: 'brand', href: '#/overview' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'Q'), h('span', null, 'QCC')),
    nav, h('div', { class: 'topbar-right' }, indicator, logout));
  const main = h('main', { id: 'main', tabindex: '-1' });
  replace(app, header, main);
  shell = { main, nav };
  live.mountIndicator(indicator);
  live.start();
  route();
}

function showLogin(notice) {
  runCleanup();
  live.stop();
  shell = null;
  app.removeAttribute('aria-busy');
  document.title = 'Sign in · QCC';
  const input = h('input', {
    type: 'password', id: 'token', name: 'token', autocomplete: 'current-password', required: true,
    spellcheck: 'false', 'aria-describedby': 'login-msg token-hint',
  });
  const submit = h('button', { type: 'submit', class: 'btn primary' }, 'Sign in');
  const msg = h('div', { id: 'login-msg', class: 'login-msg' });
  if (notice) msg.append(message('info', notice));
  let lockTimer = null;
  const form = h('form', { class: 'login-form', novalidate: true },
    h('div', { class: 'login-brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'Q'), h('h1', null, 'QCC dashboard')),
    h('label', { for: 'token' }, 'Admin token'),
    input,
    h('p', { class: 'hint', id: 'token-hint' }, 'The admin_token of the config, QCC_ADMIN_TOKEN, or the contents of ~/.qcc/admin.token.'),
    msg,
    submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const token = input.value.trim();
    if (!token) {
      replace(msg, message('error', 'Enter the admin token.'));
      input.focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    clear(msg);
    try {
      await api('/api/login', { method: 'POST', body: { token }, expect401: true });
      input.value = '';
      showApp();
      return;
    } catch (e) {
      if (e instanceof ApiError && e.status === 429) {
        let left = e.retryAfter ?? 60;
        const line = message('error', '');
        replace(msg, line);
        const tick = () => {
          line.textContent = `Too many attempts, try again in ${left} s.`;
          if (left <= 0) {
            clearInterval(lockTimer);
            replace(msg);
            submit.disabled = false;
            submit.textContent = 'Sign in';
          }
          left -= 1;
        };
        clearInterval(lockTimer);
        tick();
        lockTimer = setInterval(tick, 1000);
        submit.textContent = 'Sign in';
        return;
      }
      replace(msg, message('error', e instanceof ApiError && e.status === 401 ? errorText(e) : `Sign-in failed: ${errorText(e)}`));
      input.select();
    }
    submit.disabled = false;
    submit.textContent = 'Sign in';
    input.focus();
  });
  replace(app, h('main', { id: 'main', class: 'login' }, form));
  input.focus();
}

onUnauthorized(() => {
  if (shell) showLogin('Your session has ended. Sign in again.');
});
live.setUnauthorizedHandler(() => {
  if (shell) showLogin('Your session has ended. Sign in again.');
});

window.addEventListener('hashchange', () => route({ focus: true }));

document.querySelector('.skip-link')?.addEventListener('click', (ev) => {
  ev.preventDefault();
  const main = document.getElementById('main');
  if (main) main.focus();
});

async function boot() {
  try {
    await api('/api/session', { expect401: true });
    showApp();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) showLogin();
    else {
      showLogin();
      const msg = document.getElementById('login-msg');
      if (msg) replace(msg, message('error', `Cannot check the session: ${errorText(e)}`));
    }
  }
}

boot();
