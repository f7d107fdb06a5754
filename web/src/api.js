// Fetch wrapper for QCC's admin API: same origin, the session cookie (HttpOnly, set by
// /api/login) goes along by itself; JSON in and out; errors carry the server's message
// (the Anthropic-shaped body's error.message).
export class ApiError extends Error {
  constructor(status, message, { type = '', retryAfter = null } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.type = type;
    this.retryAfter = retryAfter;
  }
}

let unauthorizedHandler = null;
/** Called on any 401 (except where the caller expects it): the app shows the login form. */
export function onUnauthorized(fn) {
  unauthorizedHandler = fn;
}

function buildUrl(path, query) {
  const params = new URLSearchParams();
  if (query) {
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined || v === null || v === '' || v === false) continue;
      if (Array.isArray(v)) v.forEach((x) => params.append(k, String(x)));
      else params.append(k, v === true ? '1' : String(v));
    }
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/**
 * api('/api/status'), api('/api/endpoints', {method: 'POST', body: {...}}),
 * api('/api/requests', {query: {limit: 50}}). `expect401: true` leaves a 401 to the caller.
 */
export async function api(path, { method = 'GET', body, query, signal, expect401 = false } = {}) {
  const headers = { accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store', signal };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(buildUrl(path, query), init);
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'Cannot reach QCC (network error). Is the server running?');
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (res.ok) return data ?? {};
  const err = data && data.error ? data.error : null;
  const retry = res.headers.get('retry-after');
  const message = (err && err.message) || `${res.status} ${res.statusText || 'error'}`.trim();
  const apiErr = new ApiError(res.status, message, {
    type: err ? err.type : '',
    retryAfter: retry !== null && retry !== '' && Number.isFinite(Number(retry)) ? Number(retry) : null,
  });
  if (res.status === 401 && !expect401 && unauthorizedHandler) unauthorizedHandler(apiErr);
  throw apiErr;
}

/** The message to show for any error thrown by api(). */
export function errorText(e) {
  if (!e) return 'Unknown error';
  if (e instanceof ApiError) return e.message;
  return e.message || String(e);
}

export const enc = encodeURIComponent;
