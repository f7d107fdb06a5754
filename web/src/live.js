// The live event stream (/api/events, server-sent events): one EventSource for the whole app,
// reconnected with exponential backoff when the server goes away (restart, network), and a
// status indicator in the header. Pages subscribe with live.on('request' | 'state' | 'check' |
// 'reconnect', fn) and get an unsubscribe function back.
import { api, ApiError } from './api.js';

const EVENT_TYPES = ['request', 'state', 'check'];
const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000, 30000];

const listeners = new Map();
let source = null;
let running = false;
let attempt = 0;
let retryTimer = null;
let tickTimer = null;
let retryAt = 0;
let everOpened = false;
let indicator = null;
let status = 'off';
let unauthorized = () => {};

function emit(type, data) {
  const set = listeners.get(type);
  if (!set) return;
  for (const fn of [...set]) {
    try {
      fn(data);
    } catch (e) {
      // One page's bug must not stop the stream for the others.
      setTimeout(() => { throw e; });
    }
  }
}

export function on(type, fn) {
  if (!listeners.has(type)) listeners.set(type, new Set());
  listeners.get(type).add(fn);
  return () => listeners.get(type)?.delete(fn);
}

function setStatus(s) {
  status = s;
  renderIndicator();
  emit('status', s);
}

export function currentStatus() {
  return status;
}

function renderIndicator() {
  if (!indicator) return;
  const label = indicator.querySelector('.live-label');
  indicator.dataset.state = status;
  let text = 'Offline';
  let title = 'Live updates are off';
  if (status === 'live') {
    text = 'Live';
    title = 'Connected to the live event stream';
  } else if (status === 'connecting') {
    text = 'Connecting…';
    title = 'Connecting to the live event stream';
  } else if (status === 'retry') {
    const s = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
    text = `Reconnecting in ${s} s`;
    title = 'The live event stream was interrupted (server restart or network); retrying';
  }
  label.textContent = text;
  indicator.title = status === 'retry' ? `${title}. Click to reconnect now.` : title;
  // Only actionable (reconnect now) while waiting to retry.
  indicator.tabIndex = status === 'retry' ? 0 : -1;
  indicator.setAttribute('aria-disabled', String(status !== 'retry'));
}

/** The header element that shows the stream's state; a button that reconnects now when offline. */
export function mountIndicator(el) {
  indicator = el;
  el.addEventListener('click', () => {
    if (status === 'retry') reconnectNow();
  });
  renderIndicator();
}

export function setUnauthorizedHandler(fn) {
  unauthorized = fn;
}

function connect() {
  clearTimeout(retryTimer);
  clearInterval(tickTimer);
  if (!running) return;
  setStatus('connecting');
  const es = new EventSource('/api/events');
  source = es;
  es.onopen = () => {
    if (source !== es) return;
    const wasReconnect = everOpened;
    everOpened = true;
    attempt = 0;
    setStatus('live');
    // Events sent while we were away are lost: pages refresh what they show.
    if (wasReconnect) emit('reconnect', null);
  };
  for (const type of EVENT_TYPES) {
    es.addEventListener(type, (ev) => {
      if (source !== es) return;
      let data;
      try {
        data = JSON.parse(ev.data);
      } catch {
        return;
      }
      emit(type, data);
    });
  }
  es.onerror = () => {
    if (source !== es) return;
    // Take over from the browser's own retry so that the delay grows and the UI says so.
    es.close();
    source = null;
    scheduleRetry();
  };
}

async function scheduleRetry() {
  if (!running) return;
  // A stream refused because the session ended must lead back to the login form.
  try {
    await api('/api/session', { expect401: true });
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      stop();
      unauthorized();
      return;
    }
  }
  if (!running) return;
  const delay = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
  attempt += 1;
  retryAt = Date.now() + delay;
  setStatus('retry');
  clearInterval(tickTimer);
  tickTimer = setInterval(renderIndicator, 1000);
  retryTimer = setTimeout(connect, delay);
}

function reconnectNow() {
  clearTimeout(retryTimer);
  clearInterval(tickTimer);
  connect();
}

export function start() {
  if (running) return;
  running = true;
  attempt = 0;
  everOpened = false;
  connect();
}

export function stop() {
  running = false;
  clearTimeout(retryTimer);
  clearInterval(tickTimer);
  if (source) source.close();
  source = null;
  setStatus('off');
}
